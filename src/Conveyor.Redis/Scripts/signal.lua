-- Delivers a signal to one tenant's job, in one step: stores it as the step '$signal:<name>' of the job's steps hash
-- (as save_step.lua keeps steps, attempt 0), and if the job is parked waiting for it now (scheduled, with the step
-- '$wait:<name>' its wait stored, and a snooze reason (sn) that is a park's naming this signal, alone or with others: a
-- wait step of an earlier attempt does not make a job snoozed for another reason a parked one), makes it pending now at
-- the back of its queue (its wait's snooze reason removed) and wakes the workers.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] tenant  ARGV[5] signal step name  ARGV[6] wait step name  ARGV[7] payload  ARGV[8] now (µs)
-- ARGV[9] wake-up channel and sender ("<channel>\n<sender>")  ARGV[10] now in .NET ticks (as a wait step holds its deadline)
-- ARGV[11] how the snooze reason of a job parked for signals begins (JobSignal.WaitReasonStart)
-- ARGV[12] the signal's name as that reason names it (JobSignal.QuotedName), before the first ARGV[13]
-- ARGV[13] what follows the names in that reason (JobSignal.WaitReasonUntil); compared byte for byte (plain finds)
-- A wait whose deadline passed before any worker recorded it gets its timeout recorded (an empty signal) instead.
-- A job whose own deadline passed stores nothing: it fails at its next attempt without reading its signals.
-- Returns a JobSignalResult: 0 not found, 1 delivered, 2 resumed, 3 finished, 4 already delivered, 5 wait timed out,
-- 6 the job's deadline passed.
local id, now = ARGV[3], ARGV[8]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'tn', 'dl', 'sn')
if not v[1] or v[2] ~= ARGV[4] then return 0 end
if FINISHED[v[1]] then return 3 end
if v[3] and tonumber(v[3]) and tonumber(v[3]) <= tonumber(now) then return 6 end
local sk = jk .. '#s'
local stored = redis.call('HGET', sk, ARGV[5])
if stored then
  if string.match(stored, '^%d+:%-?%d+:%d+:$') then return 5 end
  return 4
end
local wait = redis.call('HGET', sk, ARGV[6])
-- Ticks have the same number of digits for centuries: compared as text, exactly (a Lua number rounds them).
local deadline = wait and string.match(wait, '^%d+:%-?%d+:%d+:(%d+)$')
local ticks = ARGV[10]
local ord = redis.call('HINCRBY', sk, '', 1)
if deadline and (#deadline < #ticks or (#deadline == #ticks and deadline <= ticks)) then
  redis.call('HSET', sk, ARGV[5], ord .. ':0:' .. now .. ':')
  return 5
end
redis.call('HSET', sk, ARGV[5], ord .. ':0:' .. now .. ':' .. ARGV[7])
if v[1] ~= 'scheduled' or not wait or not v[4] or string.sub(v[4], 1, #ARGV[11]) ~= ARGV[11] then return 1 end
local named = string.find(v[4], ARGV[12], 1, true)
local until_at = string.find(v[4], ARGV[13], 1, true)
if not named or not until_at or named > until_at then return 1 end
-- Parked for it: as requeue.lua runs a scheduled job now; no longer waiting, so its wait's reason goes.
unlink_state(id, 'scheduled')
redis.call('HSET', jk, 'sa', now)
redis.call('HDEL', jk, 'sn')
make_pending(jk, id, now)
notify(ARGV[9])
return 2
