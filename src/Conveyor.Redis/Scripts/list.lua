-- A page of one tenant's jobs in one queue, newest first (created-at, then id, descending).
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] tenant  ARGV[4] cursor created-at ('' for the first page)  ARGV[5] cursor id
-- ARGV[6] limit  ARGV[7] state filter ('')  ARGV[8] type filter ('')
-- Returns up to limit entries, each {id, the job hash as field/value pairs}.
-- Cost: the jobs scanned, which the filters may make more than the page.
local index = TENANT .. ARGV[3]
local cursor_score, cursor_id = ARGV[4], ARGV[5]
local limit = tonumber(ARGV[6])
local max = '+inf'
if cursor_score ~= '' then max = cursor_score end
local out = {}
local offset = 0
local chunk = 200
while #out < limit do
  local batch = redis.call('ZREVRANGEBYSCORE', index, max, '-inf', 'WITHSCORES', 'LIMIT', offset, chunk)
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    local after_cursor = cursor_score == '' or tonumber(score) < tonumber(cursor_score) or ordinal_less(id, cursor_id)
    if after_cursor then
      local fields = redis.call('HGETALL', JOB .. id)
      if #fields > 0 then
        local keep = true
        if ARGV[7] ~= '' or ARGV[8] ~= '' then
          local st, ty
          for j = 1, #fields, 2 do
            if fields[j] == 'st' then st = fields[j + 1] elseif fields[j] == 'ty' then ty = fields[j + 1] end
          end
          keep = (ARGV[7] == '' or st == ARGV[7]) and (ARGV[8] == '' or ty == ARGV[8])
        end
        if keep then
          out[#out + 1] = { id, fields }
          if #out >= limit then break end
        end
      end
    end
  end
  offset = offset + chunk
end
return out
