-- Concurrency: how many calls to an integration's SaaS may be in flight at once, across
-- every worker. A call holds a lease on one of the integration's slots; the lease ends
-- with the call, or expires if its worker died, so a crash never keeps a slot.
ALTER TABLE integrations ADD COLUMN max_concurrent_calls integer
    CHECK (max_concurrent_calls IS NULL OR max_concurrent_calls BETWEEN 1 AND 1000);

CREATE TABLE integration_call_slots (
    integration_id  uuid NOT NULL REFERENCES integrations (id),
    slot            integer NOT NULL,
    lease_id        uuid,
    expires_at      timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (integration_id, slot)
);

-- A 429 holds every worker back until then, calls whose rate slot was reserved before
-- it came included.
ALTER TABLE integration_pacing ADD COLUMN paused_until timestamptz;

-- A request waiting in a delay queue for its reserved rate slot keeps the slot here, so
-- coming back costs no second slot.
CREATE TABLE paced_requests (
    request_id  uuid PRIMARY KEY REFERENCES provisioning_requests (id),
    slot_at     timestamptz NOT NULL
);
