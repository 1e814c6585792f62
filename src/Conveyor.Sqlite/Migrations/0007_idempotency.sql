-- 0007_idempotency: idempotency records with states, replacing the plain "seen" keys of 0001 (which nothing but
-- tests used). A record is 'processing' while one attempt (job_id + lease_token) runs the key's work, until
-- expires_at, which follows that attempt's lease; then 'done' (finished_at set), kept until expires_at.
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 6 and sets user_version = 7 in the
-- same transaction.
DROP TABLE IF EXISTS idempotency_keys;

CREATE TABLE IF NOT EXISTS idempotency_records (
    key         TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL CHECK (state IN ('processing', 'done')),
    job_id      TEXT    NOT NULL,
    lease_token INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    finished_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_records_expires ON idempotency_records (expires_at);
