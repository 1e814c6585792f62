-- Deletes a job of one tenant that is not active.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] tenant  ARGV[5] now
-- An unfinished job with the flow flag will never finish: what waits for it is resolved as if it had been cancelled,
-- and its batch counts it cancelled (flow.lib.lua), in this call.
-- Returns {result, unique key (''), the job's claim on it ('', queue.lib.lua's unique_claim)} with result a
-- JobCommandResult: 0 not found, 1 done, 3 not allowed.
local id = ARGV[3]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'tn', 'uk', 'fl', 'uu', 'c')
if not v[1] or v[2] ~= ARGV[4] then return { 0, '', '' } end
if v[1] == 'active' then return { 3, '', '' } end
unlink_state(id, v[1])
unlist(v[2], id)
if v[4] and not FINISHED[v[1]] then flow_finished(QUEUE_BASE, id, 'cancelled', ARGV[5]) end
redis.call('DEL', jk, jk .. '#s', jk .. '#d', jk .. '#r')
return { 1, v[3] or '', unique_claim(id, v[3], v[5], v[6]) }
