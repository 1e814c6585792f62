-- Deletes up to a number of this queue's oldest finished jobs (by completion time) beyond the newest ones a count
-- cap keeps: succeeded jobs, then partial, failed and cancelled jobs together, each class from its own set.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] succeeded jobs to keep ('' for no cap)  ARGV[4] partial+failed+cancelled jobs to keep ('' for no cap)
-- ARGV[5] limit
-- Returns a flat array, 4 entries per deleted job: id, tenant, unique key ('' for none) and the job's claim on it
-- ('', queue.lib.lua's unique_claim), so that the caller can drop the job's entries in the keys outside this queue's
-- slot (id lookup, unique key), as purge.lua does.
local left = tonumber(ARGV[5])
local out = {}
for _, cap in ipairs({ { KEYS[11], ARGV[3] }, { KEYS[12], ARGV[4] } }) do
  local class, keep = cap[1], cap[2]
  if keep ~= '' and left > 0 then
    local excess = redis.call('ZCARD', class) - tonumber(keep)
    if excess > 0 then
      local ids = redis.call('ZRANGE', class, 0, math.min(excess, left) - 1)
      for _, id in ipairs(ids) do
        redis.call('ZREM', class, id)
        local jk = JOB .. id
        local v = redis.call('HMGET', jk, 'st', 'tn', 'uk', 'uu', 'c')
        if FINISHED[v[1]] and FINISH_ORDER[v[1]] == class then
          redis.call('ZREM', STATE_KEY[v[1]], id)
          redis.call('DEL', jk, jk .. '#s', jk .. '#r')
          if v[2] then unlist(v[2], id) end
          local n = #out
          out[n + 1] = id; out[n + 2] = v[2] or ''; out[n + 3] = v[3] or ''
          out[n + 4] = unique_claim(id, v[3], v[4], v[5])
          left = left - 1
        end
      end
    end
  end
end
return out
