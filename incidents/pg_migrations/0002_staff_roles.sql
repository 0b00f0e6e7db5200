-- Roles enforced by the database itself, not only by the application (version 2).
--
-- Staff log in as their own PostgreSQL users, each a member of one or more group roles
-- named after CityDesk's roles: citydesk_supervisor, citydesk_intake_clerk,
-- citydesk_shift_chief, citydesk_dispatcher, citydesk_department, citydesk_inspector,
-- citydesk_admin (all members of citydesk_staff). `citydesk cases grant` assigns them.
-- The schema's owner (who migrates, imports and restores) is not restricted.
--
-- * who may take which action: role_actions (the lifecycle's table, checked equal to
--   incidents.lifecycle.TRANSITIONS by the tests) and a trigger on every new event, which
--   also requires the user to hold the role the event claims: an inspector cannot dispatch;
-- * a case's state changes only together with its event: an UPDATE by staff must raise the
--   version by one and be backed by the event of that version;
-- * row-level security: a department user sees and moves only the cases of the departments
--   listed for them in staff_departments;
-- * column privileges: reporters' names, phones and e-mails are readable by the intake roles
--   (supervisor, intake clerk) and admin only.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['citydesk_staff', 'citydesk_supervisor', 'citydesk_intake_clerk',
                             'citydesk_shift_chief', 'citydesk_dispatcher',
                             'citydesk_department', 'citydesk_inspector', 'citydesk_admin']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
        IF r <> 'citydesk_staff' AND NOT pg_has_role(r, 'citydesk_staff', 'MEMBER') THEN
            EXECUTE format('GRANT citydesk_staff TO %I', r);
        END IF;
    END LOOP;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO citydesk_staff', current_schema());
END
$$;

CREATE TABLE role_actions (
    role text NOT NULL,
    action text NOT NULL,
    PRIMARY KEY (role, action)
);
INSERT INTO role_actions (role, action) VALUES
    ('admin', 'accept'),
    ('admin', 'cancel'),
    ('admin', 'check_fail'),
    ('admin', 'check_pass'),
    ('admin', 'close'),
    ('admin', 'close_imported'),
    ('admin', 'dispatch'),
    ('admin', 'handle'),
    ('admin', 'register'),
    ('admin', 'reopen'),
    ('admin', 'report'),
    ('admin', 'resume'),
    ('admin', 'return_to_dispatch'),
    ('admin', 'start'),
    ('admin', 'suspend'),
    ('admin', 'verify'),
    ('department', 'handle'),
    ('department', 'return_to_dispatch'),
    ('department', 'start'),
    ('dispatcher', 'dispatch'),
    ('inspector', 'check_fail'),
    ('inspector', 'check_pass'),
    ('intake_clerk', 'accept'),
    ('intake_clerk', 'cancel'),
    ('intake_clerk', 'report'),
    ('shift_chief', 'cancel'),
    ('shift_chief', 'close'),
    ('shift_chief', 'register'),
    ('shift_chief', 'reopen'),
    ('shift_chief', 'resume'),
    ('shift_chief', 'suspend'),
    ('supervisor', 'check_fail'),
    ('supervisor', 'check_pass'),
    ('supervisor', 'report'),
    ('supervisor', 'verify');

CREATE TABLE staff_departments (
    login text NOT NULL,
    department text NOT NULL,
    PRIMARY KEY (login, department)
);

-- who really wrote each event, whatever name the application gave (kept by copies)
ALTER TABLE case_events ADD COLUMN db_user text NOT NULL DEFAULT current_user;

CREATE FUNCTION check_event_role() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
DECLARE
    allowed boolean;
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                   'MEMBER') THEN
        NEW.db_user := coalesce(NEW.db_user, current_user);  -- a copy keeps who wrote it
        RETURN NEW;
    END IF;
    NEW.db_user := current_user;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'citydesk_' || NEW.role)
       OR NOT pg_has_role(current_user, 'citydesk_' || NEW.role, 'MEMBER') THEN
        RAISE EXCEPTION 'user % does not hold the role %', current_user, NEW.role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.role_actions WHERE role = $1 AND action = $2)',
                   TG_TABLE_SCHEMA) INTO allowed USING NEW.role, NEW.action;
    IF NOT allowed THEN
        RAISE EXCEPTION 'the role % may not %', NEW.role, NEW.action
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$f$;
CREATE TRIGGER case_events_role BEFORE INSERT ON case_events
    FOR EACH ROW EXECUTE FUNCTION check_event_role();

CREATE FUNCTION check_case_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
DECLARE
    backed boolean;
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                   'MEMBER') THEN
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.case_events WHERE case_id = $1 '
                   'AND seq = $2 AND to_state = $3)', TG_TABLE_SCHEMA)
        INTO backed USING NEW.case_id, NEW.version, NEW.status;
    IF NEW.version <> OLD.version + 1 OR NOT backed THEN
        RAISE EXCEPTION 'case % changes only with its history (a new event of version %)',
            NEW.case_id, OLD.version + 1 USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$f$;
CREATE TRIGGER cases_change_with_history BEFORE UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION check_case_update();

GRANT SELECT ON schema_migrations, crews, role_actions, staff_departments TO citydesk_staff;
GRANT SELECT (case_id, kind, category_code, category_standard, status, lon, lat, geom,
              grid_code, department, description, source, source_id, photos, priority,
              reported_at, due_at, registered_at, dispatched_at, dispatcher, crew,
              duplicate_of, closed_at, rework_count, return_count, version, updated_at)
    ON cases TO citydesk_staff;
GRANT SELECT (reporter_name, reporter_phone, reporter_email) ON cases
    TO citydesk_supervisor, citydesk_intake_clerk, citydesk_admin;
GRANT INSERT ON cases TO citydesk_supervisor, citydesk_intake_clerk, citydesk_admin;
GRANT UPDATE (status, registered_at, dispatched_at, dispatcher, closed_at, rework_count,
              return_count, department, crew, duplicate_of, version, updated_at)
    ON cases TO citydesk_staff;
GRANT SELECT, INSERT ON case_events TO citydesk_staff;
GRANT UPDATE (available) ON crews TO citydesk_dispatcher, citydesk_department;
GRANT INSERT, UPDATE ON crews TO citydesk_admin;
GRANT USAGE, SELECT ON SEQUENCE case_changes TO citydesk_staff;

ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY cases_staff ON cases
    TO citydesk_supervisor, citydesk_intake_clerk, citydesk_shift_chief, citydesk_dispatcher,
       citydesk_inspector, citydesk_admin
    USING (true) WITH CHECK (true);
CREATE POLICY cases_own_department ON cases TO citydesk_department
    USING (department IN (SELECT s.department FROM staff_departments s
                           WHERE s.login = current_user));
ALTER TABLE case_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_staff ON case_events
    TO citydesk_supervisor, citydesk_intake_clerk, citydesk_shift_chief, citydesk_dispatcher,
       citydesk_inspector, citydesk_admin
    USING (true) WITH CHECK (true);
CREATE POLICY events_own_department ON case_events TO citydesk_department
    USING (EXISTS (SELECT 1 FROM cases c WHERE c.case_id = case_events.case_id))
    WITH CHECK (EXISTS (SELECT 1 FROM cases c WHERE c.case_id = case_events.case_id));
