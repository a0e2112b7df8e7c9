-- The partner programme: agreements, partner editions of advisories, questions, emergency
-- alerts and the access trail. Aggregates are JSON in `data`; the other columns are their
-- projection.

CREATE TABLE partner_agreements (
    org_id uuid PRIMARY KEY REFERENCES organisations (id),
    tier text NOT NULL,
    expires_at timestamptz NOT NULL,
    revision bigint NOT NULL,
    data text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE partner_editions (
    advisory_id uuid PRIMARY KEY REFERENCES advisories (id),
    revision bigint NOT NULL,
    data text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE partner_questions (
    id uuid PRIMARY KEY,
    release_id uuid NOT NULL REFERENCES releases (id),
    advisory_id uuid NOT NULL REFERENCES advisories (id),
    org_id uuid NOT NULL REFERENCES organisations (id),
    revision bigint NOT NULL,
    data text NOT NULL,
    asked_at timestamptz NOT NULL
);

CREATE INDEX partner_questions_release ON partner_questions (release_id, asked_at);

CREATE TABLE partner_alerts (
    id uuid PRIMARY KEY,
    revision bigint NOT NULL,
    data text NOT NULL,
    sent_at timestamptz NOT NULL
);

CREATE TABLE partner_alert_acks (
    alert_id uuid NOT NULL REFERENCES partner_alerts (id),
    user_id uuid NOT NULL REFERENCES users (id),
    org_id uuid NOT NULL REFERENCES organisations (id),
    at timestamptz NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);

-- Who viewed or downloaded what. Append-only.
CREATE TABLE partner_access (
    id uuid PRIMARY KEY,
    at timestamptz NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    org_id uuid NOT NULL REFERENCES organisations (id),
    kind text NOT NULL CHECK (kind IN ('view_package', 'view_advisory', 'download',
        'view_alert', 'acknowledge_alert')),
    release_id uuid,
    advisory_id uuid,
    alert_id uuid,
    detail text NOT NULL
);

CREATE INDEX partner_access_at ON partner_access (at);

CREATE FUNCTION partner_access_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access trail is append-only';
END;
$$;

CREATE TRIGGER partner_access_no_change BEFORE UPDATE OR DELETE ON partner_access
FOR EACH ROW EXECUTE FUNCTION partner_access_append_only();

-- One row per release and tier once its package went out: the claim that makes delivery
-- happen once, also with several instances.
CREATE TABLE package_deliveries (
    release_id uuid NOT NULL REFERENCES releases (id),
    tier text NOT NULL,
    delivered_at timestamptz NOT NULL,
    recipients bigint NOT NULL,
    PRIMARY KEY (release_id, tier)
);
