"""What the case page shows of transfers: the open request, or the way to ask for one."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from casemgmt.access import may_request_transfer, transfer_actions
from casemgmt.transfers.models import Transfer


STATUS_LABELS = {"requested": _l("Waiting for an answer"), "accepted": _l("Accepted"),
                 "declined": _l("Declined"), "cancelled": _l("Withdrawn")}


@dataclass
class TransferPanel:
    open: Transfer | None
    may_request: bool
    may_cancel: bool


def transfer_panel(case, user, access) -> TransferPanel | None:
    """The case page's transfer section, for the coordinator of the case's district only (the
    request form itself is a page of its own: its list of every PKSAI is read when asked for)."""
    from casemgmt.transfers.services import open_transfer

    if not access.answerable or not may_request_transfer(user, case):
        return None
    pending = open_transfer(case)
    return TransferPanel(open=pending, may_request=pending is None,
                         may_cancel=pending is not None and "cancel" in transfer_actions(user, pending))
