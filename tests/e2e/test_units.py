"""The systemd units of deploy/systemd as an operator installs them: systemd-analyze accepts
them, and what they start behaves as each unit tells systemd it will. The app server's unit is
Type=notify: gunicorn must send READY=1 on $NOTIFY_SOCKET or systemd kills it at start-up; the
worker's unit stops with SIGINT so that huey finishes the jobs it is running."""
from __future__ import annotations

import getpass
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.e2e.stack import BIN, ROOT, free_port, which

UNITS = ROOT / "deploy" / "systemd"


def installed(unit: Path, into: Path, name: str | None = None) -> Path:
    """The unit as installed on this machine: /srv/casemgmt is this checkout and its virtualenv,
    the service user the one running the tests, the environment file the example."""
    text = unit.read_text()
    text = text.replace("/srv/casemgmt/.venv/bin", str(BIN)).replace("/srv/casemgmt", str(ROOT))
    text = text.replace("/etc/casemgmt/casemgmt.env", str(ROOT / "deploy" / "casemgmt.env.example"))
    text = re.sub(r"^(User|Group)=casemgmt$", lambda m: f"{m.group(1)}={getpass.getuser()}", text, flags=re.M)
    path = into / (name or unit.name)
    path.write_text(text)
    return path


def directives(unit: Path, instance: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value.replace("%i", instance))
    return found


def unit_env(found: dict[str, list[str]], **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEMGMT_", "FLASK_", "NOTIFY_"))}
    for assignment in found.get("Environment", []):
        key, value = assignment.split("=", 1)
        env[key] = value
    env.update(extra)
    return env


def catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler of its own for the signal (/proc: SigCgt)."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(mask & (1 << (signum - 1)))


def test_systemd_analyze_accepts_the_units(tmp_path):
    app = installed(UNITS / "casemgmt-app@.service", tmp_path, "casemgmt-app@8001.service")
    worker = installed(UNITS / "casemgmt-worker.service", tmp_path)
    done = subprocess.run([which("systemd-analyze"), "verify", str(app), str(worker)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # Each names the program it starts and the program exists where the unit says.
    for unit in (app, worker):
        program = shlex.split(directives(unit)["ExecStart"][0])[0]
        assert os.access(program, os.X_OK), program


def _migrated_sqlite(tmp_path) -> dict:
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {"CASEMGMT_DATABASE_URL": f"sqlite:///{tmp_path / 'casemgmt.db'}", "CASEMGMT_INSTANCE_PATH": str(instance),
           "CASEMGMT_SECRET_KEY": "x" * 40, "PYTHONPATH": str(ROOT), "FLASK_APP": "casemgmt"}
    done = subprocess.run([str(BIN / "flask"), "db", "upgrade"], env={**unit_env({}), **env}, cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return env


def test_the_app_server_tells_systemd_it_is_ready_and_stops_on_sigterm(tmp_path):
    unit = installed(UNITS / "casemgmt-app@.service", tmp_path)
    port = free_port()
    found = directives(unit, str(port))
    assert found["Type"] == ["notify"]
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(1)
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = unit_env(found, **_migrated_sqlite(tmp_path), NOTIFY_SOCKET=str(notify), CASEMGMT_ENV="production",
                   PROMETHEUS_MULTIPROC_DIR=str(runtime), CASEMGMT_WORKERS="1")
    server = subprocess.Popen(shlex.split(found["ExecStart"][0]), cwd=found["WorkingDirectory"][0], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        said, deadline = b"", time.monotonic() + 60
        while b"READY=1" not in said and time.monotonic() < deadline and server.poll() is None:
            try:
                said += listener.recv(4096)
            except socket.timeout:
                continue
        assert b"READY=1" in said, (said, server.poll())
        # KillMode=mixed sends SIGTERM to the main process: gunicorn stops its workers and exits
        # well inside TimeoutStopSec.
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=int(found["TimeoutStopSec"][0])) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        listener.close()


def test_the_worker_stops_on_its_kill_signal_when_idle(tmp_path):
    unit = installed(UNITS / "casemgmt-worker.service", tmp_path)
    found = directives(unit)
    assert found["KillSignal"] == ["SIGINT"]
    env = unit_env(found, **_migrated_sqlite(tmp_path))
    worker = subprocess.Popen(shlex.split(found["ExecStart"][0]), cwd=found["WorkingDirectory"][0], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend(iter(worker.stdout.readline, b"")), daemon=True)
    reader.start()
    try:
        # Ready for its stop signal once it handles SIGTERM, which huey sets with SIGINT's after
        # starting its threads (Python itself handles only SIGINT at start-up).
        deadline = time.monotonic() + 60
        while not catches(worker.pid, signal.SIGTERM) and time.monotonic() < deadline:
            assert worker.poll() is None, b"".join(output).decode(errors="replace")[-2000:]
            time.sleep(0.1)
        assert catches(worker.pid, signal.SIGTERM), b"".join(output).decode(errors="replace")[-2000:]
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=int(found["TimeoutStopSec"][0])) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
