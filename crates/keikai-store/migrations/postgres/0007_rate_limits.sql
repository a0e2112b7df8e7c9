-- Attempts counted against a rate limit. The table held failed sign-ins only; reports are
-- throttled with it too, so it is named for what it counts now.
-- Keep in step with ../sqlite/0007_rate_limits.sql.

ALTER TABLE login_failures RENAME TO rate_limit_attempts;
ALTER INDEX login_failures_key RENAME TO rate_limit_attempts_key;
