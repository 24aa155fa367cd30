"""The e-mail channel: SMTP (smtplib) with STARTTLS and AUTH, configured by CASEMGMT_SMTP_URL
(smtp://user:password@host:587?starttls=1, or smtp://127.0.0.1:1025) and CASEMGMT_MAIL_FROM.

Each message has a plain-text part and an HTML alternative in the recipient's language and a
List-Unsubscribe header that leads to the preferences page.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure

TIMEOUT_SECONDS = 20


def _smtp_failure(code: int, what: str) -> Exception:
    """4xx is "try later", 5xx is "never": RFC 5321's reply classes."""
    if 400 <= code < 500:
        return TemporaryFailure(f"{what}: SMTP {code}")
    return PermanentFailure(f"{what}: SMTP {code}")


class EmailChannel:
    name = "email"
    settings = ("SMTP_URL", "MAIL_FROM", "SMTP_CA_FILE")  # what from_config reads (notify.registry)

    def __init__(self, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, ca_file: str | None = None,
                 timeout: float = TIMEOUT_SECONDS):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.ca_file, self.timeout = ca_file, timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "EmailChannel | None":
        url = config.get("SMTP_URL")
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme != "smtp" or not parts.hostname:
            raise ValueError("CASEMGMT_SMTP_URL must look like smtp://user:password@host:587?starttls=1")
        query = parse_qs(parts.query)
        starttls = (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes", "on")
        # No DNS lookup here (socket.getfqdn): the outbox reads the configuration at every event.
        return cls(parts.hostname, parts.port or 25, config.get("MAIL_FROM") or f"casemgmt@{parts.hostname}",
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, starttls,
                   config.get("SMTP_CA_FILE"))

    def addresses(self, user: Any) -> list[str]:
        address = (getattr(user, "email", None) or "").strip()
        return [address] if "@" in address else []

    def build(self, message: Message, address: str) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = address
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail["Auto-Submitted"] = "auto-generated"
        if message.urgent:
            mail["Importance"] = "high"
        for name, value in (message.headers or {}).items():
            mail[name] = value
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        mail["Content-Language"] = message.language  # after the parts: set_content drops Content-*
        return mail

    def send(self, message: Message, address: str, *, delivery_id: str | None = None) -> None:
        mail = self.build(message, address)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail, from_addr=self.sender, to_addrs=[address])
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"login refused: SMTP {exc.smtp_code}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"the server does not offer it: {exc}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise _smtp_failure(code, "recipient refused") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _smtp_failure(exc.smtp_code, "sender refused") from None
        except smtplib.SMTPResponseException as exc:  # DATA refused, HELO refused, STARTTLS refused
            raise _smtp_failure(exc.smtp_code, "refused") from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentFailure(f"the server's certificate is not trusted: {exc.verify_message}") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, dropped, TLS broke
            raise TemporaryFailure(f"cannot reach {self.host}:{self.port}: {type(exc).__name__}") from None
