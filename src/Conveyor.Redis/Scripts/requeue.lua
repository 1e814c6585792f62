-- Runs a failed, cancelled, scheduled or retrying job of one tenant again now: pending at the back, due now,
-- errors kept. Attempts keep counting, so the next attempt's error has its own number; the earlier attempts'
-- start, completion and progress are cleared so that nothing stale looks current. A failed or cancelled batch member
-- rejoins its batch while the batch is unfinished (flow.lib.lua's flow_rejoin).
-- KEYS: the queue layout (queue.lib.lua).
-- ARGV[3] job id  ARGV[4] tenant  ARGV[5] now  ARGV[6] wake-up channel and sender ("<channel>\n<sender>")
-- Returns a JobCommandResult: 0 not found, 1 done, 3 not allowed.
local id, now = ARGV[3], ARGV[5]
local jk = JOB .. id
local v = redis.call('HMGET', jk, 'st', 'tn')
if not v[1] or v[2] ~= ARGV[4] then return 0 end
local st = v[1]
if st ~= 'failed' and st ~= 'cancelled' and st ~= 'scheduled' and st ~= 'retrying' then return 3 end
unlink_state(id, st)
if st == 'failed' or st == 'cancelled' then flow_rejoin(QUEUE_BASE, id, st, now) end
redis.call('HSET', jk, 'sa', now, 'pr', '0')
redis.call('HDEL', jk, 's', 'f')
make_pending(jk, id, now)
notify(ARGV[6])
return 1
