-- Reads one queue's part of a listing: the tenant's jobs, newest first (created-at, then id, descending),
-- from a position, scanning at most a budget of entries so that a selective filter never blocks Redis for long.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] tenant  ARGV[4] position created-at ('' for the newest)  ARGV[5] position id
-- ARGV[6] matches wanted  ARGV[7] scan budget  ARGV[8] state filter ('')  ARGV[9] type filter ('')
-- ARGV[10] text the last error's message must contain, lower case ('': any; ASCII letters compared without case)
-- ARGV[11] created at or after, µs ('')  ARGV[12] created before, µs ('')  ARGV[13] batch id filter ('')
-- Returns {exhausted (1 when the index has nothing older), last scanned created-at, last scanned id,
-- then one {id, the job hash as field/value pairs} per match}.
local index = TENANT .. ARGV[3]
local position_score, position_id = ARGV[4], ARGV[5]
local want, budget = tonumber(ARGV[6]), tonumber(ARGV[7])
local state_filter, type_filter, error_filter = ARGV[8], ARGV[9], ARGV[10]
local created_after, created_before = ARGV[11], ARGV[12]
local batch_filter = ARGV[13] or ''
local max, min = '+inf', '-inf'
if position_score ~= '' then max = position_score end
-- The created-at range narrows the scan itself: entries outside it are never read.
if created_before ~= '' and (position_score == '' or tonumber(created_before) <= tonumber(position_score)) then
  max = '(' .. created_before
end
if created_after ~= '' then min = created_after end
local function last_error_contains(errors)
  if not errors or errors == '' then return false end
  local ok, list = pcall(cjson.decode, errors)
  if not ok or type(list) ~= 'table' or #list == 0 then return false end
  local message = list[#list].m
  return type(message) == 'string' and string.find(string.lower(message), error_filter, 1, true) ~= nil
end
local out = { 0, position_score, position_id }
local matches, scanned, offset, chunk = 0, 0, 0, 200
while true do
  local batch = redis.call('ZREVRANGEBYSCORE', index, max, min, 'WITHSCORES', 'LIMIT', offset, chunk)
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    if position_score == '' or tonumber(score) < tonumber(position_score) or ordinal_less(id, position_id) then
      scanned = scanned + 1
      out[2] = score
      out[3] = id
      local keep = true
      if state_filter ~= '' or type_filter ~= '' or error_filter ~= '' or batch_filter ~= '' then
        local v = redis.call('HMGET', JOB .. id, 'st', 'ty', 'b')
        keep = (state_filter == '' or v[1] == state_filter) and (type_filter == '' or v[2] == type_filter)
          and (batch_filter == '' or v[3] == batch_filter)
        if keep and error_filter ~= '' then
          keep = last_error_contains(redis.call('HGET', JOB .. id, 'err'))
        end
      end
      if keep then
        local fields = redis.call('HGETALL', JOB .. id)
        if #fields > 0 then
          out[#out + 1] = { id, fields }
          matches = matches + 1
        end
      end
      if matches >= want or scanned >= budget then
        if i + 1 >= #batch and #batch < 2 * chunk then out[1] = 1 end
        return out
      end
    end
  end
  if #batch < 2 * chunk then
    out[1] = 1
    return out
  end
  offset = offset + chunk
end
