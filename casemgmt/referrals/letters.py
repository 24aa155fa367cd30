"""The Surat Rujukan (referral letter) as a PDF: what the receiving service needs, nothing more."""
from __future__ import annotations

from flask import render_template

from casemgmt.cases.identity import age_on, initials
from casemgmt.dbtypes import utcnow
from casemgmt.pdf import html_to_pdf
from casemgmt.referrals.disclosure import fields_for


def child_view(case, referral, access) -> dict:
    """The child as the referral discloses it: the service's fields only."""
    child = case.child
    allowed = set(fields_for(referral.service))
    full = access.identity or access.details or access.referral_fields
    view = {"name": child.name if full else initials(child.name), "sex": child.sex}
    if "birth_date" in allowed and child.birth_date:
        view["birth_date"] = child.birth_date
        view["birth_date_estimated"] = child.birth_date_estimated
        view["age"] = age_on(child.birth_date, utcnow().date())
    if "area" in allowed:
        view["area"] = child.area.display_name
    if "nik" in allowed and child.nik:
        view["nik"] = child.nik
    if "address" in allowed and child.address:
        view["address"] = child.address
    if "caregiver" in allowed and child.caregiver_name:
        view["caregiver"] = child.caregiver_name + (f" ({child.caregiver_relationship})"
                                                    if child.caregiver_relationship else "")
    return view


def referral_letter(referral, case, access, viewer) -> bytes:
    from casemgmt.audit import services as audit
    from casemgmt.extensions import db

    html = render_template("pdf/referral_letter.html", referral=referral, case=case,
                           child=child_view(case, referral, access), today=utcnow())
    pdf = html_to_pdf(html)[0]
    audit.log_access(viewer, "download_letter", "referral", referral.id, case_id=case.id)
    db.session.flush()
    return pdf
