-- Counts one queue's jobs by state.
-- KEYS: the queue layout (queue.lib.lua).
-- Returns {paused (0/1), scheduled, pending, active, retrying, succeeded, partial, failed, cancelled,
-- pending-since of the oldest pending job ('' when none waits)}.
local oldest = ''
local last = redis.call('LINDEX', PENDING, -1)
if last then
  local v = redis.call('HMGET', JOB .. last, 'e', 'c')
  oldest = v[1] or v[2] or ''
end
return { redis.call('EXISTS', PAUSED), redis.call('ZCARD', STATE_KEY.scheduled), redis.call('LLEN', PENDING),
  redis.call('ZCARD', ACTIVE), redis.call('ZCARD', STATE_KEY.retrying), redis.call('ZCARD', STATE_KEY.succeeded),
  redis.call('ZCARD', STATE_KEY.partial), redis.call('ZCARD', STATE_KEY.failed), redis.call('ZCARD', STATE_KEY.cancelled), oldest }
