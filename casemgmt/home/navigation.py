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
    # In the bar at the top of every page; False: only among the home page's entries (work done
    # a few times a year, so the bar keeps to daily work and fits a laptop's width).
    bar: bool = True


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("home.tasks", _l("My tasks"), "tasks.view",
            _l("Deadlines, referrals to answer, approvals and conference actions, overdue first.")),
    NavItem("cases.new_complaint", _l("Register a complaint"), "cases.register",
            _l("A child at risk: record the complaint in two minutes.")),
    NavItem("cases.my_complaints", _l("My complaints"), "complaints.mine",
            _l("What became of the complaints you registered.")),
    NavItem("cases.index", _l("Cases"), "cases.list",
            _l("Find any case in your scope: filters and search.")),
    NavItem("workflow.triage", _l("Triage"), "triage.view",
            _l("New complaints, urgent first; overdue cases by stage and by worker.")),
    NavItem("workflow.approvals", _l("Approvals"), "approvals.view",
            _l("Plans and closures waiting for a decision.")),
    NavItem("referrals.index", _l("Referrals"), "referrals.box",
            _l("Referrals to and from your organisation, overdue ones first.")),
    NavItem("conferences.index", _l("Case conferences"), "conferences.view",
            _l("Scheduled and past conferences, their agenda and minutes.")),
    NavItem("population.outreach", _l("Outreach"), "outreach.view",
            _l("Children the population extract lists for a visit, by village and rule.")),
    NavItem("population.imports_page", _l("Population data"), "population.import",
            _l("Load the district's SIAK extract from Dukcapil."), bar=False),
    NavItem("reports.indicators_page", _l("Indicators"), "indicators.view",
            _l("The district's figures for a period, and the quarterly PKSAI report.")),
    NavItem("directory.organisations", _l("Service directory"), "directory.view",
            _l("Organisations, the services they offer and the areas they cover.")),
    NavItem("accounts.users", _l("Users"), "users.manage",
            _l("Create accounts, reset passwords, disable users.")),
    NavItem("workflow.deadlines", _l("Deadlines"), "deadlines.manage",
            _l("The SOP's deadlines for each kabupaten/kota.")),
    NavItem("directory.district_settings_page", _l("District settings"), "districts.settings",
            _l("The daily digest's time, the caseload threshold, how long population data is kept."), bar=False),
    NavItem("notify.delivery_log", _l("Deliveries"), "notifications.log",
            _l("The notifications sent by e-mail and other channels: sent, failed and why.")),
)


def items_for(user) -> list[NavItem]:
    return [item for item in NAVIGATION if can(user, item.permission)]
