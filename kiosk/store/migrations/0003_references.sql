-- Identity references (issue 5): the village reference set pushed by the portal.
-- One set per village, replaced atomically by version. NIKs are never stored in clear: each
-- entry is found by an HMAC of the NIK under a random per-set key, and that key and every
-- entry (face template, No. KK, initials) are sealed with the device's at-rest key. Purging
-- a set deletes its key and entries (crypto-shredding); the set row stays as a version
-- high-water mark so an older or revoked set can never be installed again.

CREATE TABLE reference_set (
    village_code    TEXT PRIMARY KEY,             -- 10 digits
    set_version     INTEGER NOT NULL,             -- last version installed or revoked
    min_version     INTEGER NOT NULL DEFAULT 1,   -- versions below this are refused (revoked)
    state           TEXT NOT NULL CHECK (state IN ('active', 'expired', 'revoked')),
    issued_at       REAL,                         -- portal's wall seconds
    expires_at      REAL,                         -- wall seconds; NULL once purged
    installed_at    REAL NOT NULL,                -- kiosk wall seconds
    portal_kid      TEXT,                         -- fingerprint of the signing key
    entries         INTEGER NOT NULL DEFAULT 0,
    key_sealed      BLOB,                         -- per-set HMAC key, at-rest sealed; NULL = purged
    reason          TEXT                          -- why it was purged (expired / revoke reason)
);

CREATE TABLE reference_entry (
    village_code    TEXT NOT NULL REFERENCES reference_set(village_code) ON DELETE CASCADE,
    nik_hmac        TEXT NOT NULL,                -- HMAC-SHA256(set key, NIK), hex
    sealed          BLOB NOT NULL,                -- at-rest sealed {template, kk, initials}
    PRIMARY KEY (village_code, nik_hmac)
);
