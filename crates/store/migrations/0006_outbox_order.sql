-- An outbox item's place is (seq, idx): the journal seq of the event that owed it
-- and its index among that event's deliveries, in two columns, so no number of
-- deliveries from one event (a 200-tube box, many subscriptions) can reach the
-- next event's numbers. Rows written before folded both into seq as seq*1000+n.
ALTER TABLE outbox ADD COLUMN idx BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET idx = seq % 1000, seq = seq / 1000;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (subscription, status, seq, idx);
