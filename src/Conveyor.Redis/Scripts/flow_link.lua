-- Links a job stored waiting on one slot to a dependency on another (a Redis Cluster), on the dependency's slot: an
-- unfinished dependency gets the remote entry ("r<s>\t<queue>\t<id>", flow.lib.lua) and the flow flag, so the script
-- that finishes it sends its outcome through this slot's outbox; a finished one (or one gone meanwhile: as cancelled)
-- sends its outcome through the outbox at once. Either way the dependant, which already counts this dependency in
-- wf, hears of it exactly once: this script and the finishing one run one after the other on this slot.
-- KEYS[1] the dependency's hash (a job's, or a batch's)  ARGV[1] the store's key prefix  ARGV[2] 'j' job or 'b' batch
-- ARGV[3] dependency id  ARGV[4] the dependency's queue ('' for a batch)  ARGV[5] the dependant's link "<s>\t<queue>\t<id>"
-- Returns 0 when linked, 1 when the outcome went to the outbox.
flow.prefix = ARGV[1]
local kind, dependency, entry = ARGV[2], ARGV[3], ARGV[5]
local succeeded, outbox
if kind == 'b' then
  local bk = flow_batch(dependency)
  local v = redis.call('HMGET', bk, 'fin', 'st', 'tn')
  if v[3] and not v[1] then
    redis.call('RPUSH', bk .. '#d', 'r' .. entry)
    return 0
  end
  succeeded = v[1] ~= nil and v[2] == 'succeeded'
  outbox = flow_coord_outbox()
else
  local base = flow_queue(ARGV[4])
  local djk = base .. 'j:' .. dependency
  local st = redis.call('HGET', djk, 'st')
  if st and st ~= 'succeeded' and st ~= 'partial' and st ~= 'failed' and st ~= 'cancelled' then
    redis.call('RPUSH', djk .. '#d', 'r' .. entry)
    redis.call('HSET', djk, 'fl', '1')
    return 0
  end
  succeeded = st ~= nil and FLOW_SUCCEEDED[st] == true
  outbox = base .. 'outbox'
end
flow_outbox(outbox, 'd\t' .. kind .. '\t' .. dependency .. '\t' .. (succeeded and '1' or '0') .. '\t' .. entry)
return 1
