-- ResumeQueue: lets dequeues take from the queue again (idempotent). The row goes, so a resumed queue without
-- jobs no longer shows in the statistics.
-- Parameters: @queue. Result: none.
DELETE FROM queues WHERE name = @queue;
