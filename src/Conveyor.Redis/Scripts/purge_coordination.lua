-- Deletes up to a number of expired idempotency records, locks and server registrations (each kind in limit).
-- KEYS[1] idempotency records hash  KEYS[2] idempotency expiry zset  KEYS[3] lock owners hash
-- KEYS[4] lock expiry zset  KEYS[5] servers hash  KEYS[6] server expiry zset  KEYS[7] rate limiters zset (their
-- theoretical arrival times: one that has passed holds nothing).  KEYS[8] finished batches' expiry zset
-- KEYS[9] every tenant's batch listing (a purged batch leaves it too)
-- ARGV[1] now  ARGV[2] limit  ARGV[3] a batch hash's key without its id (its callbacks "#d", members "#m" and the generations of members that rejoined it "#g" go with it)
-- ARGV[4] a tenant's batch listing's key without the tenant (a purged batch leaves its tenant's listing)
-- Returns how many entries were deleted.
local now, limit = ARGV[1], tonumber(ARGV[2])
local deleted = 0
for _, pair in ipairs({ { KEYS[1], KEYS[2] }, { KEYS[3], KEYS[4] }, { KEYS[5], KEYS[6] } }) do
  local names = redis.call('ZRANGEBYSCORE', pair[2], '-inf', now, 'LIMIT', 0, limit)
  for _, name in ipairs(names) do
    redis.call('HDEL', pair[1], name)
    redis.call('ZREM', pair[2], name)
  end
  deleted = deleted + #names
end
local batches = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(batches) do
  local bk = ARGV[3] .. id
  local tenant = redis.call('HGET', bk, 'tn')
  if tenant then redis.call('ZREM', ARGV[4] .. tenant, id) end
  redis.call('ZREM', KEYS[9], id)
  redis.call('DEL', bk, bk .. '#d', bk .. '#m', bk .. '#g')
  redis.call('ZREM', KEYS[8], id)
end
deleted = deleted + #batches
local passed = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now, 'LIMIT', 0, limit)
if #passed > 0 then redis.call('ZREM', KEYS[7], unpack(passed)) end
return deleted + #passed
