-- Result sharing: who gets reports, what the labs sent, and the outbox of
-- deliveries (written in the same transaction as the result they carry).

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    -- `all`, `station:<centre id>` or `group:<medical group>`
    scope TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    disabled_reason TEXT
);

-- Each lab report once, by the lab's report identifier.
CREATE TABLE lab_reports (
    report_id TEXT PRIMARY KEY,
    lab TEXT NOT NULL,
    barcode TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE outbox (
    webhook_id TEXT PRIMARY KEY,
    -- Delivery order per subscription.
    seq BIGINT NOT NULL,
    subscription TEXT NOT NULL,
    barcode TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending | delivered | dead | disabled
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    last_status INTEGER,
    last_error TEXT
);

CREATE TABLE delivery_attempts (
    webhook_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    PRIMARY KEY (webhook_id, attempt)
);

CREATE INDEX outbox_pending ON outbox (subscription, status, seq);
