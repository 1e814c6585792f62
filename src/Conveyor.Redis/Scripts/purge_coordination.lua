-- Deletes up to a number of expired idempotency records, locks and server registrations.
-- KEYS[1] idempotency zset  KEYS[2] lock owners hash  KEYS[3] lock expiry zset
-- KEYS[4] servers hash  KEYS[5] server expiry zset.  ARGV[1] now  ARGV[2] limit
-- Returns how many entries were deleted.
local now, limit = ARGV[1], tonumber(ARGV[2])
local deleted = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
for _, key in ipairs(expired) do redis.call('ZREM', KEYS[1], key) end
deleted = deleted + #expired
for _, pair in ipairs({ { KEYS[2], KEYS[3] }, { KEYS[4], KEYS[5] } }) do
  local names = redis.call('ZRANGEBYSCORE', pair[2], '-inf', now, 'LIMIT', 0, limit)
  for _, name in ipairs(names) do
    redis.call('HDEL', pair[1], name)
    redis.call('ZREM', pair[2], name)
  end
  deleted = deleted + #names
end
return deleted
