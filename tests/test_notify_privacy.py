"""Privacy by construction: every kind of notification, made by the real events for a case
whose child has a distinctive name, address and concern, rendered in both languages on every
channel format, carries none of the child's fields (DOMAIN.md, "Notifications")."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from flask_babel import force_locale
from sqlalchemy import select

from casemgmt.cases.intake import register_complaint
from casemgmt.conferences import services as conferences
from casemgmt.conferences.models import Task
from casemgmt.extensions import db
from casemgmt.notify import events
from casemgmt.notify.messages import digest_message, in_app_text, message_for
from casemgmt.notify.models import KINDS, Notification
from casemgmt.referrals import services as referrals
from casemgmt.transactions import commit
from casemgmt.workflow import services as workflow
from casemgmt.workflow.models import Approval
from tests.factories import child_input, complaint_input

NAME, CAREGIVER = "Zulaikha Mappanyukki", "Hasnawati Tompobulu"
ADDRESS = "Lorong Kenanga Ungu 77, RT 09"
CONCERN = "dipukul ayah tirinya setiap malam"
CHILD_FIELDS = [NAME, *NAME.split(), CAREGIVER, *CAREGIVER.split(), ADDRESS, "Kenanga Ungu", CONCERN,
                "ayah tirinya", "7306010903140001"]


def test_no_message_of_any_kind_carries_the_childs_fields(users):
    village, coordinator, worker = users["village_worker"], users["coordinator"], users["social_worker"]
    officer = users["agency_officer"]
    raw = complaint_input([child_input(name=NAME, address=ADDRESS, caregiver_name=CAREGIVER, nik=None)],
                          description=f"{NAME} {CONCERN}, kata tetangga di {ADDRESS}.")
    case = register_complaint(raw, village, {0: "new"}).cases[0]
    commit()
    # Free text typed about the child goes into every operation that takes some.
    said = f"{NAME} di {ADDRESS}: {CONCERN}"
    workflow.apply_transition(case, "accept", coordinator, {"risk_level": "high", "assigned_worker_id": worker.id,
                                                            "comment": said})
    referral = referrals.make_referral(case, worker, to_organisation_id=officer.organisation_id,
                                       service="birth_certificate", reason=said, urgency="urgent",
                                       consent={"given_by": "caregiver", "recorded_on": date.today()})
    referrals.decline(referral, officer, reason=said)
    now = datetime.now(timezone.utc)
    approval = Approval(case_id=case.id, transition="terminate", comment=said, requested_by_id=worker.id,
                        requested_at=now, data={"reason": said})
    db.session.add(approval)
    db.session.flush()
    events.approval_requested(approval, case, worker, now)
    approval.status, approval.decision_comment = "rejected", said
    events.approval_decided(approval, case, coordinator, now)
    conf = conferences.schedule(coordinator, title=f"Konferensi {NAME}", location=ADDRESS,
                                scheduled_at=now + timedelta(days=2), area_code="73.06", case_ids=[case.id],
                                organisation_ids=[officer.organisation_id])
    task = Task(conference_id=conf.id, case_id=case.id, description=said, owner_organisation_id=officer.organisation_id,
                due_date=date.today() + timedelta(days=7), status="open", created_at=now)
    db.session.add(task)
    db.session.flush()
    events.task_assigned(task, case, coordinator, now)
    events.deadline_due_soon(case, [worker.id], now)
    events.deadline_overdue(case, [worker.id, coordinator.id], now)
    events.referral_due_soon(referral, case, now)
    events.referral_overdue(referral, case, [coordinator.id], now)
    events.complaint_status(case, "dismissed", coordinator, now)
    events.complaint_status(case, "closed", worker, now + timedelta(seconds=1))
    events.transfer_requested(case, [coordinator.id], "1", now + timedelta(days=3), now)
    events.outreach_assigned([village.id], "73.06.01.2006:1", 12, "/cases", now)
    events.outreach_letter(officer.organisation_id, 1, "AKTA/7306/2026/00001", village, now)
    events.caseload_reassigned([case, case], worker.id, officer.id, coordinator, now)
    events.caseload_reassigned([case], officer.id, worker.id, coordinator, now + timedelta(seconds=1))
    commit()

    notifications = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    assert {n.kind for n in notifications} == set(KINDS)
    outputs = []
    for n in notifications:
        outputs.append(("data", n.kind, json.dumps(n.data, ensure_ascii=False) + (n.link or "") + n.event_key))
        for language in ("id", "en"):
            message = message_for(n, language)
            outputs += [(language, n.kind, part) for part in (message.subject, message.text, message.html,
                                                               message.link, *(message.headers or {}).values())]
            outputs.append((language, n.kind, in_app_text(n, language)))
    for language in ("id", "en"):
        digest = digest_message(notifications, language)
        outputs += [(language, "digest", part) for part in (digest.subject, digest.text, digest.html)]
    found = [(where, kind, field) for where, kind, text in outputs for field in CHILD_FIELDS
             if field.lower() in text.lower()]
    assert found == []
    # The texts say something: the case number, and differ by language.
    assigned = next(n for n in notifications if n.kind == "case_assigned")
    with force_locale("en"):
        assert case.number in message_for(assigned, "en").text
    assert message_for(assigned, "en").subject != message_for(assigned, "id").subject
