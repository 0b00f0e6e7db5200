-- Departments' layers shared in one database (version 1).
--
-- Staff sign in as their own PostgreSQL users. Each department is a group role
-- (departments.db_role, created by `citydesk layers department add`), and every department
-- role is a member of citydesk_layers. The database enforces who may do what, whatever client
-- is used (CityDesk, QGIS, psql):
--
-- * a shared layer is a table in this schema owned by its department's role: members of the
--   owner department write it; every other department reads it, unless it is restricted,
--   when only the departments listed in layer_readers read it;
-- * the catalogue lists every layer a user may read (row-level security hides restricted
--   layers from the others); only the owner department changes its entry;
-- * each feature carries citydesk_version, raised by a trigger on every update, so an edit
--   made against an older version is refused (optimistic locking) by any client;
-- * the catalogue's feature count, extent and update time follow every edit (a trigger
--   running as the schema's owner).
-- The styles live in public.layer_styles, the table QGIS itself reads and writes.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'citydesk_layers') THEN
        CREATE ROLE citydesk_layers NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO citydesk_layers', current_schema());
END
$$;

CREATE TABLE departments (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    title text NOT NULL DEFAULT '',
    db_role text NOT NULL UNIQUE
);

CREATE TABLE catalogue (
    layer_table text PRIMARY KEY,
    title text NOT NULL,
    department text NOT NULL REFERENCES departments (name),
    description text NOT NULL DEFAULT '',
    licence text NOT NULL DEFAULT '',
    restricted boolean NOT NULL DEFAULT false,
    geometry_column text NOT NULL,
    geometry_type text NOT NULL,
    srid integer NOT NULL,
    feature_count bigint NOT NULL DEFAULT 0,
    min_x double precision,
    min_y double precision,
    max_x double precision,
    max_y double precision,
    published_by text NOT NULL DEFAULT session_user,
    published_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE layer_readers (
    layer_table text NOT NULL REFERENCES catalogue (layer_table) ON DELETE CASCADE,
    department text NOT NULL REFERENCES departments (name),
    PRIMARY KEY (layer_table, department)
);

-- may the signed-in user read / write the layer in this catalogue row?
CREATE FUNCTION citydesk_may_read(layer_schema text, layer_table text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN to_regclass(format('%I.%I', layer_schema, layer_table)) IS NULL THEN false
                ELSE has_table_privilege(format('%I.%I', layer_schema, layer_table), 'SELECT')
           END
$$;

CREATE FUNCTION citydesk_in_department(dept text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM departments d
                   WHERE d.name = dept AND pg_has_role(current_user, d.db_role, 'MEMBER'))
$$;

-- bound to this schema, whatever the reader's search_path
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION citydesk_in_department(text) SET search_path = %I, pg_catalog',
                   current_schema());
    EXECUTE format('CREATE POLICY catalogue_read ON catalogue FOR SELECT USING (NOT restricted '
                   'OR citydesk_may_read(%L, layer_table) OR citydesk_in_department(department))',
                   current_schema());
END
$$;

ALTER TABLE catalogue ENABLE ROW LEVEL SECURITY;
CREATE POLICY catalogue_insert ON catalogue FOR INSERT
    WITH CHECK (citydesk_in_department(department));
CREATE POLICY catalogue_update ON catalogue FOR UPDATE
    USING (citydesk_in_department(department)) WITH CHECK (citydesk_in_department(department));
CREATE POLICY catalogue_delete ON catalogue FOR DELETE
    USING (citydesk_in_department(department));

ALTER TABLE layer_readers ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers_read ON layer_readers FOR SELECT USING (true);
CREATE POLICY readers_write ON layer_readers FOR ALL
    USING (EXISTS (SELECT 1 FROM catalogue c WHERE c.layer_table = layer_readers.layer_table
                   AND citydesk_in_department(c.department)))
    WITH CHECK (EXISTS (SELECT 1 FROM catalogue c WHERE c.layer_table = layer_readers.layer_table
                        AND citydesk_in_department(c.department)));

GRANT SELECT ON departments, schema_migrations TO citydesk_layers;
GRANT SELECT, INSERT, UPDATE, DELETE ON catalogue, layer_readers TO citydesk_layers;
GRANT EXECUTE ON FUNCTION citydesk_may_read(text, text), citydesk_in_department(text)
    TO citydesk_layers;

-- every feature update raises its version (whoever edits, with whatever client)
CREATE FUNCTION citydesk_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.citydesk_version := OLD.citydesk_version + 1;
    RETURN NEW;
END
$$;

-- the catalogue entry follows the table: count, extent, update time. SECURITY DEFINER: the
-- writer may edit the layer without being allowed to edit the catalogue's other columns.
CREATE FUNCTION citydesk_touch_catalogue() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER AS $$
DECLARE
    geom_column text;
    added bigint := 0;
    removed bigint := 0;
    box box2d;
BEGIN
    EXECUTE format('SELECT geometry_column FROM %I.catalogue WHERE layer_table = $1',
                   TG_TABLE_SCHEMA) INTO geom_column USING TG_TABLE_NAME;
    IF geom_column IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('SELECT count(*), ST_Extent(%I)::box2d FROM new_rows', geom_column)
            INTO added, box;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT count(*) INTO removed FROM old_rows;
    END IF;
    EXECUTE format('UPDATE %I.catalogue SET updated_at = now(), '
                   'feature_count = feature_count + $1, '
                   'min_x = least(min_x, $2), min_y = least(min_y, $3), '
                   'max_x = greatest(max_x, $4), max_y = greatest(max_y, $5) '
                   'WHERE layer_table = $6', TG_TABLE_SCHEMA)
        USING (CASE WHEN TG_OP = 'UPDATE' THEN 0 ELSE added - removed END),
              ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box), TG_TABLE_NAME;
    RETURN NULL;
END
$$;
ALTER FUNCTION citydesk_touch_catalogue() SET search_path = pg_catalog, public;
GRANT EXECUTE ON FUNCTION citydesk_next_version(), citydesk_touch_catalogue()
    TO citydesk_layers;

-- the table QGIS keeps its styles in (created as QGIS 3.22 does, if QGIS has not already)
CREATE TABLE IF NOT EXISTS public.layer_styles (
    id serial PRIMARY KEY,
    f_table_catalog varchar,
    f_table_schema varchar,
    f_table_name varchar,
    f_geometry_column varchar,
    stylename text,
    styleqml xml,
    stylesld xml,
    useasdefault boolean,
    description text,
    owner varchar(63) DEFAULT CURRENT_USER,
    ui xml,
    update_time timestamp DEFAULT CURRENT_TIMESTAMP,
    type varchar
);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.layer_styles TO citydesk_layers;
GRANT USAGE ON SEQUENCE public.layer_styles_id_seq TO citydesk_layers;
