-- Deletes an idempotency key's record when it is 'processing' under an attempt (its attempt failed).
-- KEYS[1] idempotency records hash  KEYS[2] idempotency expiry zset (begin_idempotency_key.lua has the layout).
-- ARGV[1] key  ARGV[2] job id  ARGV[3] lease token
-- Returns 1 if released, 0 if the record is another attempt's, done, or absent.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local r = cjson.decode(raw)
if r.s ~= 'processing' or r.j ~= ARGV[2] or r.t ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
