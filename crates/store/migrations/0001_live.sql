-- The live service's durable state. Written for both SQLite and PostgreSQL
-- (portable types only; times are RFC 3339 UTC text, which sorts by time).

CREATE TABLE run_meta (
    id INTEGER PRIMARY KEY,
    scenario TEXT NOT NULL,
    policy TEXT NOT NULL,
    seed BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    -- The service clock: virtual = started_at + (wall - wall_epoch_ms) * speed.
    wall_epoch_ms BIGINT NOT NULL,
    speed DOUBLE PRECISION NOT NULL
);

-- Every accepted inbound event, in the order the dispatcher handled it.
CREATE TABLE journal (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    -- SHA-256 of topic and payload for QoS 1 messages: a redelivery is recognised.
    digest TEXT,
    body TEXT NOT NULL
);

-- Every command the dispatcher gave, written with the event that caused it and
-- before it is published; published_at is set once the broker has it.
CREATE TABLE commands (
    event_seq BIGINT NOT NULL,
    idx INTEGER NOT NULL,
    command_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    mission TEXT,
    body TEXT NOT NULL,
    published_at TEXT,
    PRIMARY KEY (event_seq, idx)
);

CREATE TABLE custody (
    barcode TEXT NOT NULL,
    step TEXT NOT NULL,
    at TEXT NOT NULL,
    place TEXT,
    by_device TEXT,
    event_seq BIGINT NOT NULL,
    PRIMARY KEY (barcode, step, event_seq)
);

CREATE TABLE tubes (
    barcode TEXT PRIMARY KEY,
    station TEXT NOT NULL,
    box_id TEXT NOT NULL,
    tube_type TEXT NOT NULL,
    drawn_at TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE missions (
    mission TEXT PRIMARY KEY,
    carrier TEXT NOT NULL,
    station TEXT NOT NULL,
    lab TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
