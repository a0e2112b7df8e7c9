-- The outbox: work with a side effect outside the database (an e-mail, a webhook call),
-- written in the same transaction as the change it announces and done later by a worker.
--
-- `key` is the idempotency key: enqueueing the same work twice inserts one row. A worker
-- claims a due job by setting `state = 'running'`, `locked_by` and a lease (`locked_until`);
-- a job whose lease ran out (the worker died) can be claimed again. `payload` is JSON text,
-- as the aggregates' `data` columns are.
CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    key text NOT NULL UNIQUE,
    payload text NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts bigint NOT NULL,
    run_at timestamptz NOT NULL,
    locked_by text,
    locked_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    finished_at timestamptz
);

-- Claiming looks for queued jobs by `run_at` and running ones by `locked_until`.
CREATE INDEX jobs_claim ON jobs (state, run_at);
CREATE INDEX jobs_lease ON jobs (state, locked_until);
CREATE INDEX jobs_kind ON jobs (kind, created_at);
