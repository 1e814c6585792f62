-- Makes an idempotency key 'done' by an attempt, finished now, kept until an expiry, when that attempt holds it
-- (expired or not) or no one else does (no record, or an expired one).
-- KEYS[1] idempotency records hash  KEYS[2] idempotency expiry zset (begin_idempotency_key.lua has the layout).
-- ARGV[1] key  ARGV[2] job id  ARGV[3] lease token  ARGV[4] expiry (µs)  ARGV[5] now (µs)
-- Returns 1 if done, 0 if another attempt holds it.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local r = cjson.decode(raw)
  if not (r.j == ARGV[2] and r.t == ARGV[3]) and tonumber(r.e) > tonumber(ARGV[5]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ s = 'done', j = ARGV[2], t = ARGV[3], e = ARGV[4], f = ARGV[5] }))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
