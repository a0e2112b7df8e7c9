-- Advisories, releases and the immutable files each published version leaves behind.

CREATE TABLE releases (
    id BLOB PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('monthly', 'out_of_band')),
    state TEXT NOT NULL CHECK (state IN ('planned', 'published')),
    scheduled_at TEXT NOT NULL,
    title TEXT NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX releases_due ON releases (state, scheduled_at);

-- An advisory is kept whole as JSON in `data`; the other columns are its projection.
-- `published_at` and `current_release_date` are the first and the latest version's times,
-- NULL until the first publication.
CREATE TABLE advisories (
    id BLOB PRIMARY KEY NOT NULL,
    tracking_id TEXT NOT NULL UNIQUE,
    case_id BLOB REFERENCES cases (id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'published')),
    release_id BLOB REFERENCES releases (id),
    published_tlp TEXT,
    version INTEGER NOT NULL,
    search_text TEXT NOT NULL,
    public_search_text TEXT NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    current_release_date TEXT
) STRICT;

CREATE INDEX advisories_release ON advisories (release_id);
CREATE INDEX advisories_case ON advisories (case_id);
CREATE INDEX advisories_published ON advisories (current_release_date);

-- What a published version wrote: CSAF JSON, hashes, signature, HTML, CVE records. Written
-- once, never changed.
CREATE TABLE artifacts (
    advisory_id BLOB NOT NULL REFERENCES advisories (id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (advisory_id, version, name)
) STRICT;

CREATE TRIGGER artifacts_no_update BEFORE UPDATE ON artifacts
BEGIN
    SELECT RAISE(ABORT, 'artifacts are immutable');
END;

CREATE TRIGGER artifacts_no_delete BEFORE DELETE ON artifacts
BEGIN
    SELECT RAISE(ABORT, 'artifacts are immutable');
END;

-- Instance-wide values that must be the same for every instance (the provider's signing key).
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
