-- Leases up to a number of pending jobs of one queue, oldest first.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] limit  ARGV[4] now  ARGV[5] lease expiry  ARGV[6] server id
-- ARGV[7] (optional) the number of concurrency limits on the queue, then three entries per limit: job type ('' for
-- every type), '1' to count per tenant or '0', maximum. With limits, a job is taken only if, for every limit that
-- matches its type, the queue's active jobs the limit counts (in its tenant when per tenant), with those taken here,
-- are fewer than the maximum: the slot is the active job itself, counted in the same script that leases, so an
-- acknowledgement, recovery or cancellation frees it and nothing can leak. A job held back stays in its place in the
-- pending list, its attempt not counted, and the script looks past it, at most ARGV[8 + 3n] jobs deep.
-- ARGV[9 + 3n] (optional, with ARGV[7] then given, '0' for no limit) the queue is fair: the last tenant the caller took a
-- job of ('' for none). A fair dequeue marks the queue fair (KEYS[13]), so that jobs becoming pending go to their
-- tenant's lane, moves the newest jobs of the pending list (ten per slot, 100 to 1000) to their lanes, and takes jobs in turns: in each round the next job of every tenant of the turns zset KEYS[14]
-- (byte order, after the last tenant, wrapping around; '' is the pending list, jobs pushed while the queue was not
-- fair), at most ceil(want / tenants) per tenant, looking again after a round in which some tenant ran out (at most 8
-- times). The tenants are found with ZRANGE BYLEX, so the backlog of any one of them costs nothing. A dequeue that is
-- not fair takes the pending list first and the lanes (in turns) only for the slots left, so turning fairness off
-- loses nothing: the flag is cleared once no lane is left.
-- Jobs come out in the order they were taken: turn order for a fair queue.
-- Returns a flat array, 13 entries per leased job: id, type, tenant, payload, attempt, max retry,
-- timeout ('' for none), deadline (''), lease token, traceparent (''), created-at, pending-since, batch ('').
-- Nothing when the queue is paused or empty. A job whose record is corrupt (a field missing or not a
-- number) goes to failed with an error naming the field, and the queue keeps flowing.
if redis.call('EXISTS', PAUSED) == 1 then return {} end
local now, expiry, server = ARGV[4], ARGV[5], ARGV[6]
local want = tonumber(ARGV[3])
local nlimits = tonumber(ARGV[7] or '0')
local fair_last = ARGV[9 + 3 * nlimits]
local limits, depth, running = {}, nil, {}
local function key(r, tn) if limits[r].per_tenant then return r .. '\n' .. (tn or '') end return tostring(r) end
local function matches(r, ty) return limits[r].ty == '' or limits[r].ty == ty end
if nlimits > 0 then
  for r = 1, nlimits do
    local b = 7 + 3 * (r - 1)
    limits[r] = { ty = ARGV[b + 1], per_tenant = ARGV[b + 2] == '1', max = tonumber(ARGV[b + 3]) }
  end
  depth = tonumber(ARGV[8 + 3 * nlimits])
  -- Far from every limit: each limit counts a part of the queue's active jobs, so when all of them and all this
  -- dequeue may take stay within the smallest maximum, no limit can be reached here, and the dequeue is the
  -- unlimited one (one ZCARD instead of a read per active job and per candidate).
  local smallest = limits[1].max
  for r = 2, nlimits do if limits[r].max < smallest then smallest = limits[r].max end end
  if redis.call('ZCARD', ACTIVE) + want <= smallest then
    nlimits = 0
  else
    for _, id in ipairs(redis.call('ZRANGE', ACTIVE, 0, -1)) do
      local v = redis.call('HMGET', JOB .. id, 'ty', 'tn')
      for r = 1, nlimits do
        if matches(r, v[1]) then local k = key(r, v[2]); running[k] = (running[k] or 0) + 1 end
      end
    end
  end
end

-- True when a limit over every job of the queue (any type, not per tenant) is full: then no job can fit.
local function queue_full()
  for r = 1, nlimits do
    if limits[r].ty == '' and not limits[r].per_tenant and (running[key(r)] or 0) >= limits[r].max then return true end
  end
  return false
end

-- True, counting the job, when every limit that matches it has a free slot. A record without type or tenant is
-- taken, and failed as corrupt below.
local function fits(st, ty, tn)
  if nlimits == 0 or st ~= 'pending' or not ty or not tn then return true end
  for r = 1, nlimits do
    if matches(r, ty) and (running[key(r, tn)] or 0) >= limits[r].max then return false end
  end
  for r = 1, nlimits do
    if matches(r, ty) then local k = key(r, tn); running[k] = (running[k] or 0) + 1 end
  end
  return true
end

