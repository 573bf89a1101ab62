-- How many attempts a request for this integration gets before it is dead; NULL keeps
-- the default retry policy.
ALTER TABLE integrations ADD COLUMN max_attempts integer
    CHECK (max_attempts IS NULL OR max_attempts BETWEEN 1 AND 20);
