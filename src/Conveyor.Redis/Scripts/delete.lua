-- Deletes a job of one tenant that is not active.
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] tenant
-- Returns {result, unique key ('')} with result a JobCommandResult: 0 not found, 1 done, 3 not allowed.
local id = ARGV[3]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'tn', 'uk')
if not v[1] or v[2] ~= ARGV[4] then return { 0, '' } end
if v[1] == 'active' then return { 3, '' } end
unlink_state(id, v[1])
unlist(v[2], id)
redis.call('DEL', jk, jk .. '#s')
return { 1, v[3] or '' }
