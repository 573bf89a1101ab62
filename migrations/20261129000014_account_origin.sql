-- How a succeeded request came to hold its account: made it (`created`, also when it
-- found its own account again after a lost answer) or took over the person's existing
-- one (`linked`). Kept on the request because its result event, and so the log entry's
-- action, is rebuilt from the row whenever it is published again. NULL for requests that
-- hold no account, and for those that succeeded before linking existed (all created).
ALTER TABLE provisioning_requests
    ADD COLUMN account_origin text CHECK (account_origin IN ('created', 'linked'));
