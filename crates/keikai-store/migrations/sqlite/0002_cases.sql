-- Cases, their messages and attachments, notifications, and the hash-chained audit log.
-- Keep in step with ../postgres/0002_cases.sql.
--
-- A case is stored whole as JSON (`data`), the domain's aggregate; the other columns are a
-- projection rewritten on every save for lists, filters and search.

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('case_number', 0);

CREATE TABLE cases (
    id BLOB PRIMARY KEY NOT NULL,
    number INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('report', 'question')),
    state TEXT NOT NULL CHECK (state IN (
        'new', 'triage', 'investigating', 'remediation', 'awaiting_release', 'published',
        'closed', 'rejected', 'duplicate', 'on_hold'
    )),
    title TEXT NOT NULL,
    severity TEXT,
    severity_rank INTEGER,
    emergency INTEGER NOT NULL CHECK (emergency IN (0, 1)),
    owner_id BLOB REFERENCES users (id),
    team_id BLOB REFERENCES organisations (id),
    reporter_user_id BLOB REFERENCES users (id),
    tracking_hash TEXT UNIQUE,
    next_deadline TEXT,
    search_text TEXT NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_team ON cases (team_id);
CREATE INDEX cases_reporter ON cases (reporter_user_id);
CREATE INDEX cases_deadline ON cases (next_deadline);
CREATE INDEX cases_updated ON cases (updated_at);

-- Product versions a case concerns; no foreign key, so that the record outlives a catalogue
-- entry removed later.
CREATE TABLE case_products (
    case_id BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    branch_id BLOB NOT NULL,
    PRIMARY KEY (case_id, branch_id)
) STRICT;

CREATE INDEX case_products_branch ON case_products (branch_id);

CREATE TABLE case_messages (
    id BLOB PRIMARY KEY NOT NULL,
    case_id BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'reporter')),
    author_id BLOB REFERENCES users (id),
    from_reporter INTEGER NOT NULL CHECK (from_reporter IN (0, 1)),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX case_messages_case ON case_messages (case_id, created_at);

CREATE TABLE attachments (
    id BLOB PRIMARY KEY NOT NULL,
    case_id BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    message_id BLOB REFERENCES case_messages (id) ON DELETE CASCADE,
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'reporter')),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE notifications (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_id BLOB REFERENCES cases (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
) STRICT;

CREATE INDEX notifications_user ON notifications (user_id, created_at);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- The chain's last entry, updated in the same transaction as each append. Appenders lock
-- this row first, so entries are numbered one at a time; verification compares the chain's
-- end with it, which reveals entries removed from the end.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application never updates or deletes an entry. Someone with write access
-- to the file can still drop these triggers; the hash chain is what detects that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
