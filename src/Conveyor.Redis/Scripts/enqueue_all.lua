-- Stores every job of a list, in several queues, or none (a fan-out's jobs). Every job is checked before the first
-- write, and the writes that follow cannot be refused, so Redis (which runs a script whole) never keeps a part.
-- KEYS[1] the set of queue names (registered here when ARGV[4] is '1'; in a Cluster the store registers them itself).
-- KEYS[4q-2], KEYS[4q-1], KEYS[4q], KEYS[4q+1] queue q's pending list, scheduled zset, fair flag and fair turns
-- (queue.lib.lua) (q = 1..ARGV[3]); after them the id lookups and the
-- unique keys of the jobs that have one (see each job's indexes).
-- ARGV[1] now (µs)  ARGV[2] wake-up "<channel>\n<sender>"  ARGV[3] number of queues  ARGV[4] '1' to register queues
-- ARGV[5] the store's key prefix (to read a holder's hash in another queue: "<prefix>:{<queue>}:j:<id>").
-- ARGV[6] batch operation: '' none, 'create' (the batch ARGV[7] of tenant ARGV[8], retention ARGV[9] µs, created
-- here, with the workflow definition ARGV[10] as its field wd when not '', and listed among the tenant's batches) or 'add' (to the running batch ARGV[7] of
-- tenant ARGV[8]).  ARGV[11] '1' on a Redis Cluster: the store has made or checked the batch on its slot, and links
-- this script's jobs to what is on other slots (each job's remote dependencies) itself (flow_link.lua); a job's batch
-- and its remote dependencies are only recorded here (bo, and rd with wf counting them), never read.  ARGV[12] a key
-- of this slot set (for a day) when the jobs are stored ('' none): the mark by which a store that finishes the storing
-- of a workflow its process left half-done knows this part is done (RedisJobStore.Outbox.cs).
-- Then 3 entries per queue: name, job hash prefix, tenant index prefix. Then 20 entries per job: its queue's number,
-- the KEYS index of its id lookup (0: a generated id has none), of its unique key (0: none), the unique key's
-- until (µs), enqueue.lua's 13: id, state ('waiting' for a job with dependencies), scheduled-at, type, tenant,
-- payload, max retry, timeout, deadline, unique key, unique-until, retention, traceparent; then its batch (''), its
-- dependencies as JSON [[id, success_only, on_batch], …] (''), and each dependency's queue, comma-separated ('' for a
-- batch, or a job not found), and a '1' or '0' per dependency: remote (on another slot, ARGV[11] '1'). Workflow jobs are linked as flow.lib.lua describes, in list order.
-- Returns {0, each job's state after linking} when every job was stored, else {1, index (0-based) of the refused job,
-- 1 duplicate id | 2 unique key | 3 dependency not found, holder (or dependency) id, holder state, holder queue,
-- holder created-at}, {2} when the batch to add to is not the tenant's or not running, {3} when the batch to create
-- exists: then nothing was written.
local now, nq = ARGV[1], tonumber(ARGV[3])
local batch_op, batch_id, batch_tenant = ARGV[6], ARGV[7], ARGV[8]
flow.prefix = ARGV[5]
local cluster = ARGV[11] == '1'
local FINISHED = { succeeded = true, partial = true, failed = true, cancelled = true }
local queues = {}
for q = 1, nq do
  local a = 13 + (q - 1) * 3
  queues[q] = { name = ARGV[a], job = ARGV[a + 1], tenant = ARGV[a + 2], pending = KEYS[4 * q - 2], scheduled = KEYS[4 * q - 1],
    fair = KEYS[4 * q], lanes = KEYS[4 * q + 1] }
end
local first = 13 + nq * 3
local PER_JOB = 21

local function holder_hash(queue, id) return ARGV[5] .. ':{' .. queue .. '}:j:' .. id end

