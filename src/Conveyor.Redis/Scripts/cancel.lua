-- Cancels a job of one tenant: scheduled, pending or retrying becomes cancelled; an active one gets a
-- cancellation request, published to the workers.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] tenant  ARGV[5] now  ARGV[6] cancellation channel
-- Returns a JobCommandResult: 0 not found, 1 done, 2 requested, 3 not allowed.
local id, now = ARGV[3], ARGV[5]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'tn', 'rt')
if not v[1] or v[2] ~= ARGV[4] then return 0 end
if FINISHED[v[1]] then return 3 end
if v[1] == 'active' then
  redis.call('HSET', jk, 'cr', '1', 'u', now)
  redis.call('PUBLISH', ARGV[6], id)
  return 2
end
unlink_state(id, v[1])
finish(jk, id, 'cancelled', now, v[3])
return 1
