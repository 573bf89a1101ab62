-- Each attempt's end, with its cause, so a person reads the whole story of a request:
-- when each try ended and why it did not succeed.
CREATE TABLE request_attempts (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    request_id  uuid NOT NULL REFERENCES provisioning_requests (id),
    attempt     integer NOT NULL,
    ended_at    timestamptz NOT NULL DEFAULT now(),
    outcome     text NOT NULL,
    error_code  text,
    error_message text,
    PRIMARY KEY (request_id, attempt)
);
