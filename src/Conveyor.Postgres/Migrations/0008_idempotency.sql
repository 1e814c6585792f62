-- Conveyor PostgreSQL store, migration 0008: idempotency records with states, replacing the plain "seen" keys of
-- 0001 (which nothing but tests used). A record is 'processing' while one attempt (job_id + lease_token) runs the
-- key's work, until expires_at, which follows that attempt's lease; then 'done' (finished_at set), kept until
-- expires_at. The janitor's purge deletes expired records by the expiry index.
-- To apply by hand: psql -v ON_ERROR_STOP=1 -1 -v schema=conveyor -f 0008_idempotency.sql

DROP TABLE IF EXISTS :"schema".idempotency_keys;

CREATE TABLE IF NOT EXISTS :"schema".idempotency_records (
    key          text        COLLATE "C" PRIMARY KEY,
    state        text        NOT NULL CHECK (state IN ('processing', 'done')),
    job_id       text        COLLATE "C" NOT NULL,
    lease_token  bigint      NOT NULL,
    expires_at   timestamptz NOT NULL,
    finished_at  timestamptz
);

CREATE INDEX IF NOT EXISTS idempotency_records_expiry_idx ON :"schema".idempotency_records (expires_at);

INSERT INTO :"schema".schema_migrations (version, name) VALUES (8, '0008_idempotency') ON CONFLICT (version) DO NOTHING;
