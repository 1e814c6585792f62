-- Takes a named lock for an owner until an expiry, if it is free, expired, or held by the same owner.
-- KEYS[1] lock owners hash  KEYS[2] lock expiry zset (both under the coordination tag).
-- ARGV[1] name  ARGV[2] owner  ARGV[3] now  ARGV[4] expiry
-- Returns 1 if taken or extended, 0 if another owner holds it.
local owner = redis.call('HGET', KEYS[1], ARGV[1])
local expiry = redis.call('ZSCORE', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] and expiry and tonumber(expiry) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
