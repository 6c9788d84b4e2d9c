-- The regency dashboard (portal/dashboard): area names, the device registry, officials, and an
-- index for its per-area reads. The dashboard only reads record/heartbeat/availability.

-- Kemendagri area codes: regency 4 digits (3510), kecamatan 6 (351001), village 10 (3510012001).
CREATE TABLE area (
    code  text PRIMARY KEY CHECK (code ~ '^([0-9]{4}|[0-9]{6}|[0-9]{10})$'),
    name  text NOT NULL CHECK (length(name) BETWEEN 1 AND 120)
);

-- Where each kiosk stands. A kiosk missing here is placed by the village code of its latest
-- registration record (a kiosk that has sent none yet shows nowhere until it is registered).
CREATE TABLE device (
    device_id     text PRIMARY KEY,
    village_code  text NOT NULL CHECK (village_code ~ '^[0-9]{10}$'),
    name          text NOT NULL DEFAULT ''
);

-- Dashboard logins. The role fixes the length of the area code it is scoped to.
CREATE TABLE official (
    username       text PRIMARY KEY CHECK (username ~ '^[a-z0-9._-]{3,40}$'),
    name           text NOT NULL,
    role           text NOT NULL,
    area_code      text NOT NULL,
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    failed         integer NOT NULL DEFAULT 0,          -- wrong passwords since the last login
    locked_until   double precision NOT NULL DEFAULT 0, -- seconds since the epoch
    created_at     double precision NOT NULL,
    CHECK ((role = 'village' AND area_code ~ '^[0-9]{10}$')
        OR (role = 'kecamatan' AND area_code ~ '^[0-9]{6}$')
        OR (role = 'regency' AND area_code ~ '^[0-9]{4}$'))
);

-- What the dashboard groups by, computed by PostgreSQL once at insert (no change to the ingest
-- code; a few jsonb lookups in C per row). Junk (a string where a number belongs, a code that is
-- not 10 digits) becomes NULL or 0, never an error.
ALTER TABLE record
    ADD COLUMN village_code text GENERATED ALWAYS AS (
        CASE WHEN record->>'village_code' ~ '^[0-9]{10}$' THEN record->>'village_code' END
    ) STORED,
    ADD COLUMN outcome text GENERATED ALWAYS AS (
        CASE WHEN kind = 'registration' THEN record #>> '{verification,outcome}' END
    ) STORED,
    ADD COLUMN assisted boolean GENERATED ALWAYS AS (
        kind = 'registration'
        AND jsonb_typeof(record #> '{verification,assisted_by}') IS NOT DISTINCT FROM 'string'
    ) STORED,
    ADD COLUMN attempts smallint GENERATED ALWAYS AS (
        CASE WHEN jsonb_typeof(record #> '{verification,attempts}') = 'number'
             THEN LEAST(GREATEST((record #> '{verification,attempts}')::numeric, 0), 100)::smallint
             ELSE 0 END
    ) STORED,
    ADD COLUMN is_update boolean GENERATED ALWAYS AS (
        CASE WHEN jsonb_typeof(record #> '{registration,version}') = 'number'
             THEN (record #> '{registration,version}')::numeric > 1
             ELSE false END
    ) STORED;

-- An area's registrations: a range scan on the code prefix (C collation for the range).
CREATE INDEX record_registration_village
    ON record ((village_code COLLATE "C"), created_at)
    WHERE kind = 'registration' AND village_code IS NOT NULL;
-- The few other kinds the dashboard reads (audit, objection), by arrival.
CREATE INDEX record_other_kinds ON record (kind, received_at) WHERE kind <> 'registration';
