"""Measure a SIAK extract's import and the outreach list and coverage table read after it.

    python tools/siak_extract.py /work/bench-data/population/gowa-1m.csv --rows 1000000 --seed 26
    python bench/population.py /work/bench-data/population/gowa-1m.csv [--database PATH] [--iterations 100]

The import runs in a child process on a fresh SQLite database (the tables made, the region codes
of province 73 loaded), so its peak memory (ru_maxrss of the child) is the import's alone, the
app's own included. Then the outreach list of the village with the most rows (a coordinator's
first page, 50 rows) and the district's coverage table (by kecamatan, sex, age group) are read
repeatedly in-process; p50 and p95 in ms. Results are appended to bench/RESULTS.md with the
load average, since this machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1)]


def app_for(database: Path):
    os.environ.setdefault("CASEMGMT_INSTANCE_PATH", str(database.parent / "instance"))
    from casemgmt import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "CHECK_SERVICES": False})


def prepare(database: Path) -> None:
    from casemgmt.directory.services import load_areas
    from casemgmt.extensions import db

    app = app_for(database)
    with app.app_context():
        db.create_all()
        load_areas("73")
        db.session.commit()


def child_import(database: Path, path: Path, district: str) -> None:
    from casemgmt.extensions import db
    from casemgmt.population.runs import import_file

    app = app_for(database)
    with app.app_context():
        started = time.perf_counter()
        job = import_file(None, path, district, as_admin=True)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": round(seconds, 1), "status": job.status, "rows": job.rows,
                          "accepted": job.accepted, "rejected": job.rejected, "message": job.message,
                          "outreach": db.session.execute(db.text("SELECT count(*) FROM outreach_item")).scalar(),
                          "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


def reads(database: Path, district: str, iterations: int) -> dict:
    from sqlalchemy import func, select

    from casemgmt.accounts.models import User
    from casemgmt.extensions import db
    from casemgmt.population import services
    from casemgmt.population.models import OutreachItem

    app = app_for(database)
    out = {}
    with app.app_context():
        village = db.session.execute(select(OutreachItem.area_code, func.count()).group_by(OutreachItem.area_code)
                                     .order_by(func.count().desc()).limit(1)).first()
        coordinator = User(id=1, username="bench", full_name="Bench", role="coordinator", area_code=district,
                           active=True, sex="F", password_hash="x", version=1)
        from unittest import mock

        with mock.patch("casemgmt.audit.services.log_access"):  # the bench measures the reads
            timings = {"village outreach list (50 rows)": [], "district coverage table": []}
            for _ in range(iterations):
                started = time.perf_counter()
                rows, _cursor = services.outreach_page(coordinator, services.OutreachFilters(area_code=village[0]), 50)
                timings["village outreach list (50 rows)"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                services.coverage(district, False)
                timings["district coverage table"].append((time.perf_counter() - started) * 1000)
                db.session.rollback()
        for name, values in timings.items():
            out[name] = {"p50": round(statistics.median(values), 1), "p95": round(pct(values, 95), 1)}
        out["village"] = f"{village[0]} ({village[1]} outreach rows)"
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("extract", type=Path)
    parser.add_argument("--district", default="73.06")
    parser.add_argument("--database", type=Path, default=None)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reads-only", action="store_true",
                        help="measure the reads on --database, imported by an earlier run")
    args = parser.parse_args()
    if args.child:
        child_import(args.database, args.extract, args.district)
        return
    if args.reads_only:
        print(json.dumps(reads(args.database, args.district, args.iterations), indent=1))
        print("load average", os.getloadavg())
        return
    scratch = Path(tempfile.mkdtemp(prefix="population-bench-", dir="/work/bench-data"))
    database = args.database or scratch / "population.db"
    prepare(database)
    load_before = os.getloadavg()
    result = subprocess.run([sys.executable, __file__, str(args.extract), "--district", args.district,
                             "--database", str(database), "--child"], capture_output=True, text=True, check=True)
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    print(imported, flush=True)
    load_after = os.getloadavg()
    read = reads(database, args.district, args.iterations)
    report = (f"\n## Population extract (issue 26), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
              f"{args.extract.name}: {imported['rows']} rows, {imported['accepted']} accepted, "
              f"{imported['rejected']} rejected, {imported['outreach']} outreach rows; SQLite.\n\n"
              f"| what | figure | target |\n|---|---|---|\n"
              f"| import | {imported['seconds']} s | ≤ 120 s |\n"
              f"| import peak memory (whole process) | {imported['max_rss_mb']} MB | ≤ 300 MB |\n"
              + "".join(f"| {name} p50 / p95 | {v['p50']} / {v['p95']} ms | p95 ≤ 50 ms |\n"
                        for name, v in read.items() if isinstance(v, dict))
              + f"\nVillage listed: {read['village']}. Load average before / after the import: "
              f"{' '.join(f'{x:.2f}' for x in load_before)} / {' '.join(f'{x:.2f}' for x in load_after)} "
              f"(2 cores shared with other work).\n")
    print(report)
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
