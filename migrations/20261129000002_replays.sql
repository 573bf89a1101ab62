-- Operators replay requests that ended failed, dead or rejected. Each replay is kept
-- with who asked and why, and what the request looked like before.

ALTER TABLE provisioning_requests ADD COLUMN replays integer NOT NULL DEFAULT 0;

CREATE TABLE request_replays (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    request_id      uuid NOT NULL REFERENCES provisioning_requests (id),
    replayed_by     text NOT NULL,
    reason          text,
    previous_state  text NOT NULL,
    previous_error  text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_replays_request ON request_replays (tenant_id, request_id, at);
