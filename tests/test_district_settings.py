from datetime import time

from casemgmt.directory.models import DistrictSettings
from casemgmt.directory.services import district_of, district_settings
from casemgmt.extensions import db


def test_district_of():
    assert district_of("73.06.01.2006") == "73.06"
    assert district_of("73.06") == "73.06"
    assert district_of("73") is None
    assert district_of(None) is None


def test_defaults_without_a_row(app):
    s = district_settings("73.06.01.2006")
    assert (s.digest_time, s.caseload_threshold, s.population_retention_days) == (time(7, 0), 25, 180)
    assert s not in db.session


def test_a_district_setting_is_read_from_any_area_within(app):
    db.session.add(DistrictSettings(area_code="73.06", caseload_threshold=30,
                                    digest_time=time(6, 30), population_retention_days=90))
    db.session.flush()
    s = district_settings("73.06.01.2006")
    assert (s.caseload_threshold, s.digest_time) == (30, time(6, 30))
    assert district_settings("73.71.01").caseload_threshold == 25


def test_a_coordinator_sets_their_districts_values_and_the_outbox_reads_them(make_web, users):
    from casemgmt.audit.models import AuditEntry
    from casemgmt.notify.outbox import _digest_time

    web = make_web()
    web.login("koordinator")
    page = web.get("/directory/districts/settings")
    assert page.status_code == 200 and "Pengaturan kabupaten/kota: Kabupaten Gowa" in page.get_data(as_text=True)
    saved = web.post("/directory/districts/settings", {"digest_time": "06:30", "caseload_threshold": "30",
                                                       "population_retention_days": "90", "version": "0"})
    assert saved.status_code == 302
    db.session.expire_all()
    row = db.session.get(DistrictSettings, "73.06")
    assert (row.digest_time, row.caseload_threshold, row.population_retention_days) == (time(6, 30), 30, 90)
    assert _digest_time(users["social_worker"]) == time(6, 30)
    entry = db.session.query(AuditEntry).filter_by(action="district_settings_changed").one()
    assert entry.after == {"digest_time": "06:30:00", "caseload_threshold": "30", "population_retention_days": "90"}
    # Opened before that save: refused, not overwritten.
    stale = web.post("/directory/districts/settings", {"digest_time": "08:00", "caseload_threshold": "20",
                                                       "population_retention_days": "90", "version": "0"})
    assert stale.status_code == 409 and db.session.get(DistrictSettings, "73.06").caseload_threshold == 30


def test_bad_values_are_explained_and_nothing_is_saved(make_web, users):
    web = make_web()
    web.login("koordinator")
    page = web.post("/directory/districts/settings", {"digest_time": "06:00", "caseload_threshold": "0",
                                                      "population_retention_days": "99999", "version": "0"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "Bilangan bulat dari 1 sampai 200." in text
    assert "Bilangan bulat dari 1 sampai 3650." in text
    page = web.post("/directory/districts/settings", {"digest_time": "25:99", "caseload_threshold": "25",
                                                      "population_retention_days": "180", "version": "0"})
    assert page.status_code == 422 and "Waktu tidak valid." in page.get_data(as_text=True)
    assert db.session.get(DistrictSettings, "73.06") is None


def test_only_the_districts_coordinator_or_an_administrator(users):
    from casemgmt.directory.services import save_district_settings
    from casemgmt.errors import Forbidden
    import pytest

    values = {"digest_time": time(7, 0), "caseload_threshold": 25, "population_retention_days": 180}
    for who, district in (("coordinator", "73.09"), ("social_worker", "73.06"), ("village_worker", "73.06")):
        with pytest.raises(Forbidden):
            save_district_settings(users[who], district, values, 0)
    assert save_district_settings(users["admin"], "73.09", values, 0).area_code == "73.09"
