-- Cancels a job of one tenant: scheduled, pending or retrying becomes cancelled; an active one gets a
-- cancellation request, published to the workers.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] tenant  ARGV[5] now  ARGV[6] cancellation channel  ARGV[7] (optional) an error line saying why,
-- which a job cancelled here records (its batch's cancel on a Redis Cluster).
-- Returns a JobCommandResult: 0 not found, 1 done, 2 requested, 3 not allowed.
local id, now = ARGV[3], ARGV[5]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'tn', 'rt', 'a', 'err')
if not v[1] or v[2] ~= ARGV[4] then return 0 end
if FINISHED[v[1]] then return 3 end
if v[1] == 'active' then
  redis.call('HSET', jk, 'cr', '1', 'u', now)
  redis.call('PUBLISH', ARGV[6], id)
  return 2
end
unlink_state(id, v[1])
local why = ARGV[7] and { 'err', append_errors(v[5], error_json(tonumber(v[4]) or 0, ARGV[7], now)) } or nil
finish(jk, id, 'cancelled', now, v[3], why)
return 1
