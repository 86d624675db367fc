-- Run once by the postgres image when claims-postgres's volume is new: the payment gateway's
-- ledger gets a database of its own (its own URL: the bank's system, not the service's).
CREATE DATABASE ledger OWNER claims;
