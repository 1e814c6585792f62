-- On a Redis Cluster, the batch's side of storing its members (before the members themselves, on their queues'
-- slots): creates the batch, or checks it, and counts the members in its total and its unfinished members, so that a
-- member's finish, which reaches the batch through an outbox (flow.lib.lua), always finds itself counted in.
-- KEYS[1] the batch hash  KEYS[2] the tenant's batch listing (zset id → created-at µs)  ARGV[1] 'create', 'add' (the batch must be running) or 'join' (a job naming its batch)
-- ARGV[2] tenant  ARGV[3] retention (µs)  ARGV[4] workflow definition ('')  ARGV[5] now  ARGV[6] the batch's id  ARGV[7..] members "<queue>\t<id>"
-- Returns 0 when done, 2 when the batch is not the tenant's (or, to add to, not running), 3 when the batch to create exists.
local bk, now = KEYS[1], ARGV[5]
-- A plan journaled by a version before the listing (RedisJobStore.Outbox.cs) names one key and no id: its members
-- start at ARGV[6], and the batch it creates is listed under the key and id its hash's name gives (the same slot).
local listed = KEYS[2] ~= nil
local members = listed and 7 or 6
if ARGV[1] == 'create' then
  if redis.call('EXISTS', bk) == 1 then return 3 end
  redis.call('HSET', bk, 'tn', ARGV[2], 'st', 'running', 'n', 0, 's', 0, 'f', 0, 'x', 0, 'rt', ARGV[3], 'c', now, 'u', now)
  if ARGV[4] ~= '' then redis.call('HSET', bk, 'wd', ARGV[4]) end
  -- Every tenant's listing is on the same slot, named after the batch hash's coordination prefix.
  local coordination, id = string.match(bk, '^(.*):b:([^:]+)$')
  if listed then
    redis.call('ZADD', KEYS[2], now, ARGV[6])
  elseif id then
    redis.call('ZADD', coordination .. ':bt:' .. ARGV[2], now, id)
  end
  if id then redis.call('ZADD', coordination .. ':ba', now, id) end
else
  local v = redis.call('HMGET', bk, 'tn', 'st')
  if v[1] ~= ARGV[2] or (ARGV[1] == 'add' and v[2] ~= 'running') then return 2 end
end
for i = members, #ARGV do
  if redis.call('SADD', bk .. '#m', ARGV[i]) == 1 then redis.call('HINCRBY', bk, 'n', 1) end
end
redis.call('HSET', bk, 'u', now)
return 0
