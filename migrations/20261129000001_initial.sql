-- Every row carries tenant_id and every query filters by it: tenants are walls.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of each token is kept, so a copy of the database grants nothing.
CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    token_hash  bytea NOT NULL UNIQUE,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

CREATE TABLE integrations (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    service        text NOT NULL,
    workspace      text NOT NULL,
    base_url       text,
    credentials    jsonb NOT NULL,
    status         text NOT NULL CHECK (status IN ('ok', 'error')),
    status_reason  text,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, service, workspace)
);
CREATE UNIQUE INDEX integrations_tenant_id ON integrations (tenant_id, id);

CREATE TABLE employees (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    email        text NOT NULL,
    given_name   text NOT NULL,
    family_name  text NOT NULL,
    department   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);
CREATE UNIQUE INDEX employees_tenant_id ON employees (tenant_id, id);

-- The request table doubles as the outbox: published_at stays NULL until the broker has
-- confirmed the message, and the relay sweeps rows where it is still NULL.
-- result_event_id/result_published_at do the same for the result event of a terminal
-- state, so a crash between commit and publish never loses a log entry.
CREATE TABLE provisioning_requests (
    id                   uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL REFERENCES tenants (id),
    integration_id       uuid NOT NULL,
    employee_id          uuid,
    service              text NOT NULL,
    workspace            text NOT NULL,
    target               text NOT NULL,
    account              jsonb NOT NULL,
    state                text NOT NULL CHECK (state IN
                           ('queued', 'in_progress', 'retrying', 'succeeded', 'failed', 'rejected', 'dead')),
    attempts             integer NOT NULL DEFAULT 0,
    external_account_id  text,
    error_code           text,
    error_message        text,
    error_retryable      boolean,
    idempotency_key      text,
    request_hash         bytea,
    claimed_at           timestamptz,
    published_at         timestamptz,
    result_event_id      uuid,
    result_published_at  timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id)
);
CREATE UNIQUE INDEX provisioning_requests_idempotency
    ON provisioning_requests (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX provisioning_requests_listing
    ON provisioning_requests (tenant_id, created_at DESC, id DESC);
CREATE INDEX provisioning_requests_unpublished
    ON provisioning_requests (created_at) WHERE published_at IS NULL;
CREATE INDEX provisioning_requests_unpublished_results
    ON provisioning_requests (updated_at) WHERE result_event_id IS NOT NULL AND result_published_at IS NULL;

-- One row per outcome; the id is the result event's id, so a redelivered event never
-- doubles a row.
CREATE TABLE integration_log (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    at              timestamptz NOT NULL,
    action          text NOT NULL,
    status          text NOT NULL CHECK (status IN ('success', 'failure')),
    service         text NOT NULL,
    workspace       text NOT NULL,
    integration_id  uuid NOT NULL,
    target          text NOT NULL,
    request_id      uuid NOT NULL,
    employee_id     uuid,
    state           text NOT NULL,
    external_account_id text,
    cause           text,
    attempts        integer NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integration_log_newest ON integration_log (tenant_id, at DESC, id DESC);
CREATE INDEX integration_log_request ON integration_log (tenant_id, request_id);
