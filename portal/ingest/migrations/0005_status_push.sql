-- Decisions on their way to the kiosks (portal/status_push.py). An officer's decision
-- (registration_decision) queues its signed ``status`` message here in the same transaction;
-- every ingest worker sends what is due, each row claimed by one worker (FOR UPDATE SKIP
-- LOCKED), and deletes it only after the broker's PUBACK. One row per registration version: a
-- newer decision replaces one not yet sent, so a kiosk is never sent an older one after it.
CREATE TABLE status_push (
    device_id  text NOT NULL,
    record_id  text NOT NULL,
    status     text NOT NULL CHECK (status IN ('received', 'verified', 'eligible', 'not_eligible')),
    reason     text CHECK (length(reason) <= 500),
    at         double precision NOT NULL,           -- when it was decided (the message's ``at``)
    attempts   integer NOT NULL DEFAULT 0,          -- sends the broker did not accept
    tried_at   double precision NOT NULL DEFAULT 0, -- the last of them (portal clock)
    next_at    double precision NOT NULL DEFAULT 0, -- not sent again before (retry back-off)
    PRIMARY KEY (device_id, record_id)
);
CREATE INDEX status_push_due ON status_push (next_at);

-- A kiosk holds no broker session while offline (clean start): its pushes wait until its
-- retained ``online`` availability arrives, which wakes the workers at once.
CREATE FUNCTION perlinsos_status_push_online() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'online' AND EXISTS (SELECT 1 FROM status_push WHERE device_id = NEW.device_id)
    THEN
        PERFORM pg_notify('perlinsos_status_push', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER availability_status_push AFTER INSERT OR UPDATE ON availability
    FOR EACH ROW EXECUTE FUNCTION perlinsos_status_push_online();

-- Decisions recorded before this migration reached their kiosks only in a status answer: send
-- each once now.
INSERT INTO status_push (device_id, record_id, status, reason, at)
SELECT device_id, record_id, status, reason,
       COALESCE(decided_at, extract(epoch FROM now())::double precision)
FROM registration_decision;
