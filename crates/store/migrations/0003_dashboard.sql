-- The dashboard's people: accounts with argon2 password hashes, sessions that
-- expire (only a SHA-256 of the token is kept), the audit log of every action,
-- and who acknowledged which alert.

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    -- The lab a `lab` user acts for.
    lab TEXT,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE audit (
    id BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    detail TEXT
);

CREATE TABLE alert_acks (
    command_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE INDEX commands_by_kind ON commands (kind, event_seq);
CREATE INDEX outbox_by_status ON outbox (status, seq);
