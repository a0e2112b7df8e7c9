-- Advisories, releases and the immutable files each published version leaves behind.

CREATE TABLE releases (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('monthly', 'out_of_band')),
    state text NOT NULL CHECK (state IN ('planned', 'published')),
    scheduled_at timestamptz NOT NULL,
    title text NOT NULL,
    revision bigint NOT NULL,
    data text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX releases_due ON releases (state, scheduled_at);

-- An advisory is kept whole as JSON in `data`; the other columns are its projection.
-- `published_at` and `current_release_date` are the first and the latest version's times,
-- NULL until the first publication.
CREATE TABLE advisories (
    id uuid PRIMARY KEY,
    tracking_id text NOT NULL UNIQUE,
    case_id uuid REFERENCES cases (id),
    state text NOT NULL CHECK (state IN ('draft', 'scheduled', 'published')),
    release_id uuid REFERENCES releases (id),
    published_tlp text,
    version bigint NOT NULL,
    search_text text NOT NULL,
    public_search_text text NOT NULL,
    revision bigint NOT NULL,
    data text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    published_at timestamptz,
    current_release_date timestamptz
);

CREATE INDEX advisories_release ON advisories (release_id);
CREATE INDEX advisories_case ON advisories (case_id);
CREATE INDEX advisories_published ON advisories (current_release_date);

-- What a published version wrote: CSAF JSON, hashes, signature, HTML, CVE records. Written
-- once, never changed.
CREATE TABLE artifacts (
    advisory_id uuid NOT NULL REFERENCES advisories (id),
    version bigint NOT NULL,
    name text NOT NULL,
    content_type text NOT NULL,
    sha256 text NOT NULL,
    bytes bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (advisory_id, version, name)
);

CREATE FUNCTION artifacts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'artifacts are immutable';
END;
$$;

CREATE TRIGGER artifacts_no_change BEFORE UPDATE OR DELETE ON artifacts
FOR EACH ROW EXECUTE FUNCTION artifacts_immutable();

-- Instance-wide values that must be the same for every instance (the provider's signing key).
CREATE TABLE settings (
    name text PRIMARY KEY,
    value text NOT NULL
);
