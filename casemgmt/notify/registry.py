"""The channels the outbox delivers through: adding one is one line in CHANNELS."""
from __future__ import annotations

from flask import current_app

from casemgmt.notify.email import EmailChannel

CHANNELS = {channel.name: channel for channel in (
    EmailChannel,
)}


def configured(config=None) -> dict:
    """The channels this deployment has configured, by name, as ready-to-use instances."""
    config = current_app.config if config is None else config
    ready = {}
    for name, channel in CHANNELS.items():
        instance = channel.from_config(config)
        if instance is not None:
            ready[name] = instance
    return ready
