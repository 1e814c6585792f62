-- Moves a schedule past the ticks a scheduler handled, only while its next tick is still the one the scheduler read:
-- the compare-and-set that lets many schedulers share one schedule. The revision advances, as at every write.
-- KEYS as schedule_create.lua.
-- ARGV[1] member  ARGV[2] expected next tick (µs, '' for none)  ARGV[3] new next tick (µs, '' for none)
-- ARGV[4] last fire (µs)  ARGV[5] last job id ('' keeps the recorded one)
-- Returns 1 if it applied, 0 if another scheduler (or a change, pause or delete) came first.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if ARGV[2] == '' then
  if score then return 0 end
elseif (not score) or tonumber(score) ~= tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
local history = redis.call('HGET', KEYS[3], ARGV[1]) or '||'
local created, _, job = string.match(history, '^([^|]*)|([^|]*)|(.*)$')
if ARGV[5] ~= '' then job = ARGV[5] end
redis.call('HSET', KEYS[3], ARGV[1], created .. '|' .. ARGV[4] .. '|' .. job)
redis.call('HINCRBY', KEYS[4], ARGV[1], 1)
return 1
