-- Prepended to every queue script (RedisScripts). One queue's keys, all under the queue's hash tag,
-- so that a script touches one Redis Cluster slot. The layout is RedisKeys.QueueKeys:
-- KEYS[1] pending list (LPUSH in, RPOP out: FIFO; RPUSH puts a job back at the head)   KEYS[2] active zset (score: lease expiry)
-- KEYS[3] scheduled zset (score: due)               KEYS[4] retrying zset (score: due)
-- KEYS[5..8] succeeded, partial, failed, cancelled zsets (score: retention expiry)
-- KEYS[9] paused flag                               KEYS[10] lease token counter
-- KEYS[11] succeeded zset, KEYS[12] partial+failed+cancelled zset (score: completed-at): the count cap's order
-- KEYS[13] fair flag: set while the queue is fair (by its fair dequeues); a job that becomes pending then goes to its tenant's lane
-- KEYS[14] fair turns: zset (all scores 0, so in byte order) of the tenants whose lane holds jobs, '' standing for the
--          pending list itself; the key is also the prefix of each lane, a list like the pending list: "<KEYS[14]><tenant>"
-- ARGV[1] job hash key prefix ("<prefix>:{<queue>}:j:")   ARGV[2] tenant index key prefix ("…:t:")
-- The waiting jobs' zset ("<prefix>:{<queue>}:waiting", score: created-at) is named from ARGV[1] (flow.lib.lua).
-- Times are unix microseconds chosen by the caller's TimeProvider, never Redis TIME.
local PENDING, ACTIVE, PAUSED, LEASESEQ = KEYS[1], KEYS[2], KEYS[9], KEYS[10]
local QUEUE_BASE = string.sub(ARGV[1] or '', 1, -3)
local STATE_KEY = { pending = KEYS[1], active = KEYS[2], scheduled = KEYS[3], retrying = KEYS[4],
  succeeded = KEYS[5], partial = KEYS[6], failed = KEYS[7], cancelled = KEYS[8], waiting = QUEUE_BASE .. 'waiting' }
local FINISHED = { succeeded = true, partial = true, failed = true, cancelled = true }
-- Finished jobs by completion time, one set per count-cap class (succeeded; the others together).
local FINISH_ORDER = { succeeded = KEYS[11], partial = KEYS[12], failed = KEYS[12], cancelled = KEYS[12] }
local JOB, TENANT = ARGV[1], ARGV[2]
local FAIR, LANES = KEYS[13], KEYS[14]

-- The list a fair queue's tenant waits in: its lane, or the pending list itself for '' (jobs pushed while not fair).
local function lane_of(tenant) if tenant == '' then return PENDING end return LANES .. tenant end

-- Pushes a job that became pending at the back of its queue (or at the head when front), into its tenant's lane
-- while the queue is fair (the one command a queue that is not fair pays: EXISTS). Returns the length of the list
-- pushed to, so a push into an empty one can wake the workers.
-- Puts a job back at the head of a list (its right end, where the dequeue takes), behind the jobs at the head that were
-- pending before it ('e', or its creation 'c' when it was never made pending again): jobs handed back by several calls, or recovered, run in the order they had, as on the other
-- stores. The walk stops at the first job pending since after it, and after 64.
local function pending_since(id)
  local v = redis.call('HMGET', JOB .. id, 'e', 'c')
  return tonumber(v[1] or v[2])
end

