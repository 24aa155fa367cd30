"""The channels the outbox delivers through: adding one is one line in CHANNELS."""
from __future__ import annotations

from flask import current_app

from casemgmt.notify.email import EmailChannel
from casemgmt.notify.push import PushChannel
from casemgmt.notify.sms import SmsGateway

CHANNELS = {channel.name: channel for channel in (
    EmailChannel, PushChannel, SmsGateway,
)}


def configured(config=None) -> dict:
    """The channels this deployment has configured, by name, as ready-to-use instances."""
    config = current_app.config if config is None else config
    ready = {}
    for name, channel in CHANNELS.items():
        try:
            instance = channel.from_config(config)
        except ValueError as exc:  # a mistyped setting turns its channel off, loudly, not the worker
            current_app.logger.error("notification channel %s is off: %s", name, exc)
            continue
        if instance is not None:
            ready[name] = instance
    return ready
