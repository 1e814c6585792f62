-- Stores one job unless its id exists in this queue.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] id  ARGV[4] now  ARGV[5] state ('pending' or 'scheduled')  ARGV[6] scheduled-at ('' for none)
-- ARGV[7] type  ARGV[8] tenant  ARGV[9] payload  ARGV[10] max retry  ARGV[11] timeout µs ('')
-- ARGV[12] deadline ('')  ARGV[13] unique key ('')  ARGV[14] unique-until ('')  ARGV[15] retention µs
-- ARGV[16] traceparent ('')  ARGV[17] wake-up channel and sender ("<channel>\n<sender>"), published when the job
-- is pending and the queue was empty
-- Returns {0} when stored, {2, state, created-at} when a job with that id exists (nothing written).
local id, now, state = ARGV[3], ARGV[4], ARGV[5]
local jk = JOB .. id
if redis.call('EXISTS', jk) == 1 then
  local v = redis.call('HMGET', jk, 'st', 'c')
  return { 2, v[1] or '', v[2] or '' }
end
-- Updated-at and pending-since are left out while they equal created-at (readers fall back to it): every
-- waiting job carries its hash, so each field saved is memory saved per job.
local fields = { 'ty', ARGV[7], 'tn', ARGV[8], 'st', state, 'p', ARGV[9], 'a', '0', 'mr', ARGV[10],
  'rt', ARGV[15], 'c', now }
local optional = { sa = ARGV[6], to = ARGV[11], dl = ARGV[12], uk = ARGV[13], uu = ARGV[14], tp = ARGV[16] }
for name, value in pairs(optional) do
  if value ~= '' then
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
end
redis.call('HSET', jk, unpack(fields))
redis.call('ZADD', TENANT .. ARGV[8], now, id)
if state == 'pending' then
  -- Only a push into an empty list wakes anyone: a worker waits only after it found the queue empty, and the
  -- first push after that finds it empty again, so no wake-up is lost and a bulk enqueue publishes once.
  if redis.call('LPUSH', PENDING, id) == 1 then notify(ARGV[17]) end
else
  redis.call('ZADD', STATE_KEY.scheduled, ARGV[6], id)
end
return { 0 }
