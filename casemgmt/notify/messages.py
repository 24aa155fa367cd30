"""The text of each kind of notification, in the recipient's language, for every channel.

A text is built from the notification's parameters alone (a case or referral number, a due
time, what is asked); it cannot name the child, because nothing of the child is ever stored
with a notification (outbox.PARAMETERS).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from markupsafe import escape

from casemgmt.notify.channels import Message


def language_of(user) -> str:
    """The language a user reads messages in: their own when the account has one, else the app's."""
    language = getattr(user, "language", None)
    if language in current_app.config["LANGUAGES"]:
        return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _when(value: str | None) -> str:
    if not value:
        return ""
    return format_datetime(datetime.fromisoformat(value), "medium")


def _day(value: str | None) -> str:
    if not value:
        return ""
    return format_date(datetime.fromisoformat(value).date() if "T" in value else
                       datetime.fromisoformat(value + "T00:00:00").date(), "medium")


def _transition(name: str | None) -> str:
    from casemgmt.workflow import definition

    transition = definition.BY_NAME.get(name or "")
    return str(transition.label) if transition else ""


def _status(value: str | None) -> str:
    return {"accepted": _("accepted"), "declined": _("declined"), "completed": _("completed"),
            "dismissed": _("dismissed"), "closed": _("closed"), "approved": _("approved"),
            "rejected": _("rejected")}.get(value or "", value or "")


def texts(kind: str, d: dict) -> tuple[str, str]:
    """(subject, body) of a notification, in the current locale."""
    number, reference = d.get("number", ""), d.get("reference", "")
    due = _when(d.get("due_at"))
    if kind == "referral_received":
        return (_("New referral %(reference)s", reference=reference),
                _("Referral %(reference)s (case %(number)s) was sent to your organisation. "
                  "Accept or decline it by %(due)s.", reference=reference, number=number, due=due))
    if kind == "referral_due_soon":
        return (_("Referral %(reference)s: answer due soon", reference=reference),
                _("Referral %(reference)s waits for your organisation's answer by %(due)s.",
                  reference=reference, due=due))
    if kind == "referral_answered":
        return (_("Referral %(reference)s %(status)s", reference=reference, status=_status(d.get("status"))),
                _("The receiving organisation %(status)s referral %(reference)s of case %(number)s.",
                  status=_status(d.get("status")), reference=reference, number=number))
    if kind == "approval_requested":
        return (_("Case %(number)s waits for your approval", number=number),
                _("Case %(number)s: approve or reject the request \"%(ask)s\".", number=number,
                  ask=_transition(d.get("transition"))))
    if kind == "approval_decided":
        return (_("Your request on case %(number)s was %(decision)s", number=number,
                  decision=_status(d.get("decision"))),
                _("Case %(number)s: your request \"%(ask)s\" was %(decision)s.", number=number,
                  ask=_transition(d.get("transition")), decision=_status(d.get("decision"))))
    if kind == "case_assigned" and not number:
        return (_("%(count)s cases assigned to you", count=d.get("count", "")),
                _("A coordinator moved %(count)s open cases to you. They are in your tasks.",
                  count=d.get("count", "")))
    if kind == "caseload_moved":
        return (_("%(count)s of your cases moved to another worker", count=d.get("count", "")),
                _("A coordinator moved %(count)s of your open cases to another social worker.",
                  count=d.get("count", "")))
    if kind == "case_assigned":
        return (_("Case %(number)s assigned to you", number=number),
                _("Case %(number)s was assigned to you. Its next step is due by %(due)s.", number=number, due=due)
                if due else _("Case %(number)s was assigned to you.", number=number))
    if kind == "deadline_due_soon":
        if reference:
            return texts("referral_due_soon", d)
        if d.get("clock"):
            from casemgmt.workflow.deadlines import CLOCK_LABELS

            return (_("Case %(number)s: a juvenile-justice deadline runs", number=number),
                    _("Case %(number)s: \"%(step)s\" is due by %(due)s.", number=number,
                      step=CLOCK_LABELS.get(d["clock"], ""), due=due))
        return (_("Case %(number)s is due tomorrow", number=number),
                _("The next step of case %(number)s is due by %(due)s.", number=number, due=due))
    if kind == "deadline_overdue":
        if reference:
            return (_("Referral %(reference)s is overdue", reference=reference),
                    _("Referral %(reference)s of case %(number)s was not answered by %(due)s.",
                      reference=reference, number=number, due=due) if due else
                    _("Referral %(reference)s was not answered in time.", reference=reference))
        if d.get("clock"):
            from casemgmt.workflow.deadlines import CLOCK_LABELS

            return (_("Case %(number)s: a juvenile-justice deadline passed", number=number),
                    _("Case %(number)s: \"%(step)s\" was due by %(due)s.", number=number,
                      step=CLOCK_LABELS.get(d["clock"], ""), due=due))
        return (_("Case %(number)s is overdue", number=number),
                _("The next step of case %(number)s was due by %(due)s.", number=number, due=due))
    if kind == "conference_invited":
        return (_("Invitation to a case conference"),
                _("Your organisation is invited to a case conference on %(when)s.",
                  when=_when(d.get("scheduled_at"))))
    if kind == "task_assigned":
        return (_("A conference action for case %(number)s", number=number),
                _("A case conference gave you an action on case %(number)s, due on %(day)s.", number=number,
                  day=_day(d.get("due_date"))))
    if kind == "complaint_status":
        return (_("Complaint %(number)s %(status)s", number=number, status=_status(d.get("status"))),
                _("The complaint you registered (%(number)s) was %(status)s. Thank you for reporting.",
                  number=number, status=_status(d.get("status"))))
    if kind == "transfer_requested":
        return (_("Transfer of case %(number)s requested", number=number),
                _("A transfer of case %(number)s to your district is requested. Answer it by %(due)s.",
                  number=number, due=due) if due else
                _("A transfer of case %(number)s to your district is requested.", number=number))
    if kind == "outreach_assigned":
        return (_("New outreach for your village"),
                _("%(count)s children of the population extract wait for an outreach visit.",
                  count=d.get("count", "")))
    if kind == "outreach_letter":
        return (_("Birth-certificate request %(reference)s", reference=reference),
                _("Letter %(reference)s asks your office for a child's birth certificate (akta kelahiran). "
                  "Open it to see the child's details.", reference=reference))
    raise ValueError(f"unknown notification kind {kind!r}")


