-- 0024_errors_kept: a job keeps at most 20 errors (JobError.MaxKeptPerJob): its first, often the root cause, and the 19
-- most recent. Every statement that ends an attempt, recovers a lease or ends a job that will not run appends to errors
-- (one JSON object per line), so one trigger trims them all: when an update leaves more than 20 lines, the lines after
-- the first that are not among the last 19 are dropped. The WHEN clause counts line breaks, one pass over a text that
-- holds at most 21 errors plus what an attempt appended; a job with few errors pays that pass over a short text only.
-- A text that is not lines of JSON is left as it is (a job's errors never block the update that ends its attempt).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 23 and sets user_version = 24 in the same
-- transaction. Errors stored before it are trimmed when the job next gets one.
CREATE TRIGGER IF NOT EXISTS jobs_errors_kept AFTER UPDATE OF errors ON jobs
WHEN length(new.errors) - length(replace(new.errors, char(10), '')) > 20
 AND json_valid('[' || replace(rtrim(new.errors, char(10)), char(10), ',') || ']')
BEGIN
    UPDATE jobs
    SET errors = (SELECT group_concat(e.value, char(10)) || char(10)
                  FROM json_each('[' || replace(rtrim(new.errors, char(10)), char(10), ',') || ']') AS e
                  WHERE e.key = 0
                     OR e.key >= length(new.errors) - length(replace(new.errors, char(10), '')) - 19)
    WHERE seq = new.seq;
END;
