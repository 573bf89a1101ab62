-- The W3C trace id a request was accepted under, carried through the broker to its log
-- entry, so one id finds a request in every component's logs.
ALTER TABLE provisioning_requests ADD COLUMN trace_id text;
ALTER TABLE integration_log ADD COLUMN trace_id text;
