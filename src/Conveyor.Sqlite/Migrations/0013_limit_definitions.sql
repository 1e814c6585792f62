-- 0013_limit_definitions: the rate and concurrency limits in force (ILimitStore), keyed by kind and name, which every
-- server reads at each refresh. kind: 0 concurrency, 1 rate. source: 0 configuration, 1 API (overrides configuration).
-- Parameters: none. Result: none.
-- The store runs this inside BEGIN IMMEDIATE when PRAGMA user_version is 12 and sets user_version = 13 in the
-- same transaction. Idempotent (IF NOT EXISTS), for people who apply it by hand.
CREATE TABLE IF NOT EXISTS limit_definitions (
    kind       INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    queue      TEXT    NOT NULL,
    job_type   TEXT,
    per_tenant INTEGER NOT NULL,
    lim        INTEGER NOT NULL,
    period_us  INTEGER NOT NULL,
    burst      INTEGER NOT NULL,
    source     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
