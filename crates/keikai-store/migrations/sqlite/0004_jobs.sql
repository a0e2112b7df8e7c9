-- The outbox: work with a side effect outside the database (an e-mail, a webhook call),
-- written in the same transaction as the change it announces and done later by a worker.
--
-- `key` is the idempotency key: enqueueing the same work twice inserts one row. A worker
-- claims a due job by setting `state = 'running'`, `locked_by` and a lease (`locked_until`);
-- a job whose lease ran out (the worker died) can be claimed again. `payload` is JSON text,
-- as the aggregates' `data` columns are.
CREATE TABLE jobs (
    id BLOB PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts INTEGER NOT NULL,
    run_at TEXT NOT NULL,
    locked_by TEXT,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
) STRICT;

-- Claiming looks for queued jobs by `run_at` and running ones by `locked_until`.
CREATE INDEX jobs_claim ON jobs (state, run_at);
CREATE INDEX jobs_lease ON jobs (state, locked_until);
CREATE INDEX jobs_kind ON jobs (kind, created_at);
