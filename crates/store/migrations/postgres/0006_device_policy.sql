-- A pool's device policy, as SQLite's 0014.
ALTER TABLE user_pools ADD COLUMN device_policy TEXT NOT NULL DEFAULT '{}';
