-- The status desk on PostgreSQL (portal/status_pg.py): registrations are found in ``record``
-- itself (by receipt code, then by registration id; the NIK digest is computed on the few rows
-- found, never stored), decisions and objection states are kept beside it.

-- A person's registration by its receipt code, and every version of it by its id (the
-- expressions must stay exactly as portal/status_pg.py spells them for the planner to use them).
CREATE INDEX record_receipt ON record ((record ->> 'receipt_no')) WHERE kind = 'registration';
CREATE INDEX record_registration_id ON record ((COALESCE(record #>> '{registration,id}', record_id)))
    WHERE kind = 'registration';

-- The decision on one registration version (the ``status`` message sent to its kiosk).
CREATE TABLE registration_decision (
    device_id   text NOT NULL,
    record_id   text NOT NULL,
    status      text NOT NULL CHECK (status IN ('received', 'verified', 'eligible', 'not_eligible')),
    reason      text CHECK (length(reason) <= 500),
    decided_at  double precision,          -- set for eligible / not_eligible: opens the window
    PRIMARY KEY (device_id, record_id)
);

-- Each objection (sanggah) as the desk checked it, and its state since: received,
-- under_review, upheld or rejected (with the reason the person is shown).
CREATE TABLE objection_state (
    device_id        text NOT NULL,
    objection_id     text NOT NULL,        -- also the objection record's record_id
    registration_id  text NOT NULL,
    nik_digest       text NOT NULL,
    reason_code      text NOT NULL,
    filed_at         double precision NOT NULL,
    filed_by         text NOT NULL,        -- villager | agent:<id>
    has_note         boolean NOT NULL,
    has_evidence     boolean NOT NULL,
    state            text NOT NULL CHECK (state IN ('received', 'under_review', 'upheld', 'rejected')),
    state_reason     text CHECK (length(state_reason) <= 500),
    state_at         double precision NOT NULL,
    CHECK (state <> 'rejected' OR state_reason IS NOT NULL),
    PRIMARY KEY (device_id, objection_id)
);
CREATE INDEX objection_state_registration ON objection_state (registration_id);
CREATE INDEX objection_state_id ON objection_state (objection_id);
