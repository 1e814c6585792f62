-- Reads a page of a tenant's batches (or every tenant's), newest first (created-at, then id, descending), from a position, scanning at
-- most a budget of entries so that a selective filter never blocks Redis for long (as list.lua does for jobs).
-- KEYS[1] the tenant's batch listing, or every tenant's (zset id → created-at µs)
-- ARGV[1] a batch hash's key without its id  ARGV[2] position created-at ('' for the newest)  ARGV[3] position id
-- ARGV[4] matches wanted  ARGV[5] scan budget  ARGV[6] state filter ('')  ARGV[7] '1': workflows only
-- Returns {exhausted (1 when the listing has nothing older), last scanned created-at, last scanned id,
-- then one {id, the batch hash as field/value pairs} per match}.
local prefix, position_score, position_id = ARGV[1], ARGV[2], ARGV[3]
local want, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local state_filter, workflows_only = ARGV[6], ARGV[7] == '1'
local function ordinal_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local max = '+inf'
if position_score ~= '' then max = position_score end
local out = { 0, position_score, position_id }
local matches, scanned, offset, chunk = 0, 0, 0, 200
while true do
  local entries = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES', 'LIMIT', offset, chunk)
  for i = 1, #entries, 2 do
    local id, score = entries[i], entries[i + 1]
    if position_score == '' or tonumber(score) < tonumber(position_score) or ordinal_less(id, position_id) then
      scanned = scanned + 1
      out[2] = score
      out[3] = id
      local keep = true
      if state_filter ~= '' or workflows_only then
        local v = redis.call('HMGET', prefix .. id, 'st', 'wd')
        keep = (state_filter == '' or v[1] == state_filter) and (not workflows_only or (v[2] and v[2] ~= ''))
      end
      if keep then
        local fields = redis.call('HGETALL', prefix .. id)
        -- A batch whose record is gone (purged between its listing's cleanup and this read) is not listed.
        if #fields > 0 then
          out[#out + 1] = { id, fields }
          matches = matches + 1
        end
      end
      if matches >= want or scanned >= budget then
        if i + 1 >= #entries and #entries < 2 * chunk then out[1] = 1 end
        return out
      end
    end
  end
  if #entries < 2 * chunk then
    out[1] = 1
    return out
  end
  offset = offset + chunk
end
