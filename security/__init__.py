"""Privacy and access: payload encryption keys, staff tokens and roles, masking of personal data."""
