-- Makes an idempotency key 'processing' for an attempt until an expiry, when there is no record, the record expired,
-- or it is 'processing' under a lease of the same job (a job is leased again only after its earlier lease ended).
-- KEYS[1] idempotency records hash (field: key; value: JSON {s = state, j = job id, t = lease token, e = expiry,
-- f = finished at}, every number a decimal string: cjson would round µs)  KEYS[2] idempotency expiry zset.
-- Both under the coordination tag: one slot.
-- ARGV[1] key  ARGV[2] job id  ARGV[3] lease token  ARGV[4] expiry (µs)  ARGV[5] now (µs)
-- Returns {'started'}, {'done', job id, finished at} or {'processing', job id, expiry}.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local r = cjson.decode(raw)
  if tonumber(r.e) > tonumber(ARGV[5]) then
    if r.s == 'done' then return { 'done', r.j, r.f } end
    if r.j ~= ARGV[2] then return { 'processing', r.j, r.e } end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ s = 'processing', j = ARGV[2], t = ARGV[3], e = ARGV[4] }))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return { 'started' }
