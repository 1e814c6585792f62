-- Replaces an existing schedule's definition and next tick; its history (created-at, last fire, last job) stays.
-- KEYS and ARGV[1..3] as schedule_create.lua.
-- Returns 1 if replaced, 0 if there is no such schedule.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1
