-- The command centre urges a department on a case it holds (督办, version 7): an event
-- with the reason, the case's state unchanged (incidents/lifecycle.py). The shift chief
-- takes it; staff roles take only the actions role_actions lists (migration 2).
INSERT INTO role_actions (role, action) VALUES
    ('admin', 'urge'),
    ('shift_chief', 'urge');

-- the desk's "urged" filter, the pending requests for more time and the evaluation's
-- counts of urged cases look events up by their action
CREATE INDEX case_events_action ON case_events (action);
