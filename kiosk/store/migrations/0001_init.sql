-- Registrations confirmed to a person, and the outbox that carries them to the portal.
-- Personal data never sits here in clear: the full record is sealed to the portal's key in
-- outbox.payload; the registration row keeps only what the kiosk itself must show or match.

CREATE TABLE registration (
    record_id       TEXT PRIMARY KEY,            -- UUIDv7, also the outbox record id
    receipt_no      TEXT NOT NULL UNIQUE,        -- shown to the person, e.g. 3510-2611-7K4Q
    nik_hmac        TEXT NOT NULL,               -- keyed hash of the NIK (lookup, no clear NIK)
    created_at      REAL NOT NULL,               -- wall clock, seconds since epoch
    created_mono    REAL NOT NULL,               -- monotonic seconds at creation
    boot_id         TEXT NOT NULL DEFAULT '',    -- which boot the monotonic count belongs to
    clock_synced    INTEGER NOT NULL DEFAULT 0,  -- 1 when the wall clock was NTP-synchronised
    verification    TEXT NOT NULL,               -- verified | pending | vouched | unverified
    form_id         TEXT NOT NULL,
    form_version    TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    assisted_by     TEXT,                        -- agent id when an agent helped
    template_sealed BLOB,                        -- at-rest-encrypted face template, purged on ack
    status          TEXT NOT NULL DEFAULT 'waiting', -- waiting | received | verified | eligible | not_eligible
    status_reason   TEXT,
    status_at       REAL
);
CREATE INDEX registration_nik ON registration(nik_hmac);

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- oldest first
    record_id       TEXT NOT NULL UNIQUE,               -- UUIDv7
    kind            TEXT NOT NULL,                      -- registration | roster | audit | ...
    payload         BLOB NOT NULL,                      -- sealed envelope, opaque to the kiosk
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'acked', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,                      -- wall seconds
    next_attempt_at REAL NOT NULL DEFAULT 0,            -- wall seconds
    sent_at         REAL,
    acked_at        REAL,
    last_error      TEXT
);
CREATE INDEX outbox_state ON outbox(state, seq);
