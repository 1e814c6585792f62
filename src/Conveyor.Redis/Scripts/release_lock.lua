-- Releases a named lock if the owner holds it.
-- KEYS[1] lock owners hash  KEYS[2] lock expiry zset.  ARGV[1] name  ARGV[2] owner  ARGV[3] now
-- Returns 1 if released, 0 if the owner did not hold it (another owner, or its hold had expired).
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local expiry = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or '0')
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if expiry > tonumber(ARGV[3]) then return 1 end
return 0
