"""The words the offline scripts show, in the user's language (the scripts carry no text)."""
from __future__ import annotations

from flask_babel import gettext as _

from casemgmt.cases.identity import NIK_MESSAGES


def offline_text() -> dict[str, str]:
    return {
        "saved_offline": _("Saved on the phone, it will be sent when there is a signal."),
        "waiting": _("Waiting for a signal"),
        "needs_fixing": _("Needs correcting"),
        "login_again": _("Log in again to send what waits on this phone."),
        "wrong_password": _("That is not your password."),
        "last_try": _("One more wrong password deletes the %(n)s unsent items on this phone.", n="%(n)s"),
        "wiped": _("Too many wrong passwords: what this phone kept is deleted."),
        "logout_unsent": _("%(n)s items recorded on this phone are not sent yet; logging out deletes them. "
                           "Log out anyway?", n="%(n)s"),
        "locked": _("Unlock what this phone keeps with your password first."),
        "n_errors": _("%(n)s fields need fixing.", n="%(n)s"),
        "check_warnings": _("Check the notes below, then save again."),
        "fix_intro": _("The server did not accept this complaint; correct it and save again."),
        "channel": _("Choose how the complaint came in."),
        "reporter": _("Enter the reporter's name, or mark the report anonymous."),
        "child_name": _("Enter the child's name."),
        "sex": _("Choose girl or boy."),
        "birth": _("Give the birth date, or an estimated age."),
        "birth_future": _("The birth date is after the complaint was received."),
        "age": _("A child's age is 0 to 17 years."),
        "village": _("Choose the child's village or kelurahan."),
        "concerns": _("Choose at least one concern."),
        "description": _("Describe what happened."),
        "nik_length": str(NIK_MESSAGES["length"]),
        "nik_date": str(NIK_MESSAGES["date"]),
        "nik_sex": str(NIK_MESSAGES["sex_mismatch"]),
        "complaint": _("Complaint"),
        "children": _("Children"),
        "recorded": _("Recorded"),
        "fix": _("Correct it"),
        "delete": _("Delete"),
        "delete_confirm": _("Delete this complaint from the phone? It has not been sent."),
        "empty": _("Nothing waits on this phone."),
        "same_child": _("Is this the same child?"),
        "different_child": _("No, a different child: open a new case"),
        "say_same": _("Say whether this is the same child."),
        "note": _("Case note"),
        "visit": _("Monitoring visit"),
        "details": _("The child's details"),
        "taken_at": _("Cases taken onto this phone at %(time)s.", time="%(time)s"),
        "no_cases": _("No open cases are assigned to you."),
        "no_signal": _("No signal: the cases on this phone are those taken last."),
        "field_name": _("Child's name"),
        "field_birth_date": _("Birth date"),
        "field_nik": _("NIK (optional)"),
        "field_address": _("Address"),
        "field_caregiver_name": _("Parent or caregiver"),
        "field_caregiver_relationship": _("Relationship to the child"),
        "field_caregiver_phone": _("Caregiver's phone"),
    }
