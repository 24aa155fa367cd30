"""The admin commands for deployment scripts."""
from __future__ import annotations

from sqlalchemy import func, select

from casemgmt.accounts.models import User
from casemgmt.directory.models import Area
from casemgmt.directory.services import find_organisation
from casemgmt.extensions import db


def test_areas_load_is_repeatable(runner):
    result = runner.invoke(args=["areas", "load"])
    assert result.exit_code == 0, result.output
    assert "3397 read, 0 added" in result.output  # province 73 is loaded by the fixture
    assert db.session.scalar(select(func.count()).select_from(Area)) == 3397


def test_areas_load_another_province_and_bad_input(runner):
    result = runner.invoke(args=["areas", "load", "--province", "76"])
    assert result.exit_code == 0 and "added" in result.output
    assert db.session.get(Area, "76").name == "Sulawesi Barat"
    assert runner.invoke(args=["areas", "load", "--province", "7"]).exit_code != 0
    result = runner.invoke(args=["areas", "load", "--province", "00"])
    assert result.exit_code != 0 and "00" in result.output
    # Keep the shared test database as the fixture made it.
    db.session.execute(Area.__table__.delete().where(Area.code.like("76%")))
    db.session.commit()


def test_organisations_create(runner):
    result = runner.invoke(args=["organisations", "create", "--name", "UPT PPA Kabupaten Gowa", "--kind", "upt_ppa",
                                 "--area", "73.06", "--services", "psychosocial,legal_aid",
                                 "--covers", "73.06,73.09"])
    assert result.exit_code == 0, result.output
    assert "UPT PPA Kabupaten Gowa" in result.output
    org = find_organisation("UPT PPA Kabupaten Gowa")
    assert org.services == ["legal_aid", "psychosocial"] and org.covered_area_codes == ["73.06", "73.09"]


def test_organisations_create_refuses_bad_input_with_a_message(runner):
    result = runner.invoke(args=["organisations", "create", "--name", "X", "--kind", "upt_ppa", "--area", "73.06",
                                 "--services", "flying"])
    assert result.exit_code != 0 and "flying" in result.output
    result = runner.invoke(args=["organisations", "create", "--name", "X", "--kind", "bank", "--area", "73.06"])
    assert result.exit_code != 0 and "bank" in result.output
    result = runner.invoke(args=["organisations", "create", "--name", "X", "--kind", "ngo", "--area", "99.01"])
    assert result.exit_code != 0 and "area_code" in result.output
    assert find_organisation("X") is None


def test_users_create(runner, org):
    result = runner.invoke(args=["users", "create", "--username", "Peksos.Baru", "--password", "Mulai-Tugas-2026",
                                 "--full-name", "Peksos Baru", "--sex", "F", "--role", "social_worker",
                                 "--organisation", "PKSAI Kabupaten Gowa"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "peksos.baru"))
    assert user.organisation_id == org.id and user.area_code == "73.06"


def test_users_create_refuses_bad_input(runner, org):
    base = ["users", "create", "--username", "baru", "--full-name", "Baru", "--sex", "F", "--role", "coordinator"]
    result = runner.invoke(args=[*base, "--password", "password123", "--organisation", "PKSAI Kabupaten Gowa"])
    assert result.exit_code != 0 and "password" in result.output
    result = runner.invoke(args=[*base, "--password", "Mulai-Tugas-2026", "--organisation", "Tidak Ada"])
    assert result.exit_code != 0 and "Tidak Ada" in result.output
    result = runner.invoke(args=[*base, "--password", "Mulai-Tugas-2026"])
    assert result.exit_code != 0 and "organisation" in result.output
    assert db.session.scalar(select(User).where(User.username == "baru")) is None


def test_commands_document_their_options(runner):
    for args, words in ((["areas", "load", "--help"], ["--province", "--all"]),
                        (["organisations", "create", "--help"], ["--name", "--kind", "--area", "--services", "--covers"]),
                        (["users", "create", "--help"], ["--username", "--password", "--full-name", "--sex", "--role",
                                                         "--organisation"]),
                        (["demo", "load", "--help"], ["--if-empty"])):
        result = runner.invoke(args=args)
        assert result.exit_code == 0
        for word in words:
            assert word in result.output, (args, word)


def test_demo_load_creates_every_role_and_is_repeatable(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Demo-Sulsel-2026" in result.output and "koordinator.gowa" in result.output
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"village_worker", "social_worker", "coordinator", "agency_officer", "analyst", "admin"}
    for name in ("PKSAI Kabupaten Gowa", "Dinas Sosial Kabupaten Maros", "UPT PPA Kabupaten Gowa",
                 "Dukcapil Kabupaten Maros", "Puskesmas Bontonompo", "SMP Negeri 1 Mandai", "Unit PPA Polres Gowa",
                 "Puskesos Barembeng", "Puskesos Panakkukang", "PATBM Baji Mangngai", "PKSAI Kota Makassar",
                 "PKSAI Kabupaten Bulukumba", "PKSAI Kota Parepare"):
        assert find_organisation(name) is not None, name
    assert find_organisation("Puskesos Barembeng").area_code == "73.06.01.2006"
    from casemgmt.cases.models import Case

    stages = sorted(db.session.scalars(select(Case.stage)))
    assert stages == ["assessment", "intervention", "intervention_plan", "report", "report"]
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "0 organisations, 0 users and 0 cases added" in again.output
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "not loaded" in skipped.output


def test_demo_data_is_refused_in_production(app, runner):
    app.config["DEMO_DATA_ALLOWED"] = False
    try:
        result = runner.invoke(args=["demo", "load"])
    finally:
        app.config["DEMO_DATA_ALLOWED"] = True
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
