-- Agent mode (issue 7): agent accounts, persistent login throttle, help requests,
-- Dasa Wisma rosters with their change history, and the append-only hash-chained audit log.
-- Personal data (roster contents, agent face templates, history values) is sealed at rest
-- with the device key; the audit log holds ids and event kinds only.

CREATE TABLE agent (
    agent_id        TEXT PRIMARY KEY,             -- e.g. AG-3510-001 (upper case)
    role            TEXT NOT NULL,                -- pkh | tksk | dasa_wisma | operator
    display_name    TEXT NOT NULL,                -- shown on "agents on duty"
    pin_hash        BLOB NOT NULL,                -- scrypt output
    pin_salt        BLOB NOT NULL,                -- 16 random bytes per agent
    pin_params      TEXT NOT NULL,                -- e.g. scrypt:16384:8:1
    template_sealed BLOB,                         -- at-rest-sealed face template (float32)
    active          INTEGER NOT NULL DEFAULT 1,
    on_duty         INTEGER NOT NULL DEFAULT 0,
    source          TEXT NOT NULL DEFAULT 'provisioning',  -- provisioning | portal
    version         INTEGER NOT NULL DEFAULT 0,   -- portal version of the account
    enrolled_at     REAL NOT NULL,                -- wall seconds
    updated_at      REAL NOT NULL                 -- wall seconds
);

CREATE TABLE agent_throttle (
    key             TEXT PRIMARY KEY,             -- agent id, or '?' for unknown ids
    failures        INTEGER NOT NULL,
    last_failure_at REAL NOT NULL                 -- wall seconds
);

CREATE TABLE help_request (
    request_id      TEXT PRIMARY KEY,             -- UUIDv7
    source          TEXT NOT NULL,                -- button | screen | face
    created_at      REAL NOT NULL,                -- wall seconds
    state           TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'taken', 'cancelled')),
    taken_by        TEXT,                         -- agent id
    closed_at       REAL
);
CREATE INDEX help_request_state ON help_request(state, created_at);

CREATE TABLE roster_household (
    household_id    TEXT PRIMARY KEY,             -- UUID given by the portal or the kiosk
    cadre_id        TEXT NOT NULL,                -- the Dasa Wisma cadre's agent id
    kk_hmac         TEXT NOT NULL UNIQUE,         -- keyed hash of the No. KK (lookup only)
    version         INTEGER NOT NULL DEFAULT 0,   -- last portal version applied
    data_sealed     BLOB NOT NULL,                -- at-rest-sealed JSON of the household
    pending_sealed  BLOB,                         -- at-rest-sealed JSON of unconfirmed edits
    updated_at      REAL NOT NULL                 -- wall seconds
);
CREATE INDEX roster_household_cadre ON roster_household(cadre_id);

CREATE TABLE roster_history (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id    TEXT NOT NULL,
    at              REAL NOT NULL,                -- wall seconds
    source          TEXT NOT NULL,                -- local | portal
    action          TEXT NOT NULL,                -- see kiosk.core.roster.Action
    path            TEXT NOT NULL,                -- field path, e.g. members.m1.work
    agent_id        TEXT,
    version         INTEGER,                      -- portal version involved, if any
    detail_sealed   BLOB                          -- at-rest-sealed old/new values
);
CREATE INDEX roster_history_household ON roster_history(household_id, seq);

CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,          -- 1, 2, 3 ... without gaps
    at              REAL NOT NULL,                -- wall seconds
    kind            TEXT NOT NULL,                -- see kiosk.core.audit.KINDS
    actor           TEXT,                         -- agent id or NULL
    subject         TEXT,                         -- record/household/request id or NULL
    prev_hash       TEXT NOT NULL,                -- hex SHA-256 of the previous entry
    hash            TEXT NOT NULL                 -- hex SHA-256 of this entry
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE audit_upload (
    batch_id        TEXT PRIMARY KEY,             -- outbox record id of the batch
    from_seq        INTEGER NOT NULL,
    to_seq          INTEGER NOT NULL,
    head_hash       TEXT NOT NULL,                -- hash of entry to_seq when uploaded
    created_at      REAL NOT NULL
);
