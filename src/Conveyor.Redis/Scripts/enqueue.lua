-- Stores jobs of one queue, in order; each is refused (nothing written) if a job with its id exists here.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] now  ARGV[4] wake-up channel and sender ("<channel>\n<sender>"), published once when a push finds
-- the queue empty.  ARGV[5] the queue's name, added to the set of queue names KEYS[15] when both are given
-- ('' and no KEYS[15] in a Cluster, where the store registers it outside the script). Then 13 entries per job,
-- from ARGV[6]: id, state ('pending' or 'scheduled'), scheduled-at (''), type, tenant, payload, max retry,
-- timeout µs (''), deadline (''), unique key (''), unique-until (''), retention µs, traceparent ('').
-- Returns 3 entries per job: 0 stored or 2 duplicate id, then for a duplicate its state and created-at ('' '').
local now = ARGV[3]
local out = {}
local wake = false
if KEYS[15] and ARGV[5] ~= '' then redis.call('SADD', KEYS[15], ARGV[5]) end
for i = 6, #ARGV, 13 do
  local id, state = ARGV[i], ARGV[i + 1]
  local jk = JOB .. id
  if redis.call('EXISTS', jk) == 1 then
    local v = redis.call('HMGET', jk, 'st', 'c')
    out[#out + 1] = 2; out[#out + 1] = v[1] or ''; out[#out + 1] = v[2] or ''
  else
    -- Updated-at and pending-since are left out while they equal created-at (readers fall back to it): every
    -- waiting job carries its hash, so each field saved is memory saved per job.
    local fields = { 'ty', ARGV[i + 3], 'tn', ARGV[i + 4], 'st', state, 'p', ARGV[i + 5], 'a', '0', 'mr', ARGV[i + 6],
      'rt', ARGV[i + 11], 'c', now }
    local optional = { 'sa', ARGV[i + 2], 'to', ARGV[i + 7], 'dl', ARGV[i + 8], 'uk', ARGV[i + 9], 'uu', ARGV[i + 10], 'tp', ARGV[i + 12] }
    for j = 1, #optional, 2 do
      if optional[j + 1] ~= '' then
        fields[#fields + 1] = optional[j]
        fields[#fields + 1] = optional[j + 1]
      end
    end
    redis.call('HSET', jk, unpack(fields))
    redis.call('ZADD', TENANT .. ARGV[i + 4], now, id)
    -- The tenants that have a listing in this queue (the key is the prefix itself: a tenant name is never empty).
    redis.call('SADD', TENANT, ARGV[i + 4])
    if state == 'pending' then
      -- Only a push into an empty list wakes anyone: a worker waits only after it found the queue empty, and
      -- the first push after that finds it empty again, so no wake-up is lost.
      if push_pending(id, ARGV[i + 4]) == 1 then wake = true end
    else
      redis.call('ZADD', STATE_KEY.scheduled, ARGV[i + 2], id)
    end
    out[#out + 1] = 0; out[#out + 1] = ''; out[#out + 1] = ''
  end
end
if wake then notify(ARGV[4]) end
return out
