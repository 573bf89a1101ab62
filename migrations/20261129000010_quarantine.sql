-- Quarantine: authentication failures in a row, counted here so that every worker
-- adds to the same count; any success sets it back to zero. When the status last
-- changed (checked_at moves with every check, even one that changes nothing).
ALTER TABLE integrations
    ADD COLUMN auth_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN status_changed_at timestamptz;
UPDATE integrations SET status_changed_at = checked_at;
ALTER TABLE integrations
    ALTER COLUMN status_changed_at SET NOT NULL,
    ALTER COLUMN status_changed_at SET DEFAULT now();
