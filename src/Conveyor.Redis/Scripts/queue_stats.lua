-- Counts one queue's jobs by state.
-- KEYS: the queue layout (queue.lib.lua).
-- Returns {paused (0/1), scheduled, pending, active, retrying, succeeded, partial, failed, cancelled,
-- pending-since of the oldest pending job ('' when none waits), waiting (workflow jobs no dequeue sees)}.
-- Pending jobs are the pending list's and, for a fair queue, its tenants' lanes' (one LLEN and LINDEX per tenant
-- with pending jobs).
local oldest = ''
local pending = redis.call('LLEN', PENDING)
local function consider(list)
  local last = redis.call('LINDEX', list, -1)
  if last then
    -- Since when it could run: handed back later than it became pending ('w'), from then (return_to_head).
    local v = redis.call('HMGET', JOB .. last, 'e', 'c', 'w')
    local since = v[1] or v[2] or ''
    if tonumber(v[3]) and (since == '' or tonumber(v[3]) > tonumber(since)) then since = v[3] end
    if oldest == '' or (since ~= '' and tonumber(since) < tonumber(oldest)) then oldest = since end
  end
end
consider(PENDING)
for _, tenant in ipairs(redis.call('ZRANGE', LANES, 0, -1)) do
  if tenant ~= '' then
    pending = pending + redis.call('LLEN', LANES .. tenant)
    consider(LANES .. tenant)
  end
end
return { redis.call('EXISTS', PAUSED), redis.call('ZCARD', STATE_KEY.scheduled), pending,
  redis.call('ZCARD', ACTIVE), redis.call('ZCARD', STATE_KEY.retrying), redis.call('ZCARD', STATE_KEY.succeeded),
  redis.call('ZCARD', STATE_KEY.partial), redis.call('ZCARD', STATE_KEY.failed), redis.call('ZCARD', STATE_KEY.cancelled), oldest, redis.call('ZCARD', STATE_KEY.waiting) }
