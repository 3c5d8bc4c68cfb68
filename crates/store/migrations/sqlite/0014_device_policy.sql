-- A pool's device policy (Gatehouse's own, not on Cognito's wire): how long a remembered device
-- stays trusted since it last authenticated, and how many one user may have remembered.
ALTER TABLE user_pools ADD COLUMN device_policy TEXT NOT NULL DEFAULT '{}';
