-- Stores every job of a list, in several queues, or none (a fan-out's jobs). Every job is checked before the first
-- write, and the writes that follow cannot be refused, so Redis (which runs a script whole) never keeps a part.
-- KEYS[1] the set of queue names (registered here when ARGV[4] is '1'; in a Cluster the store registers them itself).
-- KEYS[4q-2], KEYS[4q-1], KEYS[4q], KEYS[4q+1] queue q's pending list, scheduled zset, fair flag and fair turns
-- (queue.lib.lua) (q = 1..ARGV[3]); after them the id lookups and the
-- unique keys of the jobs that have one (see each job's indexes).
-- ARGV[1] now (µs)  ARGV[2] wake-up "<channel>\n<sender>"  ARGV[3] number of queues  ARGV[4] '1' to register queues
-- ARGV[5] the store's key prefix (to read a holder's hash in another queue: "<prefix>:{<queue>}:j:<id>").
-- Then 3 entries per queue: name, job hash prefix, tenant index prefix. Then 17 entries per job: its queue's number,
-- the KEYS index of its id lookup (0: a generated id has none), of its unique key (0: none), the unique key's
-- until (µs), and enqueue.lua's 13: id, state, scheduled-at, type, tenant, payload, max retry, timeout, deadline,
-- unique key, unique-until, retention, traceparent.
-- Returns {0} when every job was stored, else {1, index (0-based) of the refused job, 1 duplicate id | 2 unique key,
-- holder id, holder state, holder queue, holder created-at}: then nothing was written.
local now, nq = ARGV[1], tonumber(ARGV[3])
local FINISHED = { succeeded = true, partial = true, failed = true, cancelled = true }
local queues = {}
for q = 1, nq do
  local a = 6 + (q - 1) * 3
  queues[q] = { name = ARGV[a], job = ARGV[a + 1], tenant = ARGV[a + 2], pending = KEYS[4 * q - 2], scheduled = KEYS[4 * q - 1],
    fair = KEYS[4 * q], lanes = KEYS[4 * q + 1] }
end
local first = 6 + nq * 3

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
    if other and other ~= q.name then
      local v = redis.call('HMGET', holder_hash(other, id), 'st', 'c')
      if v[1] then return { 1, id, v[1], other, v[2] or '' } end
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

local index = 0
for a = first, #ARGV, 17 do
  local refused = refusal(a)
  if refused then return { 1, index, refused[1], refused[2], refused[3], refused[4], refused[5] } end
  index = index + 1
end

local wake = false
for a = first, #ARGV, 17 do
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
  if state == 'pending' then
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
end
if ARGV[4] == '1' then
  for q = 1, nq do redis.call('SADD', KEYS[1], queues[q].name) end
end
if wake then
  local sep = string.find(ARGV[2], '\n', 1, true)
  redis.call('PUBLISH', string.sub(ARGV[2], 1, sep - 1), string.sub(ARGV[2], sep + 1))
end
return { 0 }