-- Up to want ids of one list, oldest first, that fit the limits (looking at most depth deep); taken out of it.
local function take_from(list, count)
  if nlimits == 0 then
    return redis.call('RPOP', list, count) or {}
  end
  local ids = {}
  -- Candidates are read from the tail (the oldest) in windows that grow as jobs are held back; a job taken leaves
  -- the list, so the next window starts after the ones kept.
  local kept, seen, window = 0, 0, math.max(count * 2, 16)
  while #ids < count and seen < depth and not queue_full() do
    window = math.min(window, depth - seen)
    local candidates = redis.call('LRANGE', list, -(kept + window), -(kept + 1))
    if #candidates == 0 then break end
    for c = #candidates, 1, -1 do
      if #ids >= count or queue_full() then break end
      local id = candidates[c]
      seen = seen + 1
      local v = redis.call('HMGET', JOB .. id, 'st', 'ty', 'tn')
      if fits(v[1], v[2], v[3]) then
        redis.call('LREM', list, -1, id)
        if v[1] == 'pending' then ids[#ids + 1] = id end
      else
        kept = kept + 1
      end
    end
    if #candidates < window then break end
    window = window * 4
  end
  return ids
end

-- Takes up to count ids from the lanes, in turns after the tenant last, appending them to ids.
local function take_in_turns(count, last, ids)
  for round = 1, 8 do
    if count <= 0 then break end
    local tenants = redis.call('ZRANGE', LANES, last == '' and '-' or '(' .. last, '+', 'BYLEX', 'LIMIT', 0, count)
    if #tenants < count and last ~= '' then
      for _, t in ipairs(redis.call('ZRANGE', LANES, '-', '[' .. last, 'BYLEX', 'LIMIT', 0, count - #tenants)) do
        tenants[#tenants + 1] = t
      end
    end
    if #tenants == 0 then break end
    local share = math.ceil(count / #tenants)
    local before = count
    -- Under limits, each tenant's candidates are read once (a window of its oldest jobs) and walked.
    local windows = {}
    local function next_of(t)
      local lane = lane_of(tenants[t])
      if nlimits == 0 then return redis.call('RPOP', lane) end
      local w = windows[t]
      if not w then
        w = { ids = redis.call('LRANGE', lane, -math.max(share, math.floor(depth / #tenants)), -1) }
        w.pos = #w.ids
        windows[t] = w
      end
      while w.pos >= 1 and not queue_full() do
        local id = w.ids[w.pos]
        w.pos = w.pos - 1
        local v = redis.call('HMGET', JOB .. id, 'st', 'ty', 'tn')
        if fits(v[1], v[2], v[3]) then
          redis.call('LREM', lane, -1, id)
          if v[1] == 'pending' then return id end
        end
      end
      return nil
    end
    local out = {}
    for rank = 1, share do
      for t = 1, #tenants do
        if count > 0 and not out[t] then
          local id = next_of(t)
          if id then
            ids[#ids + 1] = id
            count = count - 1
            last = tenants[t]
          else
            out[t] = true
          end
        end
      end
    end
    for t = 1, #tenants do
      if redis.call('LLEN', lane_of(tenants[t])) == 0 then redis.call('ZREM', LANES, tenants[t]) end
    end
    if count == before then break end
  end
  return count
end

local ids = {}
if fair_last then
  redis.call('SET', FAIR, '1')
  -- Jobs pushed while the queue was not fair: the newest, ten per slot asked (100 to 1000), move to their tenants' lanes, at the
  -- head (they are older than anything a lane holds); the older ones wait as the turn ''. So a job enqueued behind a
  -- backlog before the queue became fair is found at once.
  local moved = redis.call('LPOP', PENDING, math.min(1000, math.max(100, want * 10)))
  if moved then
    for _, id in ipairs(moved) do
      local tn = redis.call('HGET', JOB .. id, 'tn')
      if tn and tn ~= '' then
        if redis.call('RPUSH', LANES .. tn, id) == 1 then redis.call('ZADD', LANES, 0, tn) end
      else
        redis.call('RPUSH', PENDING, id)
      end
    end
  end
  if redis.call('LLEN', PENDING) > 0 then redis.call('ZADD', LANES, 0, '') else redis.call('ZREM', LANES, '') end
  take_in_turns(want, fair_last, ids)
else
  ids = take_from(PENDING, want)
  if #ids < want and redis.call('EXISTS', LANES) == 1 then
    redis.call('ZREM', LANES, '')
    take_in_turns(want - #ids, '', ids)
    if redis.call('EXISTS', LANES) == 0 then redis.call('DEL', FAIR) end
  end
end
if #ids == 0 then return {} end
local first = redis.call('INCRBY', LEASESEQ, #ids) - #ids
local out = {}
for i, id in ipairs(ids) do
  local jk = JOB .. id
  local v = redis.call('HMGET', jk, 'st', unpack(LEASE_FIELDS))
  -- An id whose job was deleted, or that is no longer pending, is dropped from the list.
  if table.remove(v, 1) == 'pending' then
    local bad = lease_fault(v)
    if bad then
      local attempt = (tonumber(v[4]) or 0) + 1
      local kept = redis.call('HMGET', jk, 'rt', 'err')
      finish(jk, id, 'failed', now, kept[1], { 'a', int(attempt), 'err', append_errors(kept[2],
        error_json(attempt, 'The job record is corrupt: field ' .. bad .. ' is missing or malformed.', now)) })
    else
      lease_record(ACTIVE, jk, id, v, int(first + i), now, expiry, server, out)
    end
  end
end
return out
