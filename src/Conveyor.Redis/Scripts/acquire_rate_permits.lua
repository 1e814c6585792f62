-- Takes permits from rate limiters (GCRA; see IJobCoordinationStore.TryAcquireRatePermitsAsync), in order.
-- KEYS[1] zset rate limiter key -> theoretical arrival time (µs), on the coordination slot.
-- ARGV[1] now (µs), then four entries per request: key, interval (µs), burst, permits.
-- Returns two entries per request: 1 or 0 (granted), and the wait (µs) before a refused request could be granted.
local now = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV, 4 do
  local key, interval, burst, permits = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local tat = tonumber(redis.call('ZSCORE', KEYS[1], key) or '0')
  if tat < now then tat = now end
  local nxt = tat + interval * permits
  local allowed = nxt - interval * burst
  if allowed <= now then
    redis.call('ZADD', KEYS[1], string.format('%.0f', nxt), key)
    out[#out + 1] = 1; out[#out + 1] = 0
  else
    out[#out + 1] = 0; out[#out + 1] = string.format('%.0f', allowed - now)
  end
end
return out
