-- Keikai's first schema, SQLite flavour. Keep in step with ../postgres/0001_initial.sql.
--
-- Ids are 16-byte BLOBs (sqlx's Uuid encoding). Timestamps are TEXT in a fixed-width RFC 3339
-- form (UTC, six fractional digits) so that comparing the text compares the instants. Enums
-- are TEXT with CHECK lists; flags are nullable timestamps. STRICT makes SQLite refuse a value
-- of the wrong type instead of storing it.

CREATE TABLE organisations (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('own', 'partner', 'customer', 'coordinator')),
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX organisations_name ON organisations (name);

CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale TEXT CHECK (locale IN ('en', 'ja')),
    created_at TEXT NOT NULL,
    disabled_at TEXT
) STRICT;

CREATE TABLE memberships (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL CHECK (role IN (
        'admin', 'psirt-analyst', 'product-engineer', 'partner-contact', 'customer-contact',
        'reporter'
    )),
    PRIMARY KEY (user_id, org_id, role)
) STRICT;

CREATE INDEX memberships_org ON memberships (org_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Comma-separated scope names, e.g. 'read,write'.
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;

CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

CREATE TABLE branches (
    id BLOB PRIMARY KEY NOT NULL,
    parent_id BLOB REFERENCES branches (id),
    category TEXT NOT NULL CHECK (category IN (
        'architecture', 'host_name', 'language', 'legacy', 'patch_level', 'product_family',
        'product_name', 'product_version', 'product_version_range', 'service_pack',
        'specification', 'vendor'
    )),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- NULLs are distinct in a UNIQUE index, so top-level names need an index of their own.
CREATE UNIQUE INDEX branches_sibling_name ON branches (parent_id, name) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX branches_root_name ON branches (name) WHERE parent_id IS NULL;

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;

CREATE INDEX login_failures_key ON login_failures (key, at);
