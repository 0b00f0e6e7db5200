-- CityDesk case store on PostgreSQL + PostGIS, version 1.
-- Applied by incidents.pg_schema inside one transaction, with search_path set to the
-- store's schema (then public, where PostGIS lives). Same columns as the GeoPackage store;
-- moments are timestamptz, JSON is jsonb, and the point is derived from lon/lat.

CREATE TABLE cases (
    case_id text PRIMARY KEY,
    kind text NOT NULL,
    category_code text NOT NULL,
    category_standard text NOT NULL,
    status text NOT NULL,
    lon double precision,
    lat double precision,
    geom geometry(Point, 4326) GENERATED ALWAYS AS (
        CASE WHEN lon IS NOT NULL AND lat IS NOT NULL
             THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326) END
    ) STORED,
    grid_code text,
    department text NOT NULL,
    description text NOT NULL DEFAULT '',
    source text NOT NULL,
    source_id text,
    reporter_name text NOT NULL DEFAULT '',
    reporter_phone text NOT NULL DEFAULT '',
    reporter_email text NOT NULL DEFAULT '',
    photos jsonb NOT NULL DEFAULT '[]',
    priority integer NOT NULL DEFAULT 3,
    reported_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    registered_at timestamptz,
    dispatched_at timestamptz,
    dispatcher text,
    crew text,
    duplicate_of text,
    closed_at timestamptz,
    rework_count integer NOT NULL DEFAULT 0,
    return_count integer NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_department ON cases (department);
CREATE INDEX cases_grid ON cases (grid_code text_pattern_ops);
CREATE INDEX cases_reported ON cases (reported_at);
CREATE INDEX cases_registered ON cases (registered_at);
CREATE INDEX cases_geom ON cases USING gist (geom);

CREATE TABLE case_events (
    case_id text NOT NULL REFERENCES cases (case_id),
    seq integer NOT NULL,
    action text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    at timestamptz NOT NULL,
    note text NOT NULL DEFAULT '',
    detail jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE crews (
    crew_id text PRIMARY KEY,
    name text NOT NULL,
    department text NOT NULL,
    lon double precision,
    lat double precision,
    available boolean NOT NULL DEFAULT true
);

-- The history is append-only for everyone, the owner included: no UPDATE, DELETE or
-- TRUNCATE gets through, whatever a client or a hand-typed statement tries.
-- (The functions name nothing by a search path, so the schema may be renamed: a restore
-- builds the new contents beside the old and swaps the names.)
CREATE FUNCTION refuse_history_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION 'case history is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- What desks poll to refresh live (the GeoPackage store reads PRAGMA data_version).
CREATE SEQUENCE case_changes;
CREATE FUNCTION note_case_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM nextval((quote_ident(TG_TABLE_SCHEMA) || '.case_changes')::regclass);
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_changed AFTER INSERT OR UPDATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION note_case_change();
CREATE TRIGGER crews_changed AFTER INSERT OR UPDATE OR DELETE ON crews
    FOR EACH STATEMENT EXECUTE FUNCTION note_case_change();
