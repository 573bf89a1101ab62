-- The inventory: every account provisioner holds at a service, what lifecycle
-- operations will act on. A row is written in the same transaction as the success of
-- the request that made it, so neither is ever committed without the other.
CREATE TABLE accounts (
    id                   uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL REFERENCES tenants (id),
    integration_id       uuid NOT NULL,
    employee_id          uuid,
    external_account_id  text NOT NULL,
    target               text NOT NULL,
    state                text NOT NULL CHECK (state IN ('active', 'suspended', 'removed')),
    origin               text NOT NULL CHECK (origin IN ('created', 'linked')),
    -- Whether the success that recorded the account found it by lookup (after a lost
    -- answer or a conflict) rather than by its own create call; NULL for accounts
    -- recorded from requests that succeeded before the inventory existed. Matching
    -- accounts provisioner did not make (`linked`) starts from these.
    found_by_lookup      boolean,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    state_changed_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, external_account_id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id)
);
CREATE UNIQUE INDEX accounts_tenant_id ON accounts (tenant_id, id);
CREATE INDEX accounts_listing ON accounts (tenant_id, created_at DESC, id DESC);
CREATE INDEX accounts_employee ON accounts (tenant_id, employee_id) WHERE employee_id IS NOT NULL;

ALTER TABLE provisioning_requests ADD COLUMN account_id uuid;
ALTER TABLE provisioning_requests
    ADD FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id);

-- Requests that succeeded before the inventory: their accounts exist, so they are
-- recorded, the oldest request for each account naming it first.
INSERT INTO accounts
    (id, tenant_id, integration_id, employee_id, external_account_id, target, state,
     origin, created_at, updated_at, state_changed_at)
SELECT DISTINCT ON (integration_id, external_account_id)
       gen_random_uuid(), tenant_id, integration_id, employee_id, external_account_id,
       target, 'active', 'created', updated_at, updated_at, updated_at
FROM provisioning_requests
WHERE state = 'succeeded' AND external_account_id IS NOT NULL
ORDER BY integration_id, external_account_id, created_at, id;

UPDATE provisioning_requests AS r SET account_id = a.id
FROM accounts AS a
WHERE r.state = 'succeeded' AND r.integration_id = a.integration_id
  AND r.external_account_id = a.external_account_id;
