"""The deployment of deploy/ under load (wrk): the case-list API through nginx to two app servers on
PostgreSQL against the same load on one app server directly, and the case list against /healthz,
in one run. Starts and stops its own services (tests/e2e/stack.py), demo data.

    python bench/deploy.py [--seconds 10] [--connections 8] [--rounds 2]

Needs Debian's wrk (apt-get install wrk) besides what tests/e2e needs."""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.stack import PASSWORD, Stack  # noqa: E402


def wrk(url: str, seconds: int, connections: int, headers: dict) -> float:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} answers were not 2xx:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", default="2", help="gunicorn processes per app server")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    stack = Stack()
    stack.extra_env = {"CASEMGMT_WORKERS": args.workers, "CASEMGMT_LOG_FORMAT": "json"}
    try:
        stack.start()
        token = requests.post(f"{stack.url}/api/v1/auth/token", json={"username": "koordinator.gowa",
                                                                      "password": PASSWORD},
                              verify=str(stack.cert), timeout=30).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        direct = f"http://127.0.0.1:{stack.ports['app_a']}"
        cases = "/api/v1/cases?limit=25"
        count = len(requests.get(direct + cases, headers=auth, timeout=30).json()["items"])
        runs = {"direct": (direct + cases, auth), "nginx": (stack.url + cases, auth),
                "healthz": (direct + "/healthz", {})}
        figures: dict[str, list[float]] = {name: [] for name in runs}
        wrk(direct + cases, 3, args.connections, auth)  # warm both the server and the database
        wrk(stack.url + cases, 3, args.connections, auth)
        for _ in range(args.rounds):
            for name, (url, headers) in runs.items():
                figures[name].append(wrk(url, args.seconds, args.connections, headers))
        median = {name: statistics.median(values) for name, values in figures.items()}
        print(f"case list: {count} cases a page (demo data), {args.connections} connections, "
              f"{args.seconds} s a run, {args.rounds} rounds, {args.workers} gunicorn processes a server")
        for name, values in figures.items():
            print(f"  {name:8} {' / '.join(f'{v:.0f}' for v in values)} req/s (median {median[name]:.0f})")
        print(f"  through nginx to two servers / one server directly: {median['nginx'] / median['direct']:.0%}")
        print(f"  case list directly / /healthz directly: {median['direct'] / median['healthz']:.0%}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
