-- One registration per NIK per kiosk, kept as versions: an update is a new row (its own
-- record id and outbox row, so the portal keeps every version) with the same registration_id
-- and receipt code and version n+1. session_key makes a submit idempotent: a retry of the
-- same session finds the committed row instead of writing a second one.
-- SQLite cannot drop the old UNIQUE(receipt_no), hence the rebuild.
CREATE TABLE registration_new (
    record_id       TEXT PRIMARY KEY,            -- UUIDv7 of this version, also the outbox record id
    registration_id TEXT NOT NULL,               -- record id of version 1: the same for every version
    version         INTEGER NOT NULL DEFAULT 1,  -- 1, 2, ... per registration_id
    session_key     TEXT UNIQUE,                 -- idempotency key of the session that submitted it
    receipt_no      TEXT NOT NULL,               -- shown to the person; the same for every version
    nik_hmac        TEXT NOT NULL,
    created_at      REAL NOT NULL,
    created_mono    REAL NOT NULL,
    boot_id         TEXT NOT NULL DEFAULT '',
    clock_synced    INTEGER NOT NULL DEFAULT 0,
    verification    TEXT NOT NULL,
    form_id         TEXT NOT NULL,
    form_version    TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    consent_heard   TEXT,                        -- summary | full: what the person listened to
    assisted_by     TEXT,
    template_sealed BLOB,
    status          TEXT NOT NULL DEFAULT 'waiting',
    status_reason   TEXT,
    status_at       REAL,
    UNIQUE (registration_id, version)
);
INSERT INTO registration_new (record_id, registration_id, version, receipt_no, nik_hmac,
    created_at, created_mono, boot_id, clock_synced, verification, form_id, form_version,
    consent_version, assisted_by, template_sealed, status, status_reason, status_at)
SELECT record_id, record_id, 1, receipt_no, nik_hmac, created_at, created_mono, boot_id,
    clock_synced, verification, form_id, form_version, consent_version, assisted_by,
    template_sealed, status, status_reason, status_at FROM registration;
DROP TABLE registration;
ALTER TABLE registration_new RENAME TO registration;
CREATE INDEX registration_nik ON registration(nik_hmac);
CREATE INDEX registration_receipt ON registration(receipt_no);
