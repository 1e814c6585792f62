-- Deletes up to a number of this queue's finished jobs whose retention has passed.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] now  ARGV[4] limit
-- Returns a flat array, 4 entries per deleted job: id, tenant, unique key ('' for none) and the job's claim on it
-- ('', queue.lib.lua's unique_claim), so that the caller can drop the job's entries in the keys outside this queue's
-- slot (id lookup, unique key).
local now, left = ARGV[3], tonumber(ARGV[4])
local out = {}
for _, state in ipairs({ 'succeeded', 'partial', 'failed', 'cancelled' }) do
  if left <= 0 then break end
  local ids = redis.call('ZRANGEBYSCORE', STATE_KEY[state], '-inf', now, 'LIMIT', 0, left)
  for _, id in ipairs(ids) do
    redis.call('ZREM', STATE_KEY[state], id)
    redis.call('ZREM', FINISH_ORDER[state], id)
    local jk = JOB .. id
    local v = redis.call('HMGET', jk, 'st', 'tn', 'uk', 'uu', 'c')
    if v[1] == state then
      redis.call('DEL', jk, jk .. '#s', jk .. '#r')
      if v[2] then unlist(v[2], id) end
      local n = #out
      out[n + 1] = id; out[n + 2] = v[2] or ''; out[n + 3] = v[3] or ''
      out[n + 4] = unique_claim(id, v[3], v[4], v[5])
      left = left - 1
    end
  end
end
return out
