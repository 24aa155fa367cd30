"""Measure the birth-certificate coverage section of the coordinator's and analyst's home.

    python bench/home_coverage.py [--iterations 200]

A fresh SQLite database gets the counts an import writes (population_count) for five districts
of province 73, every village with its 8 sex/age rows (0 to 300 children, up to 40 without a
certificate) and its 5 rule rows, made from a seed. population.services.home_coverage is then
timed for the coordinator of 73.06 (by kecamatan, one statement) and the province's analyst (by
district, protected as the indicators page is); p50 and p95 in ms, with the load average, since
this machine is shared. Nothing of the extract's people is read, so their number does not enter.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTRICTS = ("73.71", "73.06", "73.09", "73.02", "73.72")
RULES = ("no_birth_certificate", "female_headed_household", "child_marriage", "no_parent_in_household",
         "out_of_school")


class Viewer:
    """What home_coverage reads of a user: the role and the area."""

    def __init__(self, role: str, area_code: str):
        self.role, self.area_code, self.active, self.is_authenticated = role, area_code, True, True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="home-coverage-")
    os.environ["CASEMGMT_INSTANCE_PATH"] = tmp
    from sqlalchemy import insert, select

    from casemgmt import create_app
    from casemgmt.directory.models import Area
    from casemgmt.directory.services import load_areas
    from casemgmt.extensions import db
    from casemgmt.population import services
    from casemgmt.population.models import PopulationCount, PopulationCurrent, PopulationImport

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                      "SERVER_NAME": None})
    with app.app_context():
        db.create_all()
        load_areas("73")
        rng = random.Random(26)
        rows = []
        for district in DISTRICTS:
            job = PopulationImport(district_code=district, status="done", extract_date=date.today(), errors=[])
            db.session.add(job)
            db.session.flush()
            db.session.add(PopulationCurrent(district_code=district, import_id=job.id))
            for village in db.session.scalars(select(Area.code).where(Area.level == "village",
                                                                      Area.code.startswith(district + "."))):
                for sex in "MF":
                    for group in ("0-4", "5-9", "10-14", "15-17"):
                        n = rng.randint(0, 300)
                        rows.append({"import_id": job.id, "area_code": village, "sex": sex, "age_group": group,
                                     "n": n, "with_certificate": n - rng.randint(0, min(n, 40))})
                for rule in RULES:
                    rows.append({"import_id": job.id, "area_code": village, "rule": rule, "n": rng.randint(0, 60),
                                 "with_certificate": 0})
        db.session.execute(insert(PopulationCount), rows)
        db.session.commit()
        print(f"population_count rows: {len(rows)}")
        for label, viewer in (("coordinator 73.06, by kecamatan", Viewer("coordinator", "73.06")),
                              ("analyst 73, by district", Viewer("analyst", "73"))):
            with app.test_request_context():
                times = []
                for _ in range(args.iterations):
                    start = time.perf_counter()
                    services.home_coverage(viewer)
                    times.append((time.perf_counter() - start) * 1000)
                    db.session.rollback()
            times.sort()
            print(f"{label}: p50 {times[len(times) // 2]:.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
