-- Records a running job's progress if it is still active under the lease token.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] lease token  ARGV[5] progress (0–100)  ARGV[6] now
-- Returns 1 if recorded, 0 otherwise.
local jk = JOB .. ARGV[3]
local v = redis.call('HMGET', jk, 'st', 'lt')
if v[1] ~= 'active' or v[2] ~= ARGV[4] then return 0 end
redis.call('HSET', jk, 'pr', ARGV[5], 'u', ARGV[6])
return 1
