-- MFA settings of a pool that DescribeUserPool does not show (SetUserPoolMfaConfig's TOTP and
-- email configuration). Users keep theirs in their document.
ALTER TABLE user_pools ADD COLUMN mfa TEXT NOT NULL DEFAULT '{}';
