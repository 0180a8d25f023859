-- Each specimen box's current row: where it was sealed, what carries it, where it
-- went (the journal and custody hold its history).
CREATE TABLE boxes (
    box_id TEXT PRIMARY KEY,
    station TEXT NOT NULL,
    tubes INTEGER NOT NULL,
    sealed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    mission TEXT,
    lab TEXT,
    updated_at TEXT NOT NULL
);
