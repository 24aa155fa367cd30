"""The installable web app: manifest, service worker, the outbox page and the session's token."""
