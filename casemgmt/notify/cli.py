"""flask notify ...: what the notification channels need set up."""
from __future__ import annotations

import click


@click.group("notify", help="Notification channels: e-mail, Web Push, SMS/WhatsApp.")
def notify_cli():
    pass


@notify_cli.command("vapid-keys")
def vapid_keys_command():
    """Print a new VAPID key pair for Web Push. Keep the private key in
    CASEMGMT_VAPID_PRIVATE_KEY; a new key makes every browser subscribe again."""
    from casemgmt.notify.push import new_key_pair

    private, public = new_key_pair()
    click.echo(f"CASEMGMT_VAPID_PRIVATE_KEY={private}")
    click.echo(f"# public key (served to the app at /api/v1/me/push-key): {public}")
