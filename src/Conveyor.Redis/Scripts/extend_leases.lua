-- Extends the leases of one queue's jobs that are still active under their tokens.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] new lease expiry, then pairs from ARGV[4]: job id, lease token.
-- Returns one number per pair, in order: 0 lost, 1 extended, 2 extended and a cancellation is requested.
local expiry = ARGV[3]
local out = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  local jk = JOB .. id
  local v = redis.call('HMGET', jk, 'st', 'lt', 'cr')
  if v[1] == 'active' and v[2] == ARGV[i + 1] then
    redis.call('HSET', jk, 'le', expiry)
    redis.call('ZADD', ACTIVE, expiry, id)
    out[#out + 1] = (v[3] == '1') and 2 or 1
  else
    out[#out + 1] = 0
  end
end
return out
