-- Moves up to a number of this queue's scheduled and retrying jobs that are due to pending.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] now  ARGV[4] limit  ARGV[5] wake-up channel and sender ("<channel>\n<sender>") when a job was promoted
-- Returns how many were promoted.
local now, left = ARGV[3], tonumber(ARGV[4])
local promoted = 0
for _, state in ipairs({ 'scheduled', 'retrying' }) do
  if left <= 0 then break end
  local ids = redis.call('ZRANGEBYSCORE', STATE_KEY[state], '-inf', now, 'LIMIT', 0, left)
  for _, id in ipairs(ids) do
    redis.call('ZREM', STATE_KEY[state], id)
    local jk = JOB .. id
    if redis.call('HGET', jk, 'st') == state then
      make_pending(jk, id, now)
      promoted = promoted + 1
      left = left - 1
    end
  end
end
if promoted > 0 then notify(ARGV[5]) end
return promoted
