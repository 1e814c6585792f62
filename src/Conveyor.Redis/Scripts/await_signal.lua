-- Decides a running handler's wait for any of its signals, in one step that checks every name, so that a delivery of
-- any of them can never fall between the check and the park. A signal is the step '$signal:<name>' of the job's steps
-- hash (<job hash key>#s, as save_step.lua keeps it: "<ord>:<attempt>:<completed-at µs>:<result>"); an empty result
-- records a wait that timed out. The steps hash is named from the job's key, so it is on the queue's slot too.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] lease token  ARGV[5] until (µs)  ARGV[6] now (µs)  ARGV[7] reason shown on the parked job
-- ARGV[8] '1' when until is the deadline of the wait for the one name: a passed until is then its timeout, recorded
-- ARGV[9..] the signal step names ('$signal:<name>'), the first one stored deciding
-- Returns { outcome, stored step value }: outcome as JobSignalWaitOutcome (0 lease lost, 1 parked, 2 a signal is
-- there (its stored value follows), 3 timed out, 4 cancel requested).
local id, due, now = ARGV[3], ARGV[5], ARGV[6]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'lt', 'a', 'cr')
if v[1] ~= 'active' or v[2] ~= ARGV[4] then return { 0 } end
local sk = jk .. '#s'
for i = 9, #ARGV do
  local stored = redis.call('HGET', sk, ARGV[i])
  if stored then
    if string.match(stored, '^%d+:%-?%d+:%d+:$') then return { 3 } end
    return { 2, stored }
  end
end
if v[4] == '1' then return { 4 } end
if tonumber(due) <= tonumber(now) then
  -- Unless it is the one wait's deadline, no wait has timed out: each decides its own at the next attempt.
  if ARGV[8] == '1' then
    local ord = redis.call('HINCRBY', sk, '', 1)
    redis.call('HSET', sk, ARGV[9], ord .. ':' .. (v[3] or '0') .. ':' .. now .. ':')
  end
  return { 3 }
end
-- Parked: the snooze of acknowledge.lua (the attempt does not count, nor its start; the reason is kept in sn).
redis.call('ZREM', ACTIVE, id)
redis.call('HSET', jk, 'st', 'scheduled', 'sa', due, 'u', now, 'a', uncount_attempt(jk, v[3]), 'sn', ARGV[7])
redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr')
redis.call('ZADD', STATE_KEY.scheduled, due, id)
return { 1 }
