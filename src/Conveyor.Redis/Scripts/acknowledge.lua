-- Ends attempts of one queue's jobs; each applies only if the job is still active under its lease token.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] now  ARGV[4] wake-up channel and sender ("<channel>\n<sender>") when a job is released to pending
-- ARGV[5..8] the hand-off ('' in ARGV[5] for none): how many jobs it may lease, their lease expiry, the server id, and
-- the queues the server serves, joined by tabs. A job the acknowledgements release into one of them is then leased
-- here when nothing is ahead of it (flow.lib.lua, flow_take).
-- Then 10 entries per acknowledgement, from ARGV[9]: job id, lease token, outcome (AckOutcome as a number:
-- 0 succeeded, 1 partial, 2 retry, 3 failed, 4 cancelled, 5 released, 6 snoozed), retry-at or snooze-until (''; for
-- a release '1' when its handler ran, JobAcknowledgement.AttemptRan: it waits from now, see return_to_head),
-- the attempt's error as JSON (''), item errors as JSON objects joined by commas (''), has-result ('1'/'0'),
-- result, result URL (''), snooze reason ('').
-- A retry, release or snooze of a job whose cancellation was requested cancels it instead: the operator who
-- cancelled it expects it never to run again; a release or snooze still does not count its attempt (nor its start).
-- A snooze keeps its reason on the job (field sn); any other outcome clears it (a write only for a job that has one).
-- A job with the flow flag (fl) resolves its batch and dependants in the same call (flow.lib.lua; the call's members
-- of one batch are counted in it together). Released jobs are applied first (see the loops at the end); ARGV[8] names
-- no queue that another script of the call hands a job back into (RedisJobStore.TakeQueues).
-- Returns how many applied; with a hand-off, an array: how many applied, then 14 entries per job leased: its queue and
-- dequeue.lua's 13 fields.
local now = ARGV[3]
if ARGV[5] ~= '' then
  flow.take = { left = tonumber(ARGV[5]), expiry = ARGV[6], server = ARGV[7], queues = {}, out = {} }
  for queue in string.gmatch(ARGV[8], '[^\t]+') do flow.take.queues[queue] = true end
end
local applied, released = 0, 0
flow_gather()
local OUTCOME = { ['0'] = 'succeeded', ['1'] = 'partial', ['2'] = 'retrying', ['3'] = 'failed', ['4'] = 'cancelled', ['5'] = 'pending', ['6'] = 'scheduled' }
local function apply(i, handBacks)
  local id = ARGV[i]
  local jk = JOB .. id
  local v = redis.call('HMGET', jk, 'st', 'lt', 'rt', 'a', 'err', 'cr', 'sn', 'fl', unpack(FLOW_BATCH_FIELDS))
  local batch = { v[9], v[10], v[11], v[12] }
  local state = OUTCOME[ARGV[i + 2]]
  if v[6] == '1' and (state == 'retrying' or state == 'pending' or state == 'scheduled') then
    state = 'cancelled'
  end
  if handBacks ~= (state == 'pending') then return end
  if v[1] == 'active' and v[2] == ARGV[i + 1] and state then
    applied = applied + 1
    redis.call('ZREM', ACTIVE, id)
    local added = {}
    -- A release at shutdown or a snooze records no error, whatever the worker passed along.
    local recorded = ARGV[i + 2] ~= '5' and ARGV[i + 2] ~= '6'
    -- The item errors first: the attempt ended with its error, which is the job's last.
    if recorded and ARGV[i + 5] ~= '' then added[#added + 1] = ARGV[i + 5] end
    if recorded and ARGV[i + 4] ~= '' then added[#added + 1] = ARGV[i + 4] end
    local extra = {}
    if #added > 0 then
      extra[1] = 'err'
      extra[2] = append_errors(v[5], table.concat(added, ','))
    end
    if state == 'succeeded' or state == 'partial' then
      extra[#extra + 1] = 'pr'; extra[#extra + 1] = '100'
      if ARGV[i + 6] == '1' then extra[#extra + 1] = 'r'; extra[#extra + 1] = ARGV[i + 7] end
      if ARGV[i + 8] ~= '' then extra[#extra + 1] = 'ru'; extra[#extra + 1] = ARGV[i + 8] end
      finish(jk, id, state, now, v[3], extra, v[8] == '1', batch)
      if v[7] then redis.call('HDEL', jk, 'sn') end
    elseif state == 'retrying' then
      local fields = { 'st', 'retrying', 'sa', ARGV[i + 3], 'u', now }
      for k = 1, #extra do fields[#fields + 1] = extra[k] end
      redis.call('HSET', jk, unpack(fields))
      redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr', 'sn')
      redis.call('ZADD', STATE_KEY.retrying, ARGV[i + 3], id)
    elseif state == 'scheduled' then
      -- Snoozed: waits for its time; the attempt does not count, nor its start (uncount_attempt).
      local attempts = uncount_attempt(jk, v[4])
      redis.call('HSET', jk, 'st', 'scheduled', 'sa', ARGV[i + 3], 'u', now, 'a', attempts, 'sn', ARGV[i + 9])
      redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr')
      redis.call('ZADD', STATE_KEY.scheduled, ARGV[i + 3], id)
    elseif state == 'pending' then
      -- Released at shutdown: the attempt does not count, nor its start (uncount_attempt).
      local fields = { 'a', uncount_attempt(jk, v[4]) }
      for k = 1, #extra do fields[#fields + 1] = extra[k] end
      redis.call('HSET', jk, unpack(fields))
      return_to_head(jk, id, now, ARGV[i + 3] == '1')
      if v[7] then redis.call('HDEL', jk, 'sn') end
      released = released + 1
    else
      -- A release or snooze of a job whose cancellation was requested ends it, its attempt still not counted.
      if not recorded then extra[#extra + 1] = 'a'; extra[#extra + 1] = uncount_attempt(jk, v[4]) end
      finish(jk, id, state, now, v[3], extra, v[8] == '1', batch)
      if v[7] then redis.call('HDEL', jk, 'sn') end
    end
  end
end
-- Jobs handed back (released, and staying pending) first: at the head of their queue again before a release of this
-- script could lease a job of that queue ahead of them (flow_take leases only into a queue with nothing pending). One
-- whose cancellation was requested ends, and may release jobs, so it goes with the others. Each goes back to its place
-- among the jobs at the head (queue.lib.lua, push_front_in_place), in front of those pending since the same time: so
-- they are applied last first, and jobs of one call pending since the same time come back in the order given.
for i = #ARGV - 9, 9, -10 do if ARGV[i + 2] == '5' then apply(i, true) end end
for i = 9, #ARGV, 10 do apply(i, false) end
flow_settle_gathered(now)
if released > 0 then notify(ARGV[4]) end
if flow.take then
  local out = flow.take.out
  table.insert(out, 1, applied)
  return out
end
return applied
