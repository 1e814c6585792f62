-- Decides a running handler's wait for a signal, in one step, so that a delivery can never fall between the check and
-- the park. The signal is the step '$signal:<name>' of the job's steps hash (<job hash key>#s, as save_step.lua keeps
-- it: "<ord>:<attempt>:<completed-at µs>:<result>"); an empty result records a wait that timed out.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] lease token  ARGV[5] signal step name ('$signal:<name>')  ARGV[6] until (µs)  ARGV[7] now (µs)
-- ARGV[8] reason shown on the parked job
-- Returns { outcome, stored step value }: outcome as JobSignalWaitOutcome (0 lease lost, 1 parked, 2 the signal is
-- there (its stored value follows), 3 timed out, 4 cancel requested).
local id, now = ARGV[3], ARGV[7]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'lt', 'a', 'cr')
if v[1] ~= 'active' or v[2] ~= ARGV[4] then return { 0 } end
local sk = jk .. '#s'
local stored = redis.call('HGET', sk, ARGV[5])
if stored then
  if string.match(stored, '^%d+:%-?%d+:%d+:$') then return { 3 } end
  return { 2, stored }
end
if v[4] == '1' then return { 4 } end
if tonumber(ARGV[6]) <= tonumber(now) then
  local ord = redis.call('HINCRBY', sk, '', 1)
  redis.call('HSET', sk, ARGV[5], ord .. ':' .. (v[3] or '0') .. ':' .. now .. ':')
  return { 3 }
end
-- Parked: the snooze of acknowledge.lua (the attempt does not count, the reason is kept in sn).
redis.call('ZREM', ACTIVE, id)
redis.call('HSET', jk, 'st', 'scheduled', 'sa', ARGV[6], 'u', now, 'a', int(math.max((tonumber(v[3]) or 1) - 1, 0)), 'sn', ARGV[8])
redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr')
redis.call('ZADD', STATE_KEY.scheduled, ARGV[6], id)
return { 1 }
