-- Distribution (issue 7): subscribers, audience lists and their members, editions, webhook
-- endpoints, distribution events and one delivery row per recipient and event.
--
-- The UNIQUE (event_id, channel, recipient_id) on deliveries is the no-duplicates rule as the
-- database keeps it: whatever the fan-out decides, a recipient gets at most one delivery of
-- an event per channel. Aggregates are JSON in `data`; other columns are their projection.

CREATE TABLE subscribers (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'unsubscribed')),
    -- The secret in confirmation, unsubscribe and preference links.
    token TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE audience_lists (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE list_members (
    list_id BLOB NOT NULL REFERENCES audience_lists (id) ON DELETE CASCADE,
    subscriber_id BLOB NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, subscriber_id)
) STRICT;

CREATE INDEX list_members_subscriber ON list_members (subscriber_id);

CREATE TABLE editions (
    name TEXT PRIMARY KEY NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_endpoints (
    id BLOB PRIMARY KEY NOT NULL,
    list_id BLOB NOT NULL REFERENCES audience_lists (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    disabled_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE distribution_events (
    id BLOB PRIMARY KEY NOT NULL,
    -- e.g. advisory:KEIKAI-2026-0001:v2, release:<id>, notice:<id>, digest:daily:2026-12-01
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE deliveries (
    id BLOB PRIMARY KEY NOT NULL,
    event_id BLOB NOT NULL REFERENCES distribution_events (id),
    channel TEXT NOT NULL CHECK (channel IN ('mail', 'webhook')),
    -- A subscriber (mail) or a webhook endpoint.
    recipient_id BLOB NOT NULL,
    list_id BLOB NOT NULL,
    address TEXT NOT NULL,
    locale TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'bounced')),
    attempts INTEGER NOT NULL,
    error TEXT,
    message_id TEXT NOT NULL UNIQUE,
    ack_token TEXT UNIQUE,
    acked_at TEXT,
    queued_at TEXT NOT NULL,
    sent_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (event_id, channel, recipient_id)
) STRICT;

CREATE INDEX deliveries_event_state ON deliveries (event_id, state);
