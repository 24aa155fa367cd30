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
