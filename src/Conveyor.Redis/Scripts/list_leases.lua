-- The leases one server holds in one queue: the active jobs (the active zset, as small as the jobs running) leased to it.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] server id
-- Returns a flat array, 2 entries per lease: job id, lease token.
local out = {}
for _, id in ipairs(redis.call('ZRANGE', ACTIVE, 0, -1)) do
  local v = redis.call('HMGET', JOB .. id, 'st', 'lt', 'ls')
  if v[1] == 'active' and v[3] == ARGV[3] and v[2] then
    out[#out + 1] = id
    out[#out + 1] = v[2]
  end
end
return out
