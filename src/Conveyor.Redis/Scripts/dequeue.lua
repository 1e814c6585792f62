-- Leases up to a number of pending jobs of one queue, oldest first.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] limit  ARGV[4] now  ARGV[5] lease expiry  ARGV[6] server id
-- ARGV[7] (optional) the number of concurrency limits on the queue, then three entries per limit: job type ('' for
-- every type), '1' to count per tenant or '0', maximum. With limits, a job is taken only if, for every limit that
-- matches its type, the queue's active jobs the limit counts (in its tenant when per tenant), with those taken here,
-- are fewer than the maximum: the slot is the active job itself, counted in the same script that leases, so an
-- acknowledgement, recovery or cancellation frees it and nothing can leak. A job held back stays in its place in the
-- pending list, its attempt not counted, and the script looks past it, at most ARGV[8 + 3n] jobs deep.
-- Returns a flat array, 12 entries per leased job: id, type, tenant, payload, attempt, max retry,
-- timeout ('' for none), deadline (''), lease token, traceparent (''), created-at, pending-since.
-- Nothing when the queue is paused or empty. A job whose record is corrupt (a field missing or not a
-- number) goes to failed with an error naming the field, and the queue keeps flowing.
if redis.call('EXISTS', PAUSED) == 1 then return {} end
local now, expiry, server = ARGV[4], ARGV[5], ARGV[6]
local ids
local nlimits = tonumber(ARGV[7] or '0')
if nlimits == 0 then
  ids = redis.call('RPOP', PENDING, tonumber(ARGV[3]))
  if not ids then return {} end
else
  local limits = {}
  for r = 1, nlimits do
    local b = 7 + 3 * (r - 1)
    limits[r] = { ty = ARGV[b + 1], per_tenant = ARGV[b + 2] == '1', max = tonumber(ARGV[b + 3]) }
  end
  local depth = tonumber(ARGV[8 + 3 * nlimits])
  local running = {}
  local function key(r, tn) if limits[r].per_tenant then return r .. '\n' .. (tn or '') end return tostring(r) end
  local function matches(r, ty) return limits[r].ty == '' or limits[r].ty == ty end
  for _, id in ipairs(redis.call('ZRANGE', ACTIVE, 0, -1)) do
    local v = redis.call('HMGET', JOB .. id, 'ty', 'tn')
    for r = 1, nlimits do
      if matches(r, v[1]) then local k = key(r, v[2]); running[k] = (running[k] or 0) + 1 end
    end
  end
  ids = {}
  local want = tonumber(ARGV[3])
  local candidates = redis.call('LRANGE', PENDING, -depth, -1)
  for c = #candidates, 1, -1 do
    if #ids >= want then break end
    local id = candidates[c]
    local v = redis.call('HMGET', JOB .. id, 'st', 'ty', 'tn')
    local fits = true
    -- A record without type or tenant is taken, and failed as corrupt below.
    if v[1] == 'pending' and v[2] and v[3] then
      for r = 1, nlimits do
        if matches(r, v[2]) and (running[key(r, v[3])] or 0) >= limits[r].max then fits = false; break end
      end
      if fits then
        for r = 1, nlimits do
          if matches(r, v[2]) then local k = key(r, v[3]); running[k] = (running[k] or 0) + 1 end
        end
      end
    end
    if fits then
      redis.call('LREM', PENDING, -1, id)
      if v[1] == 'pending' then ids[#ids + 1] = id end
    end
  end
  if #ids == 0 then return {} end
end
local first = redis.call('INCRBY', LEASESEQ, #ids) - #ids
local out = {}
for i, id in ipairs(ids) do
  local jk = JOB .. id
  local v = redis.call('HMGET', jk, 'st', 'ty', 'tn', 'p', 'a', 'mr', 'to', 'dl', 'tp', 'c', 'e')
  -- An id whose job was deleted, or that is no longer pending, is dropped from the list.
  if v[1] == 'pending' then
    local bad = nil
    if not v[2] or v[2] == '' then bad = 'ty (type)'
    elseif not v[3] or v[3] == '' then bad = 'tn (tenant)'
    elseif not v[4] then bad = 'p (payload)'
    elseif not tonumber(v[5]) then bad = 'a (attempts)'
    elseif not tonumber(v[6]) then bad = 'mr (max retry)'
    elseif not tonumber(v[10]) then bad = 'c (created-at)'
    elseif v[7] and not tonumber(v[7]) then bad = 'to (timeout)'
    elseif v[8] and not tonumber(v[8]) then bad = 'dl (deadline)'
    end
    if bad then
      local attempt = (tonumber(v[5]) or 0) + 1
      local kept = redis.call('HMGET', jk, 'rt', 'err')
      finish(jk, id, 'failed', now, kept[1], { 'a', int(attempt), 'err', append_errors(kept[2],
        error_json(attempt, 'The job record is corrupt: field ' .. bad .. ' is missing or malformed.', now)) })
    else
      local attempt = tonumber(v[5]) + 1
      local token = int(first + i)
      redis.call('HSET', jk, 'st', 'active', 'a', int(attempt), 's', now, 'u', now, 'lt', token, 'le', expiry, 'ls', server)
      redis.call('ZADD', ACTIVE, expiry, id)
      local n = #out
      out[n + 1] = id; out[n + 2] = v[2]; out[n + 3] = v[3]; out[n + 4] = v[4]
      out[n + 5] = int(attempt); out[n + 6] = v[6]; out[n + 7] = v[7] or ''; out[n + 8] = v[8] or ''
      out[n + 9] = token; out[n + 10] = v[9] or ''; out[n + 11] = v[10]; out[n + 12] = v[11] or v[10]
    end
  end
end
return out
