"""Users, roles, log-in, lock-out, passwords and API tokens."""
