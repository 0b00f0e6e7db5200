-- When each event was written, as the writing transaction's id (version 5, issue 22). The
-- KPI facts of a large store are kept as a columnar copy (incidents/fact_snapshot.py) that
-- re-reads only the cases with events written since its snapshot: an event whose
-- transaction was not visible to that snapshot (pg_visible_in_snapshot), found through this
-- index from the snapshot's xmin on. Transaction ids, unlike a sequence, say which writes
-- a snapshot saw even when transactions commit out of order; xid8 never wraps around.
ALTER TABLE case_events ADD COLUMN written xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX case_events_written ON case_events (written);
