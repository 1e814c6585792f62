-- PausedQueues: the names of the paused queues.
-- Parameters: none. Result: one row (name) per paused queue.
SELECT name FROM queues WHERE paused = 1;
