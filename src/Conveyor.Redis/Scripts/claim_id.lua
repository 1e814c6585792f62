-- Claims a job id in the global id lookup (outside any queue's slot), before the job is stored.
-- KEYS[1] the id's lookup key.  ARGV[1] the in-progress mark, "<queue>\t<claimed-at>\t<held-until>" (µs), which
-- the store replaces with the queue alone once the job is stored (RedisJobStore.Enqueue.cs).
-- Returns false when the id was free and now holds the mark, else the lookup's value (a queue, or another's mark).
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return false
