-- Stores a step of a running job if it is still active under the lease token. The steps live in the hash
-- <job hash key>#s ('#' is never in a job id), field = step name, value = "<ord>:<attempt>:<completed-at µs>:<result>";
-- the field '' counts the steps, so a new step gets the next ord and a step stored again keeps its own.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] lease token  ARGV[5] step name  ARGV[6] attempt  ARGV[7] completed-at (µs)  ARGV[8] result
-- Returns 1 if stored, 0 otherwise.
local jk = JOB .. ARGV[3]
local v = redis.call('HMGET', jk, 'st', 'lt')
if v[1] ~= 'active' or v[2] ~= ARGV[4] then return 0 end
local sk = jk .. '#s'
local old = redis.call('HGET', sk, ARGV[5])
local ord
if old then ord = string.match(old, '^(%d+):') else ord = redis.call('HINCRBY', sk, '', 1) end
redis.call('HSET', sk, ARGV[5], ord .. ':' .. ARGV[6] .. ':' .. ARGV[7] .. ':' .. ARGV[8])
return 1
