-- The source's own target time (version 3, issue 19). A case imported with the due time of
-- the system it came from keeps it, marked here, so the 311 on-time measure ("closed by the
-- target, among closed cases that have one") counts the source's targets and not the ones
-- CityDesk computes for cases whose source gave none.
ALTER TABLE cases ADD COLUMN due_given boolean NOT NULL DEFAULT false;
GRANT SELECT (due_given) ON cases TO citydesk_staff;
