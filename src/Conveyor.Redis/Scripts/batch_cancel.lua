-- Cancels a running batch of one tenant as one step: its waiting, scheduled, pending and retrying members are
-- cancelled (each counted in the batch and resolving what waits for it, flow.lib.lua), its active members get a
-- cancellation request (published to the workers), and the batch is cancelled: its callbacks wait for the members
-- still running. Members of any queue on a single Redis node; on a Redis Cluster (ARGV[6] '1') the members live on
-- other slots: the batch is cancelled here and its unfinished members returned, which the store cancels on their own
-- slots (cancel.lua; each finish reaches the batch through its queue's outbox).
-- Each member cancelled here gets the error line ARGV[7] (on a Cluster, cancel.lua adds it on the member's slot).
-- KEYS[1] the batch hash  ARGV[1] the store's key prefix  ARGV[2] batch id  ARGV[3] tenant  ARGV[4] now
-- ARGV[5] cancellation channel  ARGV[6] '1' on a Redis Cluster  ARGV[7] the error line of a cancelled member
-- Returns 1 when cancelled ({1, "<queue>\t<id>"…} on a Cluster), 0 when the tenant has no such batch or it is not running.
-- On a Cluster a batch cancelled already returns {0, its unfinished members…}: a cancel whose member cancels did not all
-- reach their slots (a connection lost half-way) is finished by calling it again.
flow.prefix = ARGV[1]
local bk, batch, now = KEYS[1], ARGV[2], ARGV[4]
local v = redis.call('HMGET', bk, 'tn', 'st')
if v[1] ~= ARGV[3] then return 0 end
if v[2] ~= 'running' and not (ARGV[6] == '1' and v[2] == 'cancelled') then return 0 end
if ARGV[6] == '1' then
  local out = { v[2] == 'running' and 1 or 0 }
  redis.call('HSET', bk, 'st', 'cancelled', 'u', now)
  for _, member in ipairs(redis.call('SMEMBERS', bk .. '#m')) do out[#out + 1] = member end
  return out
end
redis.call('HSET', bk, 'st', 'cancelled', 'u', now)
local UNSTARTED = { waiting = true, scheduled = true, pending = true, retrying = true }
for _, member in ipairs(redis.call('SMEMBERS', bk .. '#m')) do
  local queue, id = string.match(member, '^([^\t]*)\t(.*)$')
  if queue then
    local base = flow_queue(queue)
    local jk = base .. 'j:' .. id
    local st = redis.call('HGET', jk, 'st')
    if UNSTARTED[st] then
      local work = {}
      flow_cancel(base, jk, id, st, ARGV[7], now, work)
      if #work > 0 then flow_finished(base, id, 'cancelled', now) end
    elseif st == 'active' then
      redis.call('HSET', jk, 'cr', '1', 'u', now)
      redis.call('PUBLISH', ARGV[5], id)
    end
  end
end
return 1
