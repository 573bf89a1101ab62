-- Retries are a policy per service that an integration may override piece by piece;
-- NULL keeps the service's value. The longest wait is the broker's longest delay
-- queue (an hour), the longest deadline a week.
ALTER TABLE integrations
    ADD COLUMN retry_base_delay_ms integer
        CHECK (retry_base_delay_ms IS NULL OR retry_base_delay_ms BETWEEN 1 AND 3600000),
    ADD COLUMN retry_max_delay_ms integer
        CHECK (retry_max_delay_ms IS NULL OR retry_max_delay_ms BETWEEN 1 AND 3600000),
    ADD COLUMN retry_jitter text
        CHECK (retry_jitter IS NULL OR retry_jitter IN ('none', 'full', 'equal')),
    ADD COLUMN retry_deadline_seconds integer
        CHECK (retry_deadline_seconds IS NULL OR retry_deadline_seconds BETWEEN 1 AND 604800);

-- When each attempt started (its claim) and, for one followed by a retry, when that
-- retry was planned to start; rows from before stay NULL.
ALTER TABLE request_attempts
    ADD COLUMN started_at timestamptz,
    ADD COLUMN retry_at timestamptz;