local function push_front_in_place(list, id)
  local since = pending_since(id)
  local ahead = {}
  while since and #ahead < 64 do
    local other = redis.call('LINDEX', list, -1 - #ahead)
    if not other then break end
    local other_since = pending_since(other)
    if not other_since or other_since >= since then break end
    ahead[#ahead + 1] = other
  end
  for _ = 1, #ahead do redis.call('RPOP', list) end
  local n = redis.call('RPUSH', list, id)
  for k = #ahead, 1, -1 do n = redis.call('RPUSH', list, ahead[k]) end
  return n
end

local function push_pending(id, tenant, front)
  local list = PENDING
  if redis.call('EXISTS', FAIR) == 1 then
    tenant = tenant or redis.call('HGET', JOB .. id, 'tn') or ''
    if tenant ~= '' then list = LANES .. tenant end
  end
  local n = front and push_front_in_place(list, id) or redis.call('LPUSH', list, id)
  if list ~= PENDING and n == 1 then redis.call('ZADD', LANES, 0, tenant) end
  return n
end

-- Takes a job out of its tenant's lane (when it is not in the pending list); a lane left empty leaves the turns.
local function unlink_lane(id)
  if redis.call('EXISTS', LANES) == 0 then return end
  local tenant = redis.call('HGET', JOB .. id, 'tn')
  if not tenant or tenant == '' then return end
  local lane = LANES .. tenant
  if redis.call('LREM', lane, 1, id) > 0 and redis.call('LLEN', lane) == 0 then redis.call('ZREM', LANES, tenant) end
end

-- Integers as plain digits: Lua's own tostring would write 1.7e+15.
local function int(n) return string.format('%.0f', n) end

-- errors is a JSON array kept as text; items is one or more JSON objects joined by commas. The errors kept are bounded
-- (flow_append_errors).
local append_errors = flow_append_errors

local function error_json(attempt, message, now)
  return '{"a":' .. int(attempt) .. ',"m":' .. cjson.encode(message) .. ',"o":' .. now .. '}'
end

-- Publishes a wake-up; the argument is "<channel>\n<sender>", so that a process can ignore its own.
local function notify(arg)
  local sep = string.find(arg, '\n', 1, true)
  redis.call('PUBLISH', string.sub(arg, 1, sep - 1), string.sub(arg, sep + 1))
end

-- Ordinal comparison of two strings (Lua's '<' follows the server's locale).
local function ordinal_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The claim a job holds on its unique key, exactly as its enqueue wrote it ("<queue>\t<id>\t<until>\t<created-at>",
-- until the largest long when the job has no unique-until), or '' for a job without a unique key or without its
-- created-at. A script that deletes a job returns it so that the caller, on the key's own slot, drops the claim only
-- while it is still this one: the same job stored again since (same id, same key) holds a claim of its own, with a
-- later created-at, which must survive.
local function unique_claim(id, uk, uu, created)
  if not uk or uk == '' or not created then return '' end
  return flow_queue_name(QUEUE_BASE) .. '\t' .. id .. '\t' .. (uu or '9223372036854775807') .. '\t' .. created
end

-- Takes a job out of its tenant's listing; a tenant left with no job here leaves the queue's set of tenants.
local function unlist(tenant, id)
  local index = TENANT .. tenant
  redis.call('ZREM', index, id)
  if redis.call('ZCARD', index) == 0 then redis.call('SREM', TENANT, tenant) end
end

-- Takes a job out of the structure that holds it in its current state.
local function unlink_state(id, state)
  if state == 'pending' then
    if redis.call('LREM', PENDING, 1, id) == 0 then unlink_lane(id) end
  elseif STATE_KEY[state] then
    redis.call('ZREM', STATE_KEY[state], id)
    if FINISHED[state] then redis.call('ZREM', FINISH_ORDER[state], id) end
  end
end

-- The retention (µs) a job's rt field gives the outcome: 'µs' for every outcome, or 'succeeded:failed:cancelled'
-- when they differ (failed also for partial).
local function retention_for(rt, state)
  local s, f, c = string.match(rt or '', '^(%d+):(%d+):(%d+)$')
  if not s then return tonumber(rt) or 0 end
  if state == 'succeeded' then return tonumber(s) end
  if state == 'cancelled' then return tonumber(c) end
  return tonumber(f)
end

-- Finishes a job: state, completed-at, and the expiry its retention (the rt field) gives the outcome; extra holds
-- more field/value pairs to write in the same HSET. flagged is the job's flow flag (fl) when the caller read it
-- (false: none, so no command more); nil reads it here. A flagged job's batch and dependants are resolved in the
-- same script (flow.lib.lua). batch: the job's FLOW_BATCH_FIELDS when the caller read them with the rest (then a
-- flagged member is marked counted in its batch by the same HSET, and flow_finished reads nothing more), else nil.
local function finish(jk, id, state, now, retention, extra, flagged, batch)
  local fields = { 'st', state, 'f', now, 'u', now }
  if extra then
    for i = 1, #extra do fields[#fields + 1] = extra[i] end
  end
  if flagged and batch and batch[1] and not batch[2] then
    fields[#fields + 1] = 'bd'; fields[#fields + 1] = '1'
  end
  redis.call('HSET', jk, unpack(fields))
  if flagged then
    redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr', 'fl')
  else
    redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr')
    if flagged == nil then flagged = redis.call('HDEL', jk, 'fl') == 1 end
  end
  redis.call('ZADD', STATE_KEY[state], int(tonumber(now) + retention_for(retention, state)), id)
  redis.call('ZADD', FINISH_ORDER[state], now, id)
  if flagged then flow_finished(QUEUE_BASE, id, state, now, batch) end
end

-- The attempt count of a job handed back without its attempt counting (released, snoozed, parked for a signal), from
-- its count 'a' under the lease: one less. The start ('s') goes with the attempt when none is left, since the job never
-- started; after an attempt that counted it stays this lease's, as no earlier start is kept.
local function uncount_attempt(jk, attempts)
  local left = math.max((tonumber(attempts) or 1) - 1, 0)
  if left == 0 then redis.call('HDEL', jk, 's') end
  return int(left)
end

-- Makes a job pending now, at the back of the queue.
local function make_pending(jk, id, now)
  redis.call('HSET', jk, 'st', 'pending', 'e', now, 'u', now)
  redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr')
  push_pending(id)
end

-- Hands a leased job (recovered or released) back to pending at the head of the queue, where it was when it was
-- leased: its pending-since ('e') is kept, as its place, and its progress starts again from 0. It goes behind the jobs
-- at the head pending since before it and in front of those pending since the same time, so push a batch pending since
-- one time in reverse order to keep its order. A job whose attempt ran (ran true: recovered, or released after its
-- handler ran) could run again only from now: 'w' records it, and the enqueued-at reported (lease_record,
-- queue_stats.lua) is the later of 'e' and 'w', so the queue wait and latency do not count the time it ran. One that
-- never started keeps its wait. Whatever makes it pending otherwise writes 'e' as that later time, which then wins.
local function return_to_head(jk, id, now, ran)
  if ran then
    redis.call('HSET', jk, 'st', 'pending', 'u', now, 'pr', '0', 'w', now)
  else
    redis.call('HSET', jk, 'st', 'pending', 'u', now, 'pr', '0')
  end
  redis.call('HDEL', jk, 'lt', 'le', 'ls', 'cr')
  push_pending(id, nil, true)
end

