-- Workflows (continuations and batches): prepended to every queue script (before queue.lib.lua) and to the scripts
-- that store or cancel workflow jobs (enqueue_all.lua, batch_cancel.lua). Whatever finishes a job (an acknowledgement,
-- a cancel, a lease recovery, a bulk action, a delete, a batch's cancel) calls flow_finished in the same script when
-- the job carries the flow flag, so the release is part of the finishing transition: Redis runs a script whole, so no
-- dependant or callback is released twice and none is lost when a worker dies.
-- Keys are built from the store's prefix (flow.prefix): a queue's "<prefix>:{<queue>}:…" (RedisKeys.QueueKeys), a
-- batch "<prefix>:{<prefix>:coord}:b:<id>" (hash: tn tenant, st state, n total, s succeeded, f failed, x cancelled,
-- rt retention µs, c created, u updated, fin finished), its callbacks "…:b:<id>#d" (list), its unfinished members
-- "…:b:<id>#m" (set of "<queue>\t<id>"), the generations of members on another slot that rejoined it "…:b:<id>#g"
-- (hash "<queue>\t<id>" → generation), the finished batches' expiries "<prefix>:{<prefix>:coord}:bexp" (zset), and each
-- tenant's batches by creation "<prefix>:{<prefix>:coord}:bt:<tenant>" (zset id → created-at µs: their listing), and
-- every tenant's "<prefix>:{<prefix>:coord}:ba" (the same, for an operator's listing).
-- Job hash fields: fl the flow flag ('1' while something waits for the job or its finish is still to be counted in its
-- batch: a job without it costs its finish nothing more), b batch, bd '1' once counted in it, bg how many times it
-- rejoined its batch on another slot (its generation, absent for 0), dp dependencies (JSON
-- [[id, success_only, on_batch], …]), wf unfinished dependencies of a waiting job, dr the latest time one of its
-- dependencies was resolved while others were still unfinished (flow_resolve, flow_release). What waits for a job: the list
-- "<job hash>#d" of "<s>\t<queue>\t<id>" (s '1' success only, '2' success only else failed, '0' any outcome). A waiting job is in the zset
-- "<prefix>:{<queue>}:waiting" (score: created-at), which no dequeue reads.
-- On a Redis Cluster every key a script touches must be on its slot. What crosses slots goes through outboxes
-- (ARCHITECTURE.md, "Workflows", Redis Cluster): a link whose dependant lives on another slot than what it waits for is
-- marked remote ("r<s>\t<queue>\t<id>"), and a job whose batch is on another slot carries bo '1'; the script that
-- finishes it appends, instead of resolving, "d\t<j|b>\t<dependency>\t<1 succeeded|0>\t<s>\t<queue>\t<id>\t<ended>" or
-- "c\t<batch>\t<queue>\t<id>\t<state>\t<generation>\t<ended>" (ended: when the job or batch finished, µs; none for
-- a dependency gone when linked, or in entries written before they carried it) to the outbox of its own slot ("<prefix>:{<queue>}:outbox", or the
-- coordination slot's "<prefix>:{<prefix>:coord}:outbox" for a batch's callbacks) and publishes 'outbox' on the
-- wake-up channel. outbox_apply.lua applies an entry on the other slot once: a dependant records what it resolved in
-- the set "<job hash>#r" (dropped when it stops waiting; rd '1' marks a job that may have one), a batch counts a
-- member only while it is in "b:<id>#m" and of the generation that rejoined it last.
local flow = { prefix = '', woke = false, nudged = false, take = nil, gathered = nil }
local FLOW_SUCCEEDED = { succeeded = true, partial = true }
-- A job's batch fields, read together: b, bd, bo, bg (above).
local FLOW_BATCH_FIELDS = { 'b', 'bd', 'bo', 'bg' }

local function flow_int(n) return string.format('%.0f', n) end

