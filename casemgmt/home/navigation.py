"""The navigation as data: each entry names the permission it needs.

A role sees only the entries it may use; a feature adds its pages here.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from casemgmt.access import can


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    permission: str
    description: str = ""


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("directory.organisations", _l("Service directory"), "directory.view",
            _l("Organisations, the services they offer and the areas they cover.")),
    NavItem("accounts.users", _l("Users"), "users.manage",
            _l("Create accounts, reset passwords, disable users.")),
)


def items_for(user) -> list[NavItem]:
    return [item for item in NAVIGATION if can(user, item.permission)]
