-- Who owns each partition (a dispatcher's share of the service) and under which
-- epoch. The epoch grows by one at every change of owner; every write of the
-- partition's journal, commands, custody and outbox checks it in its own
-- transaction, so a process that lost the lease (paused, cut off) cannot write.
-- Expiry is in milliseconds of the database's own clock.
CREATE TABLE partition_leases (
    partition_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    -- The lease length the owner renews for (it renews every third of it).
    lease_ms BIGINT NOT NULL DEFAULT 0,
    journal_seq BIGINT NOT NULL DEFAULT 0
);

-- Processes waiting to take a partition over, with when they last said so.
CREATE TABLE partition_standbys (
    partition_id TEXT NOT NULL,
    member TEXT NOT NULL,
    seen_at_ms BIGINT NOT NULL,
    journal_seq BIGINT NOT NULL,
    PRIMARY KEY (partition_id, member)
);
