-- The partner programme: agreements, partner editions of advisories, questions, emergency
-- alerts and the access trail. Aggregates are JSON in `data`; the other columns are their
-- projection.

CREATE TABLE partner_agreements (
    org_id BLOB PRIMARY KEY NOT NULL REFERENCES organisations (id),
    tier TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE partner_editions (
    advisory_id BLOB PRIMARY KEY NOT NULL REFERENCES advisories (id),
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE partner_questions (
    id BLOB PRIMARY KEY NOT NULL,
    release_id BLOB NOT NULL REFERENCES releases (id),
    advisory_id BLOB NOT NULL REFERENCES advisories (id),
    org_id BLOB NOT NULL REFERENCES organisations (id),
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    asked_at TEXT NOT NULL
) STRICT;

CREATE INDEX partner_questions_release ON partner_questions (release_id, asked_at);

CREATE TABLE partner_alerts (
    id BLOB PRIMARY KEY NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    sent_at TEXT NOT NULL
) STRICT;

CREATE TABLE partner_alert_acks (
    alert_id BLOB NOT NULL REFERENCES partner_alerts (id),
    user_id BLOB NOT NULL REFERENCES users (id),
    org_id BLOB NOT NULL REFERENCES organisations (id),
    at TEXT NOT NULL,
    PRIMARY KEY (alert_id, user_id)
) STRICT;

-- Who viewed or downloaded what. Append-only.
CREATE TABLE partner_access (
    id BLOB PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id),
    org_id BLOB NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('view_package', 'view_advisory', 'download',
        'view_alert', 'acknowledge_alert')),
    release_id BLOB,
    advisory_id BLOB,
    alert_id BLOB,
    detail TEXT NOT NULL
) STRICT;

CREATE INDEX partner_access_at ON partner_access (at);

CREATE TRIGGER partner_access_no_update BEFORE UPDATE ON partner_access
BEGIN
    SELECT RAISE(ABORT, 'the access trail is append-only');
END;

CREATE TRIGGER partner_access_no_delete BEFORE DELETE ON partner_access
BEGIN
    SELECT RAISE(ABORT, 'the access trail is append-only');
END;

-- One row per release and tier once its package went out: the claim that makes delivery
-- happen once, also with several instances.
CREATE TABLE package_deliveries (
    release_id BLOB NOT NULL REFERENCES releases (id),
    tier TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    PRIMARY KEY (release_id, tier)
) STRICT;
