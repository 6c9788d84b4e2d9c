-- Agent accounts pushed by the portal carry an expiry; provisioning accounts have none.
ALTER TABLE agent ADD COLUMN valid_until REAL;  -- wall seconds; NULL = no expiry
