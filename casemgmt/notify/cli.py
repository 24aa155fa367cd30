"""flask notify ...: send what is due (cron, tests), send a test message, make Web Push keys."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("notify", help="Notification channels: e-mail, Web Push, SMS/WhatsApp.")
def notify_cli():
    pass


@notify_cli.command("deliver")
@with_appcontext
def deliver_command():
    """Send, once, every notification delivery that is due (the worker does it every minute)."""
    from casemgmt.notify.delivery import deliver_due

    counts = deliver_due()
    click.echo(f"Delivered: {counts['sent']} sent, {counts['retry']} to retry, {counts['failed']} failed, "
               f"{counts['skipped']} skipped, {counts['stale']} left unfinished by a stopped worker.")


@notify_cli.command("test")
@click.option("--to", "address", required=True, help="Where to send: an e-mail address, a phone number.")
@with_appcontext
def test_command(address):
    """Send one test message through each configured channel and say what happened."""
    from flask import current_app
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from casemgmt.notify import registry
    from casemgmt.notify.channels import DeliveryFailed, Message
    from casemgmt.notify.messages import PREFERENCES_PATH, public_url

    channels = registry.configured()
    for name in registry.CHANNELS:
        if name not in channels:
            click.echo(f"{name}: not configured")
    failed = False
    language = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        text = _("A test message from casemgmt: this channel works.")
        message = Message(kind="test", subject=_("casemgmt test message"), text=text + "\n",
                          link=public_url("/"), language=language, html=f"<p>{text}</p>",
                          headers={"List-Unsubscribe": f"<{public_url(PREFERENCES_PATH)}>"})
    for name, channel in channels.items():
        try:
            channel.send(message, address)
        except DeliveryFailed as exc:
            failed = True
            kind = "temporary failure, would be retried" if exc.retry else "permanent failure"
            click.echo(f"{name}: NOT sent to {address} ({kind}): {exc}")
        else:
            click.echo(f"{name}: sent to {address}")
    if not channels:
        click.echo("No channel is configured (set CASEMGMT_SMTP_URL for e-mail).")
    if failed or not channels:
        raise SystemExit(1)
@notify_cli.command("vapid-keys")
def vapid_keys_command():
    """Print a new VAPID key pair for Web Push. Keep the private key in
    CASEMGMT_VAPID_PRIVATE_KEY; a new key makes every browser subscribe again."""
    from casemgmt.notify.push import new_key_pair

    private, public = new_key_pair()
    click.echo(f"CASEMGMT_VAPID_PRIVATE_KEY={private}")
    click.echo(f"# public key (served to the app at /api/v1/me/push-key): {public}")
