-- Replaces an existing schedule's definition and next tick, only while it is still at the revision its caller read;
-- advances the revision. Its history (created-at, last fire, last job) stays.
-- KEYS and ARGV[1..3] as schedule_create.lua; ARGV[5] the revision read (a schedule stored before revisions has none: 0).
-- Returns 1 if replaced, 0 if there is no such schedule or it was written since.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0') ~= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
redis.call('HINCRBY', KEYS[4], ARGV[1], 1)
return 1
