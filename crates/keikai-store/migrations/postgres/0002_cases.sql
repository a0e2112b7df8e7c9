-- Cases, their messages and attachments, notifications, and the hash-chained audit log.
-- Keep in step with ../sqlite/0002_cases.sql.
--
-- A case is stored whole as JSON text (`data`), the domain's aggregate; the other columns
-- are a projection rewritten on every save for lists, filters and search.

CREATE TABLE counters (
    name text PRIMARY KEY,
    value bigint NOT NULL
);

INSERT INTO counters (name, value) VALUES ('case_number', 0);

CREATE TABLE cases (
    id uuid PRIMARY KEY,
    number bigint NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('report', 'question')),
    state text NOT NULL CHECK (state IN (
        'new', 'triage', 'investigating', 'remediation', 'awaiting_release', 'published',
        'closed', 'rejected', 'duplicate', 'on_hold'
    )),
    title text NOT NULL,
    severity text,
    severity_rank bigint,
    emergency boolean NOT NULL,
    owner_id uuid REFERENCES users (id),
    team_id uuid REFERENCES organisations (id),
    reporter_user_id uuid REFERENCES users (id),
    tracking_hash text UNIQUE,
    next_deadline timestamptz,
    search_text text NOT NULL,
    revision bigint NOT NULL,
    data text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_team ON cases (team_id);
CREATE INDEX cases_reporter ON cases (reporter_user_id);
CREATE INDEX cases_deadline ON cases (next_deadline);
CREATE INDEX cases_updated ON cases (updated_at);

CREATE TABLE case_products (
    case_id uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    branch_id uuid NOT NULL,
    PRIMARY KEY (case_id, branch_id)
);

CREATE INDEX case_products_branch ON case_products (branch_id);

CREATE TABLE case_messages (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    visibility text NOT NULL CHECK (visibility IN ('internal', 'reporter')),
    author_id uuid REFERENCES users (id),
    from_reporter boolean NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX case_messages_case ON case_messages (case_id, created_at);

CREATE TABLE attachments (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    message_id uuid REFERENCES case_messages (id) ON DELETE CASCADE,
    visibility text NOT NULL CHECK (visibility IN ('internal', 'reporter')),
    file_name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    bytes bytea NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_id uuid REFERENCES cases (id) ON DELETE CASCADE,
    kind text NOT NULL,
    text text NOT NULL,
    created_at timestamptz NOT NULL,
    read_at timestamptz
);

CREATE INDEX notifications_user ON notifications (user_id, created_at);

CREATE TABLE audit_log (
    seq bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    before_json text NOT NULL,
    after_json text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);

CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- The chain's last entry, updated in the same transaction as each append. Appenders lock
-- this row first (UPDATE … RETURNING), so instances sharing the database number entries
-- one at a time; verification compares the chain's end with it.
CREATE TABLE audit_head (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    hash text NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application never updates or deletes an entry. A superuser can still
-- drop the trigger; the hash chain is what detects that.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
