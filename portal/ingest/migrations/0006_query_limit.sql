-- The per-kiosk query limit of the portal desks (portal/queries.py), shared by every ingest
-- worker: one row per desk and kiosk holding the count of its current window, taken by one
-- atomic upsert (the row lock orders workers taking at once). Rows of ended windows are pruned
-- by the workers, so the table holds at most the kiosks that asked in the current window.
-- UNLOGGED: a count is worth less than the WAL write and fsync each query would cost; after a
-- crash (or on a promoted standby) the table starts empty, which only restarts the windows.
CREATE UNLOGGED TABLE query_count (
    scope       text NOT NULL CHECK (length(scope) BETWEEN 1 AND 32),  -- the desk: status | family
    device_id   text NOT NULL,
    window_no   bigint NOT NULL,             -- floor(wall clock s / window s)
    ends_at     double precision NOT NULL,   -- s since the epoch: the window's end
    n           integer NOT NULL CHECK (n >= 1),
    PRIMARY KEY (scope, device_id)
);
CREATE INDEX query_count_ends ON query_count (ends_at);
