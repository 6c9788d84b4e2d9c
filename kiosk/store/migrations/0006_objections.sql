-- Objections (sanggah) to a decision, filed at this kiosk. Only what the kiosk must show or
-- check lives here: the note and the evidence photo travel only inside the sealed outbox
-- payload (the kiosk cannot read them back). One objection may be open per registration.
CREATE TABLE objection (
    objection_id    TEXT PRIMARY KEY,            -- UUIDv7, also the outbox record id
    registration_id TEXT NOT NULL,               -- the registration whose decision is contested
    record_id       TEXT NOT NULL,               -- the version whose decision is contested
    nik_hmac        TEXT NOT NULL,               -- keyed hash of the NIK (lookup, no clear NIK)
    reason_code     TEXT NOT NULL,               -- kiosk.core.objection.REASONS
    has_note        INTEGER NOT NULL DEFAULT 0,
    has_evidence    INTEGER NOT NULL DEFAULT 0,
    filed_at        REAL NOT NULL,               -- wall seconds
    filed_by        TEXT NOT NULL,               -- villager | agent
    agent_id        TEXT,                        -- the agent who filed it on the person's behalf
    session_key     TEXT UNIQUE,                 -- idempotency key of the filing session
    state           TEXT NOT NULL DEFAULT 'waiting', -- waiting | received | under_review | upheld | rejected
    state_reason    TEXT,
    state_at        REAL
);
CREATE INDEX objection_registration ON objection(registration_id);
CREATE INDEX objection_nik ON objection(nik_hmac);
