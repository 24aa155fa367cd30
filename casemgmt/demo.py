"""flask demo load: the five pilot districts of South Sulawesi with an account for every role."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from casemgmt.transactions import commit

DEMO_PASSWORD = "Demo-Sulsel-2026"

# (name, kind, seat, services, covers)
ORGANISATIONS = [
    # Kabupaten Gowa
    ("PKSAI Kabupaten Gowa", "pksai", "73.06", ["case_management"], ["73.06"]),
    ("Dinas Sosial Kabupaten Gowa", "dinas_sosial", "73.06",
     ["social_assistance", "rehabilitation", "family_support", "reintegration"], ["73.06"]),
    ("UPT PPA Kabupaten Gowa", "upt_ppa", "73.06", ["psychosocial", "legal_aid", "safe_house"], ["73.06"]),
    ("Dukcapil Kabupaten Gowa", "dukcapil", "73.06", ["birth_certificate"], ["73.06"]),
    ("Puskesmas Bontonompo", "puskesmas", "73.06.01", ["health"], ["73.06.01"]),
    ("SMP Negeri 1 Bontonompo", "school", "73.06.01", ["education"], ["73.06.01"]),
    ("Unit PPA Polres Gowa", "police", "73.06", ["police"], ["73.06"]),
    ("Puskesos Barembeng", "puskesos", "73.06.01.2006", ["family_support"], ["73.06.01.2006"]),
    ("Puskesos Panakkukang", "puskesos", "73.06.07.2008", ["family_support"], ["73.06.07.2008"]),
    # Kabupaten Maros
    ("PKSAI Kabupaten Maros", "pksai", "73.09", ["case_management"], ["73.09"]),
    ("Dinas Sosial Kabupaten Maros", "dinas_sosial", "73.09",
     ["social_assistance", "rehabilitation", "family_support", "reintegration"], ["73.09"]),
    ("UPT PPA Kabupaten Maros", "upt_ppa", "73.09", ["psychosocial", "legal_aid", "safe_house"], ["73.09"]),
    ("Dukcapil Kabupaten Maros", "dukcapil", "73.09", ["birth_certificate"], ["73.09"]),
    ("Puskesmas Mandai", "puskesmas", "73.09.01", ["health"], ["73.09.01"]),
    ("SMP Negeri 1 Mandai", "school", "73.09.01", ["education"], ["73.09.01"]),
    ("Unit PPA Polres Maros", "police", "73.09", ["police"], ["73.09"]),
    ("PATBM Baji Mangngai", "patbm", "73.09.01.2006", ["family_support"], ["73.09.01.2006"]),
    # Kota Makassar, Kabupaten Bulukumba, Kota Parepare
    ("PKSAI Kota Makassar", "pksai", "73.71", ["case_management"], ["73.71"]),
    ("Dinas Sosial Kota Makassar", "dinas_sosial", "73.71", ["social_assistance", "rehabilitation"], ["73.71"]),
    ("UPT PPA Kota Makassar", "upt_ppa", "73.71", ["psychosocial", "legal_aid", "safe_house"], ["73.71"]),
    ("Bapas Kelas I Makassar", "bapas", "73.71", ["diversion"], ["73.71", "73.06", "73.09"]),
    ("PKSAI Kabupaten Bulukumba", "pksai", "73.02", ["case_management"], ["73.02"]),
    ("Dinas Sosial Kabupaten Bulukumba", "dinas_sosial", "73.02", ["social_assistance"], ["73.02"]),
    ("PKSAI Kota Parepare", "pksai", "73.72", ["case_management"], ["73.72"]),
    ("Dinas Sosial Kota Parepare", "dinas_sosial", "73.72", ["social_assistance"], ["73.72"]),
]

# (username, full name, sex, role, organisation or None, area when not the organisation's)
USERS = [
    ("admin", "Admin Sistem", "M", "admin", None, "73"),
    ("analis.sulsel", "Nurul Hidayah", "F", "analyst", None, "73"),
    ("koordinator.gowa", "Andi Rahmawati", "F", "coordinator", "PKSAI Kabupaten Gowa", None),
    ("peksos.gowa", "Muhammad Arif", "M", "social_worker", "PKSAI Kabupaten Gowa", None),
    ("peksos2.gowa", "Sitti Aminah", "F", "social_worker", "PKSAI Kabupaten Gowa", None),
    ("puskesos.barembeng", "Daeng Baji", "F", "village_worker", "Puskesos Barembeng", None),
    ("puskesos.panakkukang", "Syamsul Bahri", "M", "village_worker", "Puskesos Panakkukang", None),
    ("dukcapil.gowa", "Hasanuddin Nur", "M", "agency_officer", "Dukcapil Kabupaten Gowa", None),
    ("sekolah.bontonompo", "Rahmatia Said", "F", "agency_officer", "SMP Negeri 1 Bontonompo", None),
    ("uptppa.gowa", "Irmawati Yusuf", "F", "agency_officer", "UPT PPA Kabupaten Gowa", None),
    ("koordinator.maros", "Abdul Karim", "M", "coordinator", "PKSAI Kabupaten Maros", None),
    ("peksos.maros", "Fatmawati Sudirman", "F", "social_worker", "PKSAI Kabupaten Maros", None),
    ("patbm.bajimangngai", "Ridwan Saleh", "M", "village_worker", "PATBM Baji Mangngai", None),
    ("koordinator.makassar", "Rini Susanti", "F", "coordinator", "PKSAI Kota Makassar", None),
    ("koordinator.bulukumba", "Ahmad Yani", "M", "coordinator", "PKSAI Kabupaten Bulukumba", None),
    ("koordinator.parepare", "Hj. Nurhayati", "F", "coordinator", "PKSAI Kota Parepare", None),
]


def load_demo() -> dict[str, int]:
    """Create what is missing of the demo district. Returns counts of what was added."""
    from casemgmt.accounts.services import create_user, find_by_username
    from casemgmt.directory.services import area_count, create_organisation, find_organisation, load_areas

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is refused when CASEMGMT_ENV=production.")
    added = {"areas": 0, "organisations": 0, "users": 0, "cases": 0}
    if area_count() == 0:
        added["areas"] = load_areas("73")["inserted"]
    for name, kind, seat, services, covers in ORGANISATIONS:
        if find_organisation(name) is None:
            create_organisation({"name": name, "kind": kind, "area_code": seat, "services": services,
                                 "covers": covers}, actor=None)
            added["organisations"] += 1
    for username, full_name, sex, role, org_name, area in USERS:
        if find_by_username(username) is None:
            org = find_organisation(org_name) if org_name else None
            create_user({"username": username, "full_name": full_name, "sex": sex, "role": role,
                         "organisation_id": org.id if org else None, "area_code": area},
                        DEMO_PASSWORD, actor=None)
            added["users"] += 1
    added["cases"] = load_demo_cases()
    return added


@click.group("demo", help="Demonstration data (refused in production).")
def demo_cli():
    pass


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@with_appcontext
def load_demo_command(if_empty: bool):
    """Load South Sulawesi's region codes (if none are loaded), the pilot districts' organisations
    and a demo user for every role; then print the log-ins."""
    from casemgmt.accounts.services import count_users

    from casemgmt.accounts.services import find_by_username

    if if_empty and count_users() > 0:
        click.echo("The database has users already; demo data not loaded.")
        if find_by_username(USERS[0][0]) is None:
            return
    else:
        added = load_demo()
        commit()
        click.echo(f"Demo data: {added['areas']} areas, {added['organisations']} organisations, "
                   f"{added['users']} users and {added['cases']} cases added.")
    click.echo(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
    for username, full_name, _sex, role, org_name, _area in USERS:
        click.echo(f"  {username:<24} {role:<15} {org_name or ''}")


# Demo cases: (registered by, child, sex, birth date, village, concerns, what happened, how far it goes)
DEMO_CASES = [
    ("puskesos.barembeng", "Nurul Aisyah", "F", "2014-03-09", "73.06.01.2006", ["no_birth_certificate", "out_of_school"],
     "Anak perempuan putus sekolah sejak kelas 4 dan belum memiliki akta kelahiran.", "report"),
    ("puskesos.barembeng", "Muhammad Rizal", "M", "2016-07-21", "73.06.01.2006", ["child_labour"],
     "Anak bekerja di penggilingan padi setiap pulang sekolah.", "assessment"),
    ("puskesos.panakkukang", "Sitti Hardianti", "F", "2010-01-15", "73.06.07.2008", ["child_marriage"],
     "Keluarga berencana menikahkan anak dengan pria dewasa bulan depan.", "intervention_plan"),
    ("puskesos.panakkukang", "Andi Baso", "M", "2012-11-02", "73.06.07.2008", ["neglect", "basic_needs"],
     "Anak sering ditinggal sendiri berhari-hari; tidak cukup makan.", "intervention"),
    ("patbm.bajimangngai", "Rahmawati", "F", "2013-05-30", "73.09.01.2006", ["out_of_school"],
     "Anak berhenti sekolah untuk mengasuh adik-adiknya.", "report"),
]


def load_demo_cases() -> int:
    """A few cases at different stages of the SOP, made through the real services."""
    from datetime import date, timedelta

    from casemgmt.access import district_of
    from casemgmt.accounts.services import find_by_username
    from casemgmt.cases.models import Case
    from casemgmt.cases.intake import register_complaint
    from casemgmt.dbtypes import utcnow
    from casemgmt.directory.services import find_organisation
    from casemgmt.extensions import db
    from casemgmt.workflow import services as workflow

    if db.session.query(Case.id).first() is not None:
        return 0
    made = 0
    for username, name, sex, born, village, concerns, what, stage in DEMO_CASES:
        worker = find_by_username(username)
        district = district_of(village)
        coordinator = find_by_username("koordinator.gowa" if district == "73.06" else "koordinator.maros")
        social = find_by_username("peksos.gowa" if district == "73.06" else "peksos.maros")
        case = register_complaint({
            "channel": "walk_in", "received_at": utcnow() - timedelta(days=10 - made),
            "reporter": {"name": "Warga", "phone": None, "relationship": "tetangga", "anonymous": False},
            "children": [{"name": name, "sex": sex, "birth_date": date.fromisoformat(born), "area_code": village,
                          "address": None, "nik": None}],
            "concerns": concerns, "description": what, "urgent": False}, worker, {0: "new"}).cases[0]
        made += 1
        if stage == "report":
            continue
        workflow.apply_transition(case, "accept", coordinator, {"risk_level": "medium",
                                                                "assigned_worker_id": social.id})
        if stage == "assessment":
            continue
        workflow.save_assessment(case, social, "medium", ["family_support", "education"], "Asesmen awal selesai.")
        workflow.apply_transition(case, "submit_assessment", social)
        if stage == "intervention_plan":
            continue
        org = find_organisation("Dinas Sosial Kabupaten Gowa")
        workflow.save_plan(case, social, [{"description": "Kebutuhan dasar anak terpenuhi", "actions": [
            {"description": "Bantuan sosial untuk keluarga", "service": "social_assistance",
             "organisation_id": org.id, "due_date": date.today() + timedelta(days=21)}]}])
        approval = workflow.apply_transition(case, "submit_plan", social).approval
        workflow.decide_approval(approval, coordinator, "approve")
    return made
