-- The portal schema, version 1: each (device id, record id) exactly once.
CREATE TABLE record (
    device_id    text NOT NULL,
    record_id    text NOT NULL,
    kind         text NOT NULL,
    record       jsonb NOT NULL,             -- decrypted record (the portal may read it)
    received_at  double precision NOT NULL,  -- portal wall clock, seconds since the epoch
    created_at   double precision,           -- kiosk time corrected by the portal
    status       text NOT NULL DEFAULT 'received',
    PRIMARY KEY (device_id, record_id)
);
CREATE INDEX record_received_at ON record (received_at);

CREATE TABLE rejection (
    id         bigserial PRIMARY KEY,
    device_id  text NOT NULL,
    record_id  text,
    reason     text NOT NULL,
    at         double precision NOT NULL
);

CREATE TABLE heartbeat (
    device_id    text PRIMARY KEY,
    message      jsonb NOT NULL,
    received_at  double precision NOT NULL
);

CREATE TABLE availability (
    device_id  text PRIMARY KEY,
    state      text NOT NULL,
    at         double precision NOT NULL
);
