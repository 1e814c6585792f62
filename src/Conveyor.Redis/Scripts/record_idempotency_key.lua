-- Records an idempotency key until an expiry unless it is recorded and not expired.
-- KEYS[1] idempotency zset (member: key, score: expiry).  ARGV[1] key  ARGV[2] now  ARGV[3] expiry
-- Returns 1 if recorded now, 0 if it already was.
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