def public_url(path: str | None) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + (path or "/")


PREFERENCES_PATH = "/account/notifications"


def in_app_text(notification, language: str | None = None) -> str:
    """The one line the bell's list shows."""
    with force_locale(language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return texts(notification.kind, notification.data or {})[1]


def _html(body: str, link: str, link_text: str, footer: str) -> str:
    return (f'<!doctype html><html><body><p>{escape(body)}</p>'
            f'<p><a href="{escape(link)}">{escape(link_text)}</a></p>'
            f'<p style="color:#666;font-size:small">{escape(footer)}</p></body></html>')


def message_for(notification, language: str) -> Message:
    """The notification as its recipient reads it on a channel."""
    with force_locale(language):
        subject, body = texts(notification.kind, notification.data or {})
        if notification.urgent:
            subject = _("URGENT: %(subject)s", subject=subject)
        link = public_url(notification.link)
        open_text = _("Open in casemgmt (log-in required)")
        footer = _("You receive this because of your work in casemgmt. Change what you receive: %(url)s",
                   url=public_url(PREFERENCES_PATH))
        text = f"{body}\n\n{open_text}: {link}\n\n-- \n{footer}\n"
        return Message(kind=notification.kind, subject=subject, text=text, link=link, language=language,
                       urgent=notification.urgent, html=_html(body, link, open_text, footer),
                       headers={"List-Unsubscribe": f"<{public_url(PREFERENCES_PATH)}>"})


def digest_message(notifications, language: str) -> Message:
    """One e-mail listing the day's notices."""
    with force_locale(language):
        subject = _("casemgmt: %(count)s notices of the day", count=len(notifications))
        lines = [texts(n.kind, n.data or {})[1] + "\n  " + public_url(n.link) for n in notifications]
        footer = _("You receive this daily summary because you chose it. Change what you receive: %(url)s",
                   url=public_url(PREFERENCES_PATH))
        text = "\n\n".join(lines) + f"\n\n-- \n{footer}\n"
        items = "".join(f'<li>{escape(texts(n.kind, n.data or {})[1])} '
                        f'<a href="{escape(public_url(n.link))}">{escape(public_url(n.link))}</a></li>'
                        for n in notifications)
        html = (f"<!doctype html><html><body><ul>{items}</ul>"
                f'<p style="color:#666;font-size:small">{escape(footer)}</p></body></html>')
        return Message(kind="digest", subject=subject, text=text, link=public_url("/notifications"),
                       language=language, html=html,
                       headers={"List-Unsubscribe": f"<{public_url(PREFERENCES_PATH)}>"})
