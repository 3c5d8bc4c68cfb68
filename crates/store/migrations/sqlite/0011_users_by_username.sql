-- ListUsers' `username ^= "..."` and `username = "..."` filters (the console's search box):
-- without an index they walked the whole pool (216 ms at 100,000 users).
CREATE INDEX users_by_username ON users(pool_id, username);