-- Why job i (ARGV from a) would be refused, or nil.
local function refusal(a)
  local q = queues[tonumber(ARGV[a])]
  local id = ARGV[a + 4]
  local own = redis.call('HMGET', q.job .. id, 'st', 'c')
  if own[1] then return { 1, id, own[1], q.name, own[2] or '' } end
  local ix = tonumber(ARGV[a + 1])
  if ix > 0 then
    local other = redis.call('GET', KEYS[ix])
    -- An in-progress mark, "<queue>\t<claimed-at>\t<held-until>": an enqueue into that queue claimed the id and is
    -- storing the job (RedisJobStore.Enqueue.cs); past its held-until, that enqueue stopped.
    local marked, claimed, held = string.match(other or '', '^([^\t]*)\t(%d*)\t(%d*)$')
    other = marked or other
    if other and other ~= q.name then
      local v = redis.call('HMGET', holder_hash(other, id), 'st', 'c')
      if v[1] then return { 1, id, v[1], other, v[2] or '' } end
      if held and (tonumber(held) or 0) > tonumber(now) then return { 1, id, 'pending', other, claimed } end
    end
  end
  local uq = tonumber(ARGV[a + 2])
  if uq > 0 then
    local current = redis.call('GET', KEYS[uq])
    if current then
      local hq, hid, huntil, hcreated = string.match(current, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$')
      if hq and tonumber(huntil) > tonumber(now) then
        local v = redis.call('HMGET', holder_hash(hq, hid), 'st', 'c')
        if not v[1] and hid ~= id then return { 2, hid, 'pending', hq, hcreated } end
        if v[1] and not FINISHED[v[1]] then return { 2, hid, v[1], hq, v[2] or '' } end
      end
    end
  end
  return nil
end

-- The dependency queues of job a, in the order of its dependencies.
local function dependency_queues(a)
  local out = {}
  for name in string.gmatch(ARGV[a + 19] .. ',', '([^,]*),') do out[#out + 1] = name end
  return out
end

-- The batch or dependency of job a (ARGV from a) that does not exist in its tenant, or its batch when that no longer
-- runs (a finished or cancelled batch takes no new member, as 'add' adds to none), or nil; earlier holds the ids of
-- the jobs of the list before it.
local function missing(a, earlier)
  local tenant, b, dp = ARGV[a + 8], ARGV[a + 17], ARGV[a + 18]
  if b ~= '' and not cluster and not (batch_op ~= '' and b == batch_id) then
    local v = redis.call('HMGET', flow_batch(b), 'tn', 'st')
    if v[1] ~= tenant or v[2] ~= 'running' then return b end
  end
  if dp == '' then return nil end
  local queues = dependency_queues(a)
  for k, d in ipairs(cjson.decode(dp)) do
    local found
    if string.sub(ARGV[a + 20], k, k) == '1' then
      found = true
    elseif d[3] == 1 then
      found = (batch_op == 'create' and d[1] == batch_id) or redis.call('HGET', flow_batch(d[1]), 'tn') == tenant
    else
      found = earlier[d[1]] or ((queues[k] or '') ~= '' and redis.call('HGET', flow_queue(queues[k]) .. 'j:' .. d[1], 'tn') == tenant)
    end
    if not found then return d[1] end
  end
  return nil
end

if batch_op == 'create' and redis.call('EXISTS', flow_batch(batch_id)) == 1 then return { 3 } end
if batch_op == 'add' then
  local v = redis.call('HMGET', flow_batch(batch_id), 'tn', 'st')
  if v[1] ~= batch_tenant or v[2] ~= 'running' then return { 2 } end
end

local index = 0
local earlier = {}
for a = first, #ARGV, PER_JOB do
  local refused = refusal(a)
  if refused then return { 1, index, refused[1], refused[2], refused[3], refused[4], refused[5] } end
  if ARGV[a + 17] ~= '' or ARGV[a + 18] ~= '' then
    local absent = missing(a, earlier)
    if absent then return { 1, index, 3, absent, 'waiting', queues[tonumber(ARGV[a])].name, now } end
  end
  earlier[ARGV[a + 4]] = true
  index = index + 1
end

if batch_op == 'create' then
  redis.call('HSET', flow_batch(batch_id), 'tn', batch_tenant, 'st', 'running', 'n', 0, 's', 0, 'f', 0, 'x', 0,
    'rt', ARGV[9], 'c', now, 'u', now)
  if ARGV[10] ~= '' then redis.call('HSET', flow_batch(batch_id), 'wd', ARGV[10]) end
  redis.call('ZADD', flow_batch_listing(batch_tenant), now, batch_id)
  redis.call('ZADD', flow_every_batch_listing(), now, batch_id)
end

-- Every member of the list is counted in its batch (and listed among its unfinished members) before the first is
-- stored: a member that finishes as it is stored (a dependency that already failed cancels it) must not finish its
-- batch while members later in the list are still to come. On a Cluster the store has counted them (batch_join.lua).
if not cluster then
  for a = first, #ARGV, PER_JOB do
    local b = ARGV[a + 17]
    if b ~= '' then
      local bk = flow_batch(b)
      redis.call('HINCRBY', bk, 'n', 1)
      redis.call('HSET', bk, 'u', now)
      redis.call('SADD', bk .. '#m', queues[tonumber(ARGV[a])].name .. '\t' .. ARGV[a + 4])
    end
  end
end

-- Links a stored job (ARGV from a) to its batch and to what it waits for; returns its state after linking: a job
-- whose dependencies have all finished is released (or cancelled) at once.
local function link(a, q, id, state)
  local b, dp = ARGV[a + 17], ARGV[a + 18]
  local base = string.sub(q.job, 1, -3)
  local jk = q.job .. id
  if b ~= '' and cluster then
    redis.call('HSET', jk, 'b', b, 'fl', '1', 'bo', '1')
  elseif b ~= '' then
    redis.call('HSET', jk, 'b', b, 'fl', '1')
  end
  if dp == '' then return state end
  redis.call('HSET', jk, 'dp', dp)
  local queues = dependency_queues(a)
  local unfinished, failed, policy, remote = 0, nil, nil, false
  for k, d in ipairs(cjson.decode(dp)) do
    -- d[2]: 0 any outcome, 1 success only (else cancelled), 2 success only (else failed).
    local s = tostring(d[2])
    local entry = s .. '\t' .. q.name .. '\t' .. id
    if string.sub(ARGV[a + 20], k, k) == '1' then
      -- Linked on its own slot by the store once this job is stored waiting (flow_link.lua).
      if not remote then
        remote = true
        redis.call('HSET', jk, 'rd', '1')
      end
      unfinished = unfinished + 1
    elseif d[3] == 1 then
      local bk = flow_batch(d[1])
      local v = redis.call('HMGET', bk, 'fin', 'st')
      if not v[1] then
        redis.call('RPUSH', bk .. '#d', entry)
        unfinished = unfinished + 1
      elseif d[2] >= 1 and v[2] ~= 'succeeded' and not failed then
        failed, policy = d[1], s
      end
    else
      local djk = flow_queue(queues[k]) .. 'j:' .. d[1]
      local st = redis.call('HGET', djk, 'st')
      if not FINISHED[st] then
        redis.call('RPUSH', djk .. '#d', entry)
        redis.call('HSET', djk, 'fl', '1')
        unfinished = unfinished + 1
      elseif d[2] >= 1 and not FLOW_SUCCEEDED[st] and not failed then
        failed, policy = d[1], s
      end
    end
  end
  if failed then
    local work = {}
    local ended = flow_unmet(base, jk, id, policy, failed, now, work)
    if #work > 0 then flow_finished(base, id, ended, now) end
    return ended
  end
  if unfinished == 0 then return flow_release(base, jk, id, now) end
  redis.call('HSET', jk, 'wf', unfinished)
  return 'waiting'
end

local wake = false
local out = { 0 }
for a = first, #ARGV, PER_JOB do
  local q = queues[tonumber(ARGV[a])]
  local j = a + 4
  local id, state = ARGV[j], ARGV[j + 1]
  -- The same fields as enqueue.lua writes.
  local fields = { 'ty', ARGV[j + 3], 'tn', ARGV[j + 4], 'st', state, 'p', ARGV[j + 5], 'a', '0', 'mr', ARGV[j + 6],
    'rt', ARGV[j + 11], 'c', now }
  local optional = { 'sa', ARGV[j + 2], 'to', ARGV[j + 7], 'dl', ARGV[j + 8], 'uk', ARGV[j + 9], 'uu', ARGV[j + 10], 'tp', ARGV[j + 12] }
  for o = 1, #optional, 2 do
    if optional[o + 1] ~= '' then
      fields[#fields + 1] = optional[o]
      fields[#fields + 1] = optional[o + 1]
    end
  end
  redis.call('HSET', q.job .. id, unpack(fields))
  redis.call('ZADD', q.tenant .. ARGV[j + 4], now, id)
  redis.call('SADD', q.tenant, ARGV[j + 4])
  if state == 'waiting' then
    redis.call('ZADD', string.sub(q.job, 1, -3) .. 'waiting', now, id)
  elseif state == 'pending' then
    -- As queue.lib.lua's push_pending: into the tenant's lane while the queue is fair.
    local list = q.pending
    if redis.call('EXISTS', q.fair) == 1 then list = q.lanes .. ARGV[j + 4] end
    if redis.call('LPUSH', list, id) == 1 then
      wake = true
      if list ~= q.pending then redis.call('ZADD', q.lanes, 0, ARGV[j + 4]) end
    end
  else
    redis.call('ZADD', q.scheduled, ARGV[j + 2], id)
  end
  local ix, uq = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if ix > 0 then redis.call('SET', KEYS[ix], q.name) end
  if uq > 0 then redis.call('SET', KEYS[uq], q.name .. '\t' .. id .. '\t' .. ARGV[a + 3] .. '\t' .. now) end
  if ARGV[a + 17] ~= '' or ARGV[a + 18] ~= '' then state = link(a, q, id, state) end
  out[#out + 1] = state
end
if ARGV[12] ~= '' then redis.call('SET', ARGV[12], '1', 'PX', 86400000) end
if ARGV[4] == '1' then
  for q = 1, nq do redis.call('SADD', KEYS[1], queues[q].name) end
end
if wake then
  local sep = string.find(ARGV[2], '\n', 1, true)
  redis.call('PUBLISH', string.sub(ARGV[2], 1, sep - 1), string.sub(ARGV[2], sep + 1))
end
return out
