"""The one place that answers "may this user do X" and scopes queries to what a user may see.

Pages, API, PDFs, exports and attachments all ask here. A permission is a plain string;
roles grant sets of them. Record-level scope (which cases a user sees) is answered by the
``scope_*`` functions, so a view never filters by hand.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from casemgmt.codes import ROLES

# What each role may do. The admin manages accounts and the directory but sees no case
# contents; the analyst sees aggregates only.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "village_worker": frozenset({"directory.view"}),
    "social_worker": frozenset({"directory.view"}),
    "coordinator": frozenset({"directory.view"}),
    "agency_officer": frozenset({"directory.view"}),
    "analyst": frozenset({"directory.view"}),
    "admin": frozenset({"directory.view", "users.manage", "organisations.manage"}),
}

assert set(ROLE_PERMISSIONS) == set(ROLES), "every role needs a permission set"

ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def can(user, permission: str) -> bool:
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def requires(permission: str):
    """View decorator: log in first, then 403 without the permission."""
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def area_contains(outer: str | None, inner: str | None) -> bool:
    """Whether region ``inner`` lies within (or is) region ``outer``: 73.06 contains 73.06.01.2006."""
    if not outer or not inner:
        return False
    return inner == outer or inner.startswith(outer + ".")
