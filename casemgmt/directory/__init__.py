"""Places (Kemendagri region codes) and organisations with the services they offer."""
