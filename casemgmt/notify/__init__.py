"""Notifications: an outbox written in the same transaction as the event that causes it, read in
the app and delivered by the background worker through the channels of ``channels``."""
