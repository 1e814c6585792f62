-- ReleaseLock: releases a lock held by @owner (an expired lock it held counts as released already).
-- Parameters: @name, @owner, @now. Result: 1 row changed if it held the lock.
DELETE FROM locks WHERE name = @name AND owner = @owner AND expires_at > @now;
