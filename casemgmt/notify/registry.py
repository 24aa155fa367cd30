"""The channels the outbox delivers through: adding one is one line in CHANNELS."""
from __future__ import annotations

from flask import current_app

from casemgmt.notify.email import EmailChannel
from casemgmt.notify.push import PushChannel
from casemgmt.notify.sms import SmsGateway

CHANNELS = {channel.name: channel for channel in (
    EmailChannel, PushChannel, SmsGateway,
)}

# The instances made, by channel and the values of its settings: every event asks for the
# channels, and reading a VAPID key or parsing a URL each time would be most of its cost.
_MADE: dict[tuple, object] = {}


def configured(config=None) -> dict:
    """The channels this deployment has configured, by name, as ready-to-use instances."""
    config = current_app.config if config is None else config
    ready = {}
    for name, channel in CHANNELS.items():
        values = {key: config.get(key) for key in channel.settings}
        made = (name, tuple(values.values()))
        if made not in _MADE:
            try:
                _MADE[made] = channel.from_config(values)
            except ValueError as exc:  # a mistyped setting turns its channel off, loudly, not the worker
                current_app.logger.error("notification channel %s is off: %s", name, exc)
                continue
        if _MADE[made] is not None:
            ready[name] = _MADE[made]
    return ready
