-- Stores a new schedule unless the tenant has one of that name.
-- KEYS[1] definitions hash  KEYS[2] next-tick zset  KEYS[3] history hash  KEYS[4] revisions hash (all under the
-- schedules tag).
-- ARGV[1] member (tenant \n name)  ARGV[2] definition JSON  ARGV[3] next tick (µs, '' for none)  ARGV[4] now (µs)
-- ARGV[5] the first revision (drawn at random by the caller)
-- Returns 1 if stored, 0 if the name is taken.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
-- history: created-at | last fire | last job id
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4] .. '||')
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
return 1
