-- RemoveIdempotencyKey: forgets a key. Parameters: @key. Result: none.
DELETE FROM idempotency_keys WHERE key = @key;
