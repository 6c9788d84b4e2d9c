-- Issue 17 items 2 and 5: the portal's signed list of recipients (names and dusun/RT only,
-- sealed at rest), the per-reporter limit on household reports and proposals, and the tallies
-- of the village meeting report, which outlive the purge of acknowledged records.

CREATE TABLE recipient_list (
    village_code    TEXT PRIMARY KEY,             -- 10 digits
    list_version    INTEGER NOT NULL,             -- last version installed
    issued_at       REAL NOT NULL,                -- portal's wall seconds
    installed_at    REAL NOT NULL,                -- kiosk wall seconds
    portal_kid      TEXT NOT NULL,                -- fingerprint of the signing key
    households      INTEGER NOT NULL,
    entries_sealed  BLOB NOT NULL                 -- at-rest sealed JSON of the households
);

CREATE TABLE report_throttle (
    key             TEXT PRIMARY KEY,             -- keyed hash of the reporter's NIK, or agent:<id>
    filed           INTEGER NOT NULL,             -- reports + proposals since the window began
    last_at         REAL NOT NULL                 -- wall seconds of the last one
);

CREATE TABLE tally (
    day             TEXT NOT NULL,                -- kiosk date YYYY-MM-DD
    dusun           TEXT NOT NULL DEFAULT '',     -- '' = not known
    metric          TEXT NOT NULL,                -- see kiosk.reports.tally.METRICS
    count           INTEGER NOT NULL,
    PRIMARY KEY (day, dusun, metric)
);
