-- Links a job stored waiting on one slot to a dependency on another (a Redis Cluster), on the dependency's slot: an
-- unfinished dependency gets the remote entry ("r<s>\t<queue>\t<id>", flow.lib.lua) and the flow flag, so the script
-- that finishes it sends its outcome through this slot's outbox; a finished one (or one gone meanwhile: as cancelled)
-- sends its outcome through the outbox at once, with when it finished (none for one gone). Either way the dependant,
-- which already counts this dependency in wf, hears of it exactly once: this script and the finishing one run one after
-- the other on this slot.
-- KEYS[1] the dependency's hash (a job's, or a batch's)  ARGV[1] the store's key prefix  ARGV[2] 'j' job or 'b' batch
-- ARGV[3] dependency id  ARGV[4] the dependency's queue ('' for a batch)  ARGV[5] the dependant's link "<s>\t<queue>\t<id>"
-- Returns 0 when linked, 1 when the outcome went to the outbox.
flow.prefix = ARGV[1]
local kind, dependency, entry = ARGV[2], ARGV[3], ARGV[5]
local succeeded, outbox, ended
if kind == 'b' then
  local bk = flow_batch(dependency)
  local v = redis.call('HMGET', bk, 'fin', 'st', 'tn')
  if v[3] and not v[1] then
    redis.call('RPUSH', bk .. '#d', 'r' .. entry)
    return 0
  end
  succeeded = v[1] ~= nil and v[2] == 'succeeded'
  outbox, ended = flow_coord_outbox(), v[1]
else
  local base = flow_queue(ARGV[4])
  local djk = base .. 'j:' .. dependency
  local w = redis.call('HMGET', djk, 'st', 'f')
  local st = w[1]
  if st and st ~= 'succeeded' and st ~= 'partial' and st ~= 'failed' and st ~= 'cancelled' then
    redis.call('RPUSH', djk .. '#d', 'r' .. entry)
    redis.call('HSET', djk, 'fl', '1')
    return 0
  end
  succeeded = st ~= nil and FLOW_SUCCEEDED[st] == true
  outbox, ended = base .. 'outbox', w[2]
end
local item = 'd\t' .. kind .. '\t' .. dependency .. '\t' .. (succeeded and '1' or '0') .. '\t' .. entry
if ended then item = item .. '\t' .. ended end
flow_outbox(outbox, item)
return 1
