-- Claims a job id in the global id lookup (outside any queue's slot), before the job is stored.
-- KEYS[1] the id's lookup key.  ARGV[1] the queue the job goes to.
-- Returns false when the id was free and now points to the queue, else the queue it points to.
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return false
