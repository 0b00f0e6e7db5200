-- A case's time limit extended (延期, version 6): a department asks for more time, the shift
-- chief grants it, which moves the case's due time, or refuses it (incidents/lifecycle.py).
INSERT INTO role_actions (role, action) VALUES
    ('admin', 'request_extension'),
    ('admin', 'extend'),
    ('admin', 'refuse_extension'),
    ('department', 'request_extension'),
    ('shift_chief', 'extend'),
    ('shift_chief', 'refuse_extension');

-- Staff change a due time only by an extension or a resumption (the time a case was
-- suspended, 挂账, added back): later than it was, in the same update as the extend or
-- resume event of the case's new version (as every other change comes with its event).
GRANT UPDATE (due_at) ON cases TO citydesk_shift_chief, citydesk_admin;

CREATE OR REPLACE FUNCTION check_case_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
DECLARE
    backed boolean;
    extended boolean;
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
    IF NEW.due_at IS DISTINCT FROM OLD.due_at THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.case_events WHERE case_id = $1 '
                       'AND seq = $2 AND action IN (''extend'', ''resume''))', TG_TABLE_SCHEMA)
            INTO extended USING NEW.case_id, NEW.version;
        IF NOT extended OR NEW.due_at <= OLD.due_at THEN
            RAISE EXCEPTION 'case %: the due time moves only later, by an extension or a resumption',
                NEW.case_id USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END
$f$;
