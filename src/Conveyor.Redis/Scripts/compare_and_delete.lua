-- Deletes a key only if it still holds the given value, or a value that starts with it (the lookup or
-- unique-key entry of one job, so that an entry another job has taken since is left alone).
-- KEYS[1] the key.  ARGV[1] the expected value or start of value.  ARGV[2] 'prefix' to match the start only.
-- Returns 1 if deleted, 0 otherwise.
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if current == ARGV[1] or (ARGV[2] == 'prefix' and string.sub(current, 1, #ARGV[1]) == ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