-- The later of a call's time and another time (µs, as text; nil or '' when there is none).
local function flow_later(now, other)
  if other and tonumber(other) and tonumber(other) > tonumber(now) then return other end
  return now
end

-- A job keeps at most FLOW_ERRORS_KEPT errors (JobError.MaxKeptPerJob, which RedisScript writes in when it loads the
-- script): its first, often the root cause, and the most recent; those in between are dropped as errors are appended.
local FLOW_ERRORS_KEPT = tonumber('@ERRORS_KEPT@')

-- Appends items (one or more JSON objects joined by commas) to errors (a JSON array kept as text) and returns the array
-- kept. Every error object starts with '{"a":', which no string inside one holds unescaped, so those starts count the
-- errors. An error object takes at least 20 bytes, so a text shorter than the cap's worth needs no count.
local function flow_append_errors(errors, items)
  local all
  if not errors or errors == '' or errors == '[]' then all = '[' .. items .. ']'
  else all = string.sub(errors, 1, -2) .. ',' .. items .. ']' end
  if #all < (FLOW_ERRORS_KEPT + 1) * 21 then return all end
  local starts, at = {}, 1
  while true do
    local found = string.find(all, '{"a":', at, true)
    if not found then break end
    starts[#starts + 1] = found
    at = found + 5
  end
  local n = #starts
  if n <= FLOW_ERRORS_KEPT then return all end
  -- '[' and the first error with its comma, then the most recent errors up to the closing ']'.
  return string.sub(all, 1, starts[2] - 1) .. string.sub(all, starts[n - FLOW_ERRORS_KEPT + 2])
end

-- The fields of a job record that a lease reads (HMGET in this order), and why a record read so cannot be leased: the
-- first field missing or malformed, named as the job's error names it, or nil when the record is sound. dequeue.lua
-- fails such a job as corrupt; the hand-off (flow_take) leaves it pending for a dequeue to fail it.
local LEASE_FIELDS = { 'ty', 'tn', 'p', 'a', 'mr', 'to', 'dl', 'tp', 'c', 'e', 'b', 'w' }
local function lease_fault(v)
  if not v[1] or v[1] == '' then return 'ty (type)' end
  if not v[2] or v[2] == '' then return 'tn (tenant)' end
  if not v[3] then return 'p (payload)' end
  if not tonumber(v[4]) then return 'a (attempts)' end
  if not tonumber(v[5]) then return 'mr (max retry)' end
  if not tonumber(v[9]) then return 'c (created-at)' end
  if v[6] and not tonumber(v[6]) then return 'to (timeout)' end
  if v[7] and not tonumber(v[7]) then return 'dl (deadline)' end
  return nil
end

-- Leases a sound record (v as LEASE_FIELDS read it) to server until expiry under token, its attempt counted, in the
-- queue's active zset, and appends dequeue.lua's 13 fields for it to out. It starts no earlier than it became pending
-- (v[10], or its creation v[9] when it has been pending since; or v[12], when it was handed back later, see
-- queue.lib.lua's return_to_head): a dequeue takes its time when it is sent, and may run after the call that enqueued
-- or released the job at a later time (another process), which would show a start before the job existed, or before
-- its dependencies ended. That time is also the enqueued-at reported, from which the queue wait is measured.
local function lease_record(active, jk, id, v, token, now, expiry, server, out)
  local attempt = flow_int(tonumber(v[4]) + 1)
  local at, since = now, v[10] or v[9]
  if tonumber(v[12]) and tonumber(since) and tonumber(v[12]) > tonumber(since) then since = v[12] end
  if tonumber(since) and tonumber(since) > tonumber(now) then at = since end
  redis.call('HSET', jk, 'st', 'active', 'a', attempt, 's', at, 'u', at, 'lt', token, 'le', expiry, 'ls', server)
  redis.call('ZADD', active, expiry, id)
  local n = #out
  out[n + 1] = id; out[n + 2] = v[1]; out[n + 3] = v[2]; out[n + 4] = v[3]
  out[n + 5] = attempt; out[n + 6] = v[5]; out[n + 7] = v[6] or ''; out[n + 8] = v[7] or ''
  out[n + 9] = token; out[n + 10] = v[8] or ''; out[n + 11] = v[9]; out[n + 12] = since; out[n + 13] = v[11] or ''
end

-- The start of a queue's keys ("<prefix>:{<queue>}:"), and the queue named in it.
local function flow_queue(queue) return flow.prefix .. ':{' .. queue .. '}:' end
local function flow_queue_name(base) return string.match(base, '{([^{}]*)}:$') end

local function flow_batch(id) return flow.prefix .. ':{' .. flow.prefix .. ':coord}:b:' .. id end
local function flow_batch_expiries() return flow.prefix .. ':{' .. flow.prefix .. ':coord}:bexp' end
local function flow_batch_listing(tenant) return flow.prefix .. ':{' .. flow.prefix .. ':coord}:bt:' .. tenant end
local function flow_every_batch_listing() return flow.prefix .. ':{' .. flow.prefix .. ':coord}:ba' end
local function flow_coord_outbox() return flow.prefix .. ':{' .. flow.prefix .. ':coord}:outbox' end

-- Appends an entry for another slot to this slot's outbox and, once per script call, tells every process to deliver it.
local function flow_outbox(outbox, item)
  redis.call('RPUSH', outbox, item)
  if not flow.nudged then
    flow.nudged = true
    redis.call('PUBLISH', flow.prefix .. ':notify', 'outbox')
  end
end

-- As queue.lib.lua's retention_for: the retention (µs) a job's rt field gives the outcome.
local function flow_retention(rt, state)
  local s, f, c = string.match(rt or '', '^(%d+):(%d+):(%d+)$')
  if not s then return tonumber(rt) or 0 end
  if state == 'succeeded' then return tonumber(s) end
  if state == 'cancelled' then return tonumber(c) end
  return tonumber(f)
end

-- Pushes a released job at the back of its queue (into its tenant's lane while the queue is fair, as push_pending
-- does) and wakes the workers of every process once per script call.
local function flow_push(base, id, tenant)
  if tenant and tenant ~= '' and redis.call('EXISTS', base .. 'fair') == 1 then
    if redis.call('LPUSH', base .. 'lanes:' .. tenant, id) == 1 then redis.call('ZADD', base .. 'lanes:', 0, tenant) end
  else
    redis.call('LPUSH', base .. 'pending', id)
  end
  if not flow.woke then
    flow.woke = true
    redis.call('PUBLISH', flow.prefix .. ':notify', '')
  end
end

-- The hand-off of an acknowledgement (acknowledge.lua, for AcknowledgeAndTakeReleasedAsync): a job released into a
-- queue the acknowledging server serves is leased here, as dequeue.lua leases, instead of being pushed, so it waits
-- for no wake-up and no dequeue. Only while nothing is ahead of it and nothing would hold it back: its queue has no
-- pending job and no tenant lane, is not paused and not fair, and flow.take has room. A record dequeue.lua would fail
-- as corrupt is pushed as usual, for a dequeue to fail it. Its queue, then dequeue.lua's 13 fields, go to
-- flow.take.out. Returns true when it leased the job.
local function flow_take(base, jk, id, now)
  local t = flow.take
  if not t or t.left <= 0 or not t.queues[flow_queue_name(base)] then return false end
  if redis.call('EXISTS', base .. 'pending', base .. 'paused', base .. 'fair', base .. 'lanes:') > 0 then return false end
  local v = redis.call('HMGET', jk, unpack(LEASE_FIELDS))
  if lease_fault(v) then return false end
  local token = flow_int(redis.call('INCR', base .. 'leaseseq'))
  t.out[#t.out + 1] = flow_queue_name(base)
  lease_record(base .. 'active', jk, id, v, token, now, t.expiry, t.server, t.out)
  t.left = t.left - 1
  return true
end

-- Takes a job of any queue out of the structure that holds it in an unfinished state.
local function flow_unlink(base, id, state)
  if state == 'pending' then
    if redis.call('LREM', base .. 'pending', 1, id) == 0 then
      local tenant = redis.call('HGET', base .. 'j:' .. id, 'tn')
      local lane = base .. 'lanes:' .. (tenant or '')
      if tenant and redis.call('LREM', lane, 1, id) > 0 and redis.call('LLEN', lane) == 0 then
        redis.call('ZREM', base .. 'lanes:', tenant)
      end
    end
  else
    redis.call('ZREM', base .. state, id)
  end
end

-- A waiting job whose dependencies have all finished: pending now, or scheduled while its process-at is ahead. A
-- job made pending (and leased, in the hand-off) is stamped no earlier than an earlier dependency's resolution (dr):
-- two acknowledgements in flight at once each take their time when they begin, and the one that ends the last
-- dependency may have taken the earlier time.
local function flow_release(base, jk, id, now)
  local v = redis.call('HMGET', jk, 'sa', 'tn', 'rd', 'dr')
  redis.call('ZREM', base .. 'waiting', id)
  redis.call('HDEL', jk, 'wf', 'dr')
  if v[3] then redis.call('DEL', jk .. '#r') end
  if v[1] and tonumber(v[1]) and tonumber(v[1]) > tonumber(now) then
    redis.call('HSET', jk, 'st', 'scheduled', 'u', now)
    redis.call('ZADD', base .. 'scheduled', v[1], id)
    return 'scheduled'
  end
  local at = v[4] and tonumber(v[4]) > tonumber(now) and v[4] or now
  redis.call('HSET', jk, 'st', 'pending', 'e', at, 'u', at)
  if not flow_take(base, jk, id, at) then flow_push(base, id, v[2]) end
  return 'pending'
end

-- Ends a job that will not run (a dependency it needed to succeed did not, or its batch was cancelled) as target
-- ('cancelled', or 'failed' by its link's policy), with the error line when one is given; a job with the flow flag
-- goes on the work list, so what waits for it follows.
local function flow_end(base, jk, id, state, target, message, now, work)
  local v = redis.call('HMGET', jk, 'a', 'err', 'rt', 'fl', 'rd')
  local fields = { 'st', target, 'f', now, 'u', now }
  if message then
    local item = '{"a":' .. flow_int(tonumber(v[1]) or 0) .. ',"m":' .. cjson.encode(message) .. ',"o":' .. now .. '}'
    fields[#fields + 1] = 'err'; fields[#fields + 1] = flow_append_errors(v[2], item)
  end
  flow_unlink(base, id, state)
  redis.call('HSET', jk, unpack(fields))
  redis.call('HDEL', jk, 'wf', 'dr', 'fl', 'lt', 'le', 'ls', 'cr', 'sn')
  if v[5] then redis.call('DEL', jk .. '#r') end
  redis.call('ZADD', base .. target, flow_int(tonumber(now) + flow_retention(v[3], target)), id)
  redis.call('ZADD', base .. 'finished:unsuccessful', now, id)
  if v[4] then work[#work + 1] = { base, id, target } end
end

local function flow_cancel(base, jk, id, state, message, now, work)
  flow_end(base, jk, id, state, 'cancelled', message, now, work)
end

-- The end of a waiting job whose success-only dependency did not succeed: s '2' fails it, '1' cancels it.
local function flow_unmet(base, jk, id, s, dependency, now, work)
  if s == '2' then
    flow_end(base, jk, id, 'waiting', 'failed',
      "Failed without running: '" .. dependency .. "', which it waited for, did not succeed.", now, work)
    return 'failed'
  end
  flow_cancel(base, jk, id, 'waiting',
    "Cancelled without running: '" .. dependency .. "', which it waited for, did not succeed.", now, work)
  return 'cancelled'
end

-- Resolves one link "<s>\t<queue>\t<id>" of a finished job or batch (kind 'j' or 'b'): a success-only dependant of
-- something that did not succeed is cancelled (or failed, s '2'), any other counts one unfinished dependency less and
-- is released at 0. A dependant that is no longer waiting (cancelled or deleted meanwhile) is left alone. A remote
-- link ("r…", its dependant on another slot) goes to the outbox instead.
local function flow_resolve(entry, kind, dependency, succeeded, now, work, outbox)
  if string.byte(entry, 1) == 114 then
    flow_outbox(outbox, 'd\t' .. kind .. '\t' .. dependency .. '\t' .. (succeeded and '1' or '0') .. '\t' .. string.sub(entry, 2) .. '\t' .. now)
    return
  end
  local s, queue, id = string.match(entry, '^(%d)\t([^\t]*)\t(.*)$')
  if not s then return end
  local base = flow_queue(queue)
  local jk = base .. 'j:' .. id
  if redis.call('HGET', jk, 'st') ~= 'waiting' then return end
  if s ~= '0' and not succeeded then
    flow_unmet(base, jk, id, s, dependency, now, work)
  elseif redis.call('HINCRBY', jk, 'wf', -1) <= 0 then
    flow_release(base, jk, id, now)
  else
    local dr = redis.call('HGET', jk, 'dr')
    if not dr or tonumber(now) > tonumber(dr) then redis.call('HSET', jk, 'dr', now) end
  end
end

-- Counts members' finishes in their batch (ends: how many succeeded s, failed f and were cancelled x, and the members
-- "<queue>\t<id>" they were). When that makes the counts reach the total it finishes the batch and returns its
-- callbacks (taken off it) and whether every member succeeded, to be resolved by the caller; else nil.
local function flow_count_ends(batch, ends, now)
  local bk = flow_batch(batch)
  -- Read once and written once: the script is atomic, so the new counts are the ones read plus these finishes. A
  -- batch always has its total (n); without it the batch is gone.
  local v = redis.call('HMGET', bk, 'n', 's', 'f', 'x', 'fin', 'st', 'rt', 'u')
  if not v[1] then return nil end
  -- The batch's time moves only forward: a call that began before, but ran after, another that changed the batch (two
  -- servers' acknowledgements of its members) would finish it, and release its callbacks, before that other's end.
  local at = now
  if v[8] and tonumber(v[8]) > tonumber(now) then at = v[8] end
  local n, s, f, x = tonumber(v[1]) or 0, (tonumber(v[2]) or 0) + ends.s, (tonumber(v[3]) or 0) + ends.f, (tonumber(v[4]) or 0) + ends.x
  -- In slices: Lua unpacks at most about 8,000 values, and one call may end more members of a batch than that.
  for first = 1, #ends.members, 500 do
    redis.call('SREM', bk .. '#m', unpack(ends.members, first, math.min(first + 499, #ends.members)))
  end
  local fields = { 'u', at }
  if ends.s > 0 then fields[#fields + 1] = 's'; fields[#fields + 1] = flow_int(s) end
  if ends.f > 0 then fields[#fields + 1] = 'f'; fields[#fields + 1] = flow_int(f) end
  if ends.x > 0 then fields[#fields + 1] = 'x'; fields[#fields + 1] = flow_int(x) end
  if v[5] or s + f + x < n then
    redis.call('HSET', bk, unpack(fields))
    return nil
  end
  -- A batch cancelled as a whole keeps its state, and its success callbacks are not met.
  local all = s == n and v[6] == 'running'
  fields[#fields + 1] = 'fin'; fields[#fields + 1] = at
  if v[6] == 'running' then
    fields[#fields + 1] = 'st'; fields[#fields + 1] = all and 'succeeded' or 'completed'
  end
  redis.call('HSET', bk, unpack(fields))
  redis.call('ZADD', flow_batch_expiries(), flow_int(tonumber(at) + (tonumber(v[7]) or 0)), batch)
  local callbacks = redis.call('LRANGE', bk .. '#d', 0, -1)
  redis.call('DEL', bk .. '#d')
  return { callbacks = callbacks, all = all, at = at }
end

-- One member's finish added to a batch's ends for flow_count_ends (new ends when nil).
local function flow_ends_of(ends, queue, id, state)
  ends = ends or { s = 0, f = 0, x = 0, members = {} }
  local field = 'x'
  if FLOW_SUCCEEDED[state] then field = 's' elseif state == 'failed' then field = 'f' end
  ends[field] = ends[field] + 1
  ends.members[#ends.members + 1] = queue .. '\t' .. id
  return ends
end

-- Resolves the callbacks of a batch flow_count_ends finished (nil: none).
local function flow_resolve_callbacks(batch, finished, work)
  if not finished then return end
  for _, entry in ipairs(finished.callbacks) do flow_resolve(entry, 'b', batch, finished.all, finished.at, work, flow_coord_outbox()) end
end

-- Counts a member's finish in its batch; the finish that makes the counts reach the total finishes the batch and
-- resolves its callbacks (success: every member succeeded).
local function flow_count(batch, base, id, state, now, work)
  flow_resolve_callbacks(batch, flow_count_ends(batch, flow_ends_of(nil, flow_queue_name(base), id, state), now), work)
end

-- Resolves what waits for a finished job (its dependants' links).
local function flow_resolve_dependants(jbase, jid, jstate, now, work)
  local jk = jbase .. 'j:' .. jid
  local dependants = redis.call('LRANGE', jk .. '#d', 0, -1)
  if #dependants == 0 then return end
  redis.call('DEL', jk .. '#d')
  local succeeded = FLOW_SUCCEEDED[jstate] == true
  for _, entry in ipairs(dependants) do flow_resolve(entry, 'j', jid, succeeded, now, work, jbase .. 'outbox') end
end

-- Settles a work list of finished jobs {base, id, state[, batch fields]}: counts each in its batch and resolves what
-- waits for it; cancelled dependants with the flow flag follow on the list (a list, not recursion, so a long chain
-- cannot exhaust Lua's stack). While a script gathers finishes (flow_gather), a job's count and what waits for it wait
-- for flow_settle_gathered instead.
local function flow_settle(work, now)
  while #work > 0 do
    local item = table.remove(work)
    local jbase, jid, jstate = item[1], item[2], item[3]
    local jk = jbase .. 'j:' .. jid
    -- item[4]: the job's FLOW_BATCH_FIELDS as its finish read them, bd already written there when it was to be.
    local b = item[4] or redis.call('HMGET', jk, unpack(FLOW_BATCH_FIELDS))
    local gathered = flow.gathered
    local step = gathered and { jbase, jid, jstate }
    if b[1] and not b[2] then
      if not item[4] then redis.call('HSET', jk, 'bd', '1') end
      if b[3] then
        local entry = 'c\t' .. b[1] .. '\t' .. flow_queue_name(jbase) .. '\t' .. jid .. '\t' .. jstate .. '\t' .. (b[4] or '0') .. '\t' .. now
        if step then step.outbox = entry else flow_outbox(jbase .. 'outbox', entry) end
      elseif step then
        local ends = gathered.ends[b[1]]
        if not ends then gathered.batches[#gathered.batches + 1] = b[1] end
        ends = flow_ends_of(ends, flow_queue_name(jbase), jid, jstate)
        ends.last = #gathered.jobs + 1
        gathered.ends[b[1]] = ends
      else
        flow_count(b[1], jbase, jid, jstate, now, work)
      end
    end
    if step then
      gathered.jobs[#gathered.jobs + 1] = step
    else
      flow_resolve_dependants(jbase, jid, jstate, now, work)
    end
  end
end

-- Runs in the script that finished (or deleted) a job with the flow flag (already cleared by the caller), as state:
-- counts it in its batch and resolves what waits for it. batch: the job's FLOW_BATCH_FIELDS when the caller read them
-- and wrote bd with its finish (queue.lib.lua, finish), else nil.
local function flow_finished(base, id, state, now, batch)
  if flow.prefix == '' then flow.prefix = string.match(base, '^(.*):{[^{}]*}:$') end
  flow_settle({ { base, id, state, batch } }, now)
end

-- From here until flow_settle_gathered, the flagged jobs a script finishes are gathered: a script that ends many jobs
-- (acknowledge.lua) then reads and writes each batch once for all its members' finishes rather than once for each.
local function flow_gather()
  flow.gathered = { ends = {}, batches = {}, jobs = {} }
end

-- Settles the finishes gathered since flow_gather as if each had been settled when it happened, so that what is
-- released or ended, and in which order, is the same: job by job in the order they finished, the job's outbox entry
-- for a batch on another slot, the ends of a batch of which it is the last gathered member, all counted at once (with
-- its callbacks resolved when that finishes the batch), then what waits for the job, each with what that cascades to
-- (counted at once again). Counting a batch's earlier gathered ends only at its last one changes nothing that could
-- be seen meanwhile: until that member is counted the batch cannot reach its total, and its counts are read by
-- nothing else in the script.
local function flow_settle_gathered(now)
  local gathered = flow.gathered
  flow.gathered = nil
  if not gathered then return end
  -- A job is a member of one batch at most: at_last[i] is the batch whose last gathered member job i is, if any.
  local at_last = {}
  for _, batch in ipairs(gathered.batches) do at_last[gathered.ends[batch].last] = batch end
  for i, job in ipairs(gathered.jobs) do
    local work = {}
    if job.outbox then flow_outbox(job[1] .. 'outbox', job.outbox) end
    local batch = at_last[i]
    if batch then flow_resolve_callbacks(batch, flow_count_ends(batch, gathered.ends[batch], now), work) end
    flow_resolve_dependants(job[1], job[2], job[3], now, work)
    flow_settle(work, now)
  end
end

-- Takes a failed or cancelled member's end out of its batch's counts while the batch is unfinished, and makes the
-- member one of its unfinished members again, so that its next end is counted (flow_count, flow_apply's 'c'). From
-- another slot's outbox, a rejoining carries the member's new generation and applies once, only when newer than the
-- one the batch holds: an entry delivered again after the member's next end was counted must not take that end out
-- again, and a count of the member's earlier end delivered again afterwards is refused as older (flow_apply's 'c').
-- Returns true when it changed the batch.
local function flow_uncount(batch, queue, id, state, generation, now)
  local bk = flow_batch(batch)
  local member = queue .. '\t' .. id
  local field = state == 'failed' and 'f' or 'x'
  local v = redis.call('HMGET', bk, 'n', field, 'fin', 'st')
  if not v[1] or v[3] or v[4] ~= 'running' then return false end
  if generation then
    if generation <= (tonumber(redis.call('HGET', bk .. '#g', member)) or 0) then return false end
    redis.call('HSET', bk .. '#g', member, flow_int(generation))
  end
  if redis.call('SADD', bk .. '#m', member) == 0 then return false end
  redis.call('HSET', bk, field, flow_int((tonumber(v[2]) or 0) - 1), 'u', now)
  return true
end

-- Runs in the script that requeues a failed or cancelled job by hand (requeue.lua, bulk.lua). A member of a batch that
-- is unfinished rejoins it: its end leaves the counts, and the job is flagged again and no longer marked counted, so
-- that its next end is counted as any member's; a finished batch keeps the ends it was decided by. A batch on another
-- slot is told through the job's outbox ('u', before any 'c' of the job's next end in the same outbox); the job is
-- flagged either way there, and a count of its next end applies only if it rejoined (flow_apply's 'c'); the job's
-- generation (bg) grows with each such requeue, and the counts of its ends carry it.
local function flow_rejoin(base, id, state, now)
  if flow.prefix == '' then flow.prefix = string.match(base, '^(.*):{[^{}]*}:$') end
  local jk = base .. 'j:' .. id
  local b = redis.call('HMGET', jk, 'b', 'bd', 'bo')
  if not b[1] or not b[2] then return end
  local queue = flow_queue_name(base)
  if b[3] then
    local generation = redis.call('HINCRBY', jk, 'bg', 1)
    flow_outbox(base .. 'outbox', 'u\t' .. b[1] .. '\t' .. queue .. '\t' .. id .. '\t' .. state .. '\t' .. flow_int(generation))
  elseif not flow_uncount(b[1], queue, id, state, nil, now) then
    return
  end
  redis.call('HDEL', jk, 'bd')
  redis.call('HSET', jk, 'fl', '1')
end

-- Applies one outbox entry on its own slot (outbox_apply.lua), at most once however often it is delivered: a
-- dependency entry only while its dependant waits and has not resolved that dependency (the set "<job hash>#r"), a
-- count only while the member is among its batch's unfinished members and is of the generation that rejoined it last,
-- a member's rejoining once per requeue (flow_uncount). Returns 1 when it changed something, else 0.
-- A dependency's outcome and a member's end apply at the later of the delivery's time and the finish they carry, as
-- on one slot they apply at the finishing call's: a delivery takes its time before its reads run, and may read an
-- entry that an acknowledgement begun after that time wrote meanwhile (or run in a process whose clock is behind), so
-- a dependant released, or a batch finished, at the delivery's time showed a start before its dependency ended.
local function flow_apply(entry, now)
  local kind, dependency, ok, s, queue, id, ended = string.match(entry, '^d\t([jb])\t([^\t]*)\t([01])\t(%d)\t([^\t]*)\t([^\t]*)\t(%d+)$')
  if not kind then
    -- Written before entries carried the dependency's end (or by flow_link.lua for a dependency gone).
    kind, dependency, ok, s, queue, id = string.match(entry, '^d\t([jb])\t([^\t]*)\t([01])\t(%d)\t([^\t]*)\t([^\t]*)$')
  end
  if kind then
    local base = flow_queue(queue)
    local jk = base .. 'j:' .. id
    if redis.call('HGET', jk, 'st') ~= 'waiting' then return 0 end
    if redis.call('SADD', jk .. '#r', kind .. ':' .. dependency) == 0 then return 0 end
    local at = flow_later(now, ended)
    local work = {}
    flow_resolve(s .. '\t' .. queue .. '\t' .. id, kind, dependency, ok == '1', at, work, base .. 'outbox')
    if #work > 0 then flow_finished(base, id, work[1][3], at) end
    return 1
  end
  local ubatch, uqueue, uid, ustate, ugeneration = string.match(entry, '^u\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(%a+)\t(%d+)$')
  if ubatch then
    return flow_uncount(ubatch, uqueue, uid, ustate, tonumber(ugeneration), now) and 1 or 0
  end
  local batch, mqueue, mid, state, generation, member_ended = string.match(entry, '^c\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(%a+)\t(%d+)\t(%d+)$')
  if not batch then
    -- Written before ends carried the member's end.
    batch, mqueue, mid, state, generation = string.match(entry, '^c\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(%a+)\t(%d+)$')
  end
  if not batch then
    -- Written before ends carried a generation: of the first.
    batch, mqueue, mid, state = string.match(entry, '^c\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(%a+)$')
    generation = '0'
  end
  if not batch then return 0 end
  local bk, member = flow_batch(batch), mqueue .. '\t' .. mid
  if redis.call('SISMEMBER', bk .. '#m', member) == 0 then return 0 end
  if tonumber(generation) < (tonumber(redis.call('HGET', bk .. '#g', member)) or 0) then return 0 end
  -- A batch's callbacks are on other slots (remote links): its count resolves none here.
  flow_count(batch, flow_queue(mqueue), mid, state, flow_later(now, member_ended), {})
  return 1
end
