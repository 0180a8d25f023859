-- The dispatcher's state after a journaled event, for a fast restart: recovery
-- restores the latest snapshot and replays only the journal after it.
CREATE TABLE snapshots (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    body TEXT NOT NULL
);
