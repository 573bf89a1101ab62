-- HR intake: hires announced by HR systems become employee records and, through the
-- tenant's provisioning rules, one request per account the rules name.

ALTER TABLE employees ADD COLUMN employment_type text;
ALTER TABLE employees ADD COLUMN location text;

-- match: {"department"?, "employment_type"?, "location"?}; targets:
-- [{"integration_id": uuid, "account": {field: template}}].
CREATE TABLE provisioning_rules (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    match       jsonb NOT NULL,
    targets     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provisioning_rules_tenant ON provisioning_rules (tenant_id, created_at);

-- One row per event id and tenant: a re-sent event creates nothing new.
CREATE TABLE hr_events (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    event_id     text NOT NULL,
    source       text NOT NULL,
    employee_id  uuid,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);

-- Webhook signing secrets, sealed like integration credentials.
CREATE TABLE hr_signing_secrets (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    sealed      bytea NOT NULL,
    key_id      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX hr_signing_secrets_tenant ON hr_signing_secrets (tenant_id) WHERE revoked_at IS NULL;
