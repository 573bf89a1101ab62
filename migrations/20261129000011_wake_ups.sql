-- When a waiting request may next be tried. The broker's delay queue is the alarm
-- clock; this is the record of when it should ring, so a copy that rings early is
-- parked again and a wake-up the broker lost is noticed and sent again by the relay.
ALTER TABLE provisioning_requests ADD COLUMN next_attempt_at timestamptz;

-- The relay looks for stalled requests among the unfinished ones only.
CREATE INDEX provisioning_requests_unfinished
    ON provisioning_requests (state, published_at)
    WHERE state IN ('queued', 'retrying', 'in_progress');
