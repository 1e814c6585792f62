-- Leases up to a number of pending jobs of one queue, oldest first.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] limit  ARGV[4] now  ARGV[5] lease expiry  ARGV[6] server id
-- Returns a flat array, 12 entries per leased job: id, type, tenant, payload, attempt, max retry,
-- timeout ('' for none), deadline (''), lease token, traceparent (''), created-at, pending-since.
-- Nothing when the queue is paused or empty. A job whose record is corrupt (a field missing or not a
-- number) goes to failed with an error naming the field, and the queue keeps flowing.
if redis.call('EXISTS', PAUSED) == 1 then return {} end
local now, expiry, server = ARGV[4], ARGV[5], ARGV[6]
local ids = redis.call('RPOP', PENDING, tonumber(ARGV[3]))
if not ids then return {} end
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
