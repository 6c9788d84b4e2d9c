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

-- Registrations of one area: a prefix range on the village code (C collation for the range).
CREATE INDEX record_registration_village
    ON record (((record->>'village_code') COLLATE "C"))
    WHERE kind = 'registration';
