-- Distribution (issue 7): subscribers, audience lists and their members, editions, webhook
-- endpoints, distribution events and one delivery row per recipient and event.
--
-- The UNIQUE (event_id, channel, recipient_id) on deliveries is the no-duplicates rule as the
-- database keeps it: whatever the fan-out decides, a recipient gets at most one delivery of
-- an event per channel. Aggregates are JSON in `data`; other columns are their projection.

CREATE TABLE subscribers (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    state text NOT NULL CHECK (state IN ('pending', 'active', 'unsubscribed')),
    -- The secret in confirmation, unsubscribe and preference links.
    token text NOT NULL UNIQUE,
    data text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE audience_lists (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    data text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE list_members (
    list_id uuid NOT NULL REFERENCES audience_lists (id) ON DELETE CASCADE,
    subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, subscriber_id)
);

CREATE INDEX list_members_subscriber ON list_members (subscriber_id);

CREATE TABLE editions (
    name text PRIMARY KEY,
    revision bigint NOT NULL,
    data text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    list_id uuid NOT NULL REFERENCES audience_lists (id) ON DELETE CASCADE,
    data text NOT NULL,
    enabled boolean NOT NULL,
    consecutive_failures bigint NOT NULL,
    disabled_reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE distribution_events (
    id uuid PRIMARY KEY,
    -- e.g. advisory:KEIKAI-2026-0001:v2, release:<id>, notice:<id>, digest:daily:2026-12-01
    key text NOT NULL UNIQUE,
    kind text NOT NULL,
    title text NOT NULL,
    data text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE deliveries (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES distribution_events (id),
    channel text NOT NULL CHECK (channel IN ('mail', 'webhook')),
    -- A subscriber (mail) or a webhook endpoint.
    recipient_id uuid NOT NULL,
    list_id uuid NOT NULL,
    address text NOT NULL,
    locale text NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'bounced')),
    attempts bigint NOT NULL,
    error text,
    message_id text NOT NULL UNIQUE,
    ack_token text UNIQUE,
    acked_at timestamptz,
    queued_at timestamptz NOT NULL,
    sent_at timestamptz,
    updated_at timestamptz NOT NULL,
    UNIQUE (event_id, channel, recipient_id)
);

CREATE INDEX deliveries_event_state ON deliveries (event_id, state);
