-- Pacing: an integration may name how many calls per second its SaaS allows. Every
-- worker reserves its call's slot here, so the limit holds across all of them; a 429
-- pushes the next slot out for everyone.
ALTER TABLE integrations ADD COLUMN requests_per_second double precision
    CHECK (requests_per_second IS NULL OR requests_per_second > 0);

CREATE TABLE integration_pacing (
    integration_id  uuid PRIMARY KEY REFERENCES integrations (id),
    next_at         timestamptz NOT NULL
);
