-- Takes up to a number of this queue's active jobs whose lease expired before now: each gets an error and
-- goes back to pending (its attempt counted) at the head of the queue, where it was when it was leased (jobs
-- recovered together in the order they were leased), or to failed when its attempts are spent or its deadline passed.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] now  ARGV[4] limit  ARGV[5] error message (LeaseMessages.Expired, the same on every store)
-- ARGV[6] wake-up channel and sender ("<channel>\n<sender>") when a job went back to pending
-- A job whose cancellation was requested is cancelled instead: its worker died before it could stop.
-- Returns a flat array, 4 entries per job: id, type, tenant, new state.
local now = ARGV[3]
local ids = redis.call('ZRANGEBYSCORE', ACTIVE, '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
local requeued = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', ACTIVE, id)
  local jk = JOB .. id
  local v = redis.call('HMGET', jk, 'st', 'a', 'mr', 'dl', 'ty', 'tn', 'rt', 'err', 'cr', 'lt')
  if v[1] == 'active' then
    local attempts = tonumber(v[2]) or 0
    local deadline_passed = v[4] and tonumber(v[4]) and tonumber(v[4]) <= tonumber(now)
    redis.call('HSET', jk, 'err', append_errors(v[8], error_json(attempts, ARGV[5], now)))
    local state
    if v[9] == '1' then
      state = 'cancelled'
      finish(jk, id, state, now, v[7])
    elseif deadline_passed or attempts > (tonumber(v[3]) or 0) then
      state = 'failed'
      finish(jk, id, state, now, v[7])
    else
      state = 'pending'
      requeued[#requeued + 1] = { id, tonumber(v[10]) or 0 }
    end
    local n = #out
    out[n + 1] = id; out[n + 2] = v[5] or ''; out[n + 3] = v[6] or ''; out[n + 4] = state
  end
end
-- Lease tokens count up in the order the queue gave the jobs out (leases that expire together tie on the score).
table.sort(requeued, function(x, y) return x[2] < y[2] end)
for i = #requeued, 1, -1 do return_to_head(JOB .. requeued[i][1], requeued[i][1], now, true) end
if #requeued > 0 then notify(ARGV[6]) end
return out
