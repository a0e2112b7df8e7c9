-- Keikai's first schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_initial.sql.
--
-- Enums are TEXT with CHECK lists (adding a value is a one-line migration, unlike CREATE
-- TYPE); flags are nullable timestamps. Columns that lists are ordered by use the "C"
-- collation so that the order is the same as on SQLite, whatever the server's locale.

CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    name text COLLATE "C" NOT NULL,
    kind text NOT NULL CHECK (kind IN ('own', 'partner', 'customer', 'coordinator')),
    created_at timestamptz NOT NULL
);

CREATE INDEX organisations_name ON organisations (name);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text COLLATE "C" NOT NULL UNIQUE,
    display_name text NOT NULL,
    password_hash text NOT NULL,
    locale text CHECK (locale IN ('en', 'ja')),
    created_at timestamptz NOT NULL,
    disabled_at timestamptz
);

CREATE TABLE memberships (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id uuid NOT NULL REFERENCES organisations (id),
    role text NOT NULL CHECK (role IN (
        'admin', 'psirt-analyst', 'product-engineer', 'partner-contact', 'customer-contact',
        'reporter'
    )),
    PRIMARY KEY (user_id, org_id, role)
);

CREATE INDEX memberships_org ON memberships (org_id);

CREATE TABLE sessions (
    id_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    -- Comma-separated scope names, e.g. 'read,write'.
    scopes text NOT NULL,
    secret_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);

CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

CREATE TABLE branches (
    id uuid PRIMARY KEY,
    parent_id uuid REFERENCES branches (id),
    category text NOT NULL CHECK (category IN (
        'architecture', 'host_name', 'language', 'legacy', 'patch_level', 'product_family',
        'product_name', 'product_version', 'product_version_range', 'service_pack',
        'specification', 'vendor'
    )),
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

-- NULLs are distinct in a UNIQUE index, so top-level names need an index of their own.
CREATE UNIQUE INDEX branches_sibling_name ON branches (parent_id, name) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX branches_root_name ON branches (name) WHERE parent_id IS NULL;

CREATE TABLE login_failures (
    key text NOT NULL,
    at timestamptz NOT NULL
);

CREATE INDEX login_failures_key ON login_failures (key, at);
