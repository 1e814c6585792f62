-- Moves the expiry of the idempotency keys still 'processing' under their owner (compare-and-set per claim).
-- KEYS[1] idempotency records hash  KEYS[2] idempotency expiry zset (begin_idempotency_key.lua has the layout).
-- ARGV[1] new expiry (µs), then per claim: key, job id, lease token.
-- Returns how many claims were extended.
local extended = 0
for i = 2, #ARGV, 3 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local r = cjson.decode(raw)
    if r.s == 'processing' and r.j == ARGV[i + 1] and r.t == ARGV[i + 2] then
      r.e = ARGV[1]
      redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(r))
      redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
      extended = extended + 1
    end
  end
end
return extended
