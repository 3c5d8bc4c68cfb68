-- ListUsers' `username ^= "..."` and `username = "..."` filters, as SQLite's 0011.
CREATE INDEX users_by_username ON users(pool_id, username);
