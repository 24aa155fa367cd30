"""What a delivery channel is. The outbox's worker hands each due delivery to the channel it
names; a channel sends one message to one address and says, by what it raises, whether a failed
delivery is worth another try.

A message never carries a child's name, address or concern (DOMAIN.md, "Notifications"): what is
asked, the case or referral number, by when, and a link that requires log-in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol


@dataclass(frozen=True)
class Message:
    """One notification as one recipient reads it, already in the recipient's language."""

    kind: str          # a kind of API.md's "Notifications", e.g. "referral_received"
    subject: str       # one line: an e-mail subject, a push title
    text: str          # plain text: the body of an e-mail's text part, a push body, an SMS
    link: str          # absolute URL of the page to open; the page asks for log-in
    language: str      # "id" or "en"
    urgent: bool = False
    html: str | None = None  # an e-mail's HTML alternative, when the channel has one
    # Headers a channel may add (an e-mail's List-Unsubscribe), keyed by header name.
    headers: Mapping[str, str] | None = None


class DeliveryFailed(Exception):
    """A delivery that did not go through. ``retry`` says whether trying again later may help;
    the message says why, for the delivery log (never the message's own text)."""

    retry = True


class TemporaryFailure(DeliveryFailed):
    """The far end is down, timed out or answered "try later" (SMTP 4xx, HTTP 5xx)."""

    retry = True


class PermanentFailure(DeliveryFailed):
    """Trying again cannot help: the address is refused, the request was rejected (HTTP 4xx),
    a push subscription is gone (404/410), the login was refused."""

    retry = False


class Channel(Protocol):
    """A way out. ``from_config`` answers None when the deployment has not configured it."""

    name: str  # "email", "push" or "sms": the keys of the preferences of API.md
    # The configuration keys from_config reads, and only those: it is handed nothing else, and
    # its instance is kept until one of them changes (notify.registry).
    settings: tuple[str, ...]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Channel | None": ...

    def addresses(self, user: Any) -> list[str]:
        """Where this user is reached on this channel; empty when they are not. ``user`` is a
        User, or a row with the same attributes (the outbox's recipients)."""
        ...

    # Optional, for a channel whose addresses are rows of their own: ``has_address()``, an SQL
    # expression true for a user_account row the channel has an address for. The outbox asks it
    # in its query of an event's recipients instead of calling addresses() for each.

    def send(self, message: Message, address: str, *, delivery_id: str | None = None) -> None:
        """Send one message to one address; raise a DeliveryFailed when it did not go.
        ``delivery_id`` names the outbox delivery, for a far end that can drop a repeat."""
        ...
