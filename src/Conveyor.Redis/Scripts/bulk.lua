-- Cancels, requeues or deletes many jobs of one queue in one call: for each id, in the order given, what
-- cancel.lua, requeue.lua or delete.lua does to it alone (an id given twice sees what the first did).
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] action ('cancel', 'requeue' or 'delete')  ARGV[4] tenant ('' for any: an operator's call)  ARGV[5] now
-- ARGV[6] wake-up channel and sender ("<channel>\n<sender>"), published once when a job was requeued
-- ARGV[7] cancellation channel  ARGV[8..] job ids
-- Returns per id {result, tenant, unique key, claim} with result a JobCommandResult: 0 not found, 1 done, 2 requested,
-- 3 not allowed; tenant, unique key ('') and the job's claim on it ('', queue.lib.lua's unique_claim) of a deleted
-- job, whose id lookup and unique key the caller releases.
-- A cancel or delete resolves a flagged job's batch and dependants in this call (flow.lib.lua).
local action, tenant, now = ARGV[3], ARGV[4], ARGV[5]
local out = {}
local requeued = false
for i = 8, #ARGV do
  local id = ARGV[i]
  local jk = JOB .. id
  local v = redis.call('HMGET', jk, 'st', 'tn', 'rt', 'uk', 'fl', 'uu', 'c')
  local st, tn = v[1], v[2]
  local result, gone_tenant, gone_key, gone_claim = 0, '', '', ''
  if st and (tenant == '' or tn == tenant) then
    if action == 'cancel' then
      if FINISHED[st] then
        result = 3
      elseif st == 'active' then
        redis.call('HSET', jk, 'cr', '1', 'u', now)
        redis.call('PUBLISH', ARGV[7], id)
        result = 2
      else
        unlink_state(id, st)
        finish(jk, id, 'cancelled', now, v[3])
        result = 1
      end
    elseif action == 'requeue' then
      if st == 'failed' or st == 'cancelled' or st == 'scheduled' or st == 'retrying' then
        unlink_state(id, st)
        if st == 'failed' or st == 'cancelled' then flow_rejoin(QUEUE_BASE, id, st, now) end
        redis.call('HSET', jk, 'sa', now, 'pr', '0')
        redis.call('HDEL', jk, 's', 'f')
        make_pending(jk, id, now)
        requeued = true
        result = 1
      else
        result = 3
      end
    else
      if st == 'active' then
        result = 3
      else
        unlink_state(id, st)
        unlist(tn, id)
        if v[5] and not FINISHED[st] then flow_finished(QUEUE_BASE, id, 'cancelled', now) end
        redis.call('DEL', jk, jk .. '#s', jk .. '#d', jk .. '#r')
        gone_tenant, gone_key, gone_claim = tn, v[4] or '', unique_claim(id, v[4], v[6], v[7])
        result = 1
      end
    end
  end
  out[#out + 1] = { result, gone_tenant, gone_key, gone_claim }
end
if requeued then notify(ARGV[6]) end
return out
