-- What a city's own system says about a case beyond its times (version 4, issue 19): its
-- status there (as written, e.g. "Assigned"), the channel it came in by (phone, app, web),
-- and when the source last updated it. A later export that changes the status or the due
-- time appends a `source_update` event (the case's own state is unchanged), which only the
-- import (the schema's owner or an administrator) takes.
ALTER TABLE cases ADD COLUMN source_status text;
ALTER TABLE cases ADD COLUMN channel text;
ALTER TABLE cases ADD COLUMN source_updated_at timestamptz;
GRANT SELECT (source_status, channel, source_updated_at) ON cases TO citydesk_staff;
INSERT INTO role_actions (role, action) VALUES ('admin', 'source_update');
GRANT UPDATE (due_at, source_status, source_updated_at) ON cases TO citydesk_admin;
