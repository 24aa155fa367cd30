"""The production configuration of deploy/, started on loopback for one test run: a throwaway
PostgreSQL (tools/pg-throwaway.sh), Debian's redis-server, two gunicorn app servers with
deploy/gunicorn.conf.py, two huey consumers, and Debian's nginx with deploy/nginx/casemgmt.conf
in front (its ports and paths replaced, TLS with a certificate made for the run). Everything is
stopped and removed by ``stop``, which the fixture calls however the tests end."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
PASSWORD = "Demo-Sulsel-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def which(name: str, *more: str) -> str:
    found = shutil.which(name) or next((p for p in more if os.path.exists(p)), None)
    if found is None:
        raise RuntimeError(f"{name} is not installed (tools/system-deps.sh installs it)")
    return found


class Stack:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="casemgmt-e2e-"))
        self.tmp.chmod(0o755)  # nginx's workers run as another user
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.pg_dir: str | None = None
        self.ports = {name: free_port() for name in ("nginx", "app_a", "app_b", "redis")}
        self.url = f"https://127.0.0.1:{self.ports['nginx']}"
        self.cert = self.tmp / "cert.pem"
        self.timings: dict[str, float] = {}
        self.extra_env: dict[str, str] = {}  # for every service (bench/deploy.py)

    # ---- processes -------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        handle = open(log, "ab")
        proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)  # its own process group, killed as one
        handle.close()
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def log_text(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    # ---- the services ------------------------------------------------------------------------

    def env(self, name: str, **extra) -> dict:
        instance = self.tmp / f"instance-{name}"  # each its own: nothing shared through a disk
        instance.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEMGMT_", "FLASK_"))}
        env.update({
            "PYTHONPATH": str(ROOT),
            "FLASK_APP": "casemgmt",
            "CASEMGMT_ENV": "production",
            "CASEMGMT_DATABASE_URL": self.database_url,
            "CASEMGMT_SECRET_KEY": self.secret_key,
            "CASEMGMT_RATELIMIT_STORAGE_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "CASEMGMT_HUEY_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/1",
            "CASEMGMT_PROXY_FIX": "1",
            "CASEMGMT_APP_GZIP": "0",
            "CASEMGMT_INSTANCE_PATH": str(instance),
            "CASEMGMT_LOGIN_RATE_LIMIT": "8 per minute",
            "CASEMGMT_EXPORT_BACKGROUND_OVER": "0",  # every export goes to the worker
            "CASEMGMT_WORKERS": "1",  # a process per server (with its threads) is enough here
        })
        env.update(self.extra_env)
        env.update(extra)
        return env

    def start_postgresql(self) -> None:
        out = subprocess.run(["bash", str(ROOT / "tools/pg-throwaway.sh")], capture_output=True, text=True,
                             check=True).stdout
        self.pg_dir = re.search(r"^DIR=(.*)$", out, re.M).group(1)
        self.database_url = re.search(r"^URL=(.*)$", out, re.M).group(1)

    def pg_ctl(self, action: str) -> None:
        """Stop or start the throwaway cluster where it is (its port and data kept)."""
        pg_ctl = which("pg_ctl", *sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True))
        port = self.database_url.rsplit(":", 1)[1].split("/")[0]
        args = [pg_ctl, "-D", f"{self.pg_dir}/data", "-l", f"{self.pg_dir}/server.log", "-w", "-t", "60"]
        if action == "start":
            args += ["-o", f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={self.pg_dir} "
                           "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"]
        args += ["-m", "fast", "stop"] if action == "stop" else ["start"]
        if os.getuid() == 0:
            args = ["runuser", "-u", "postgres", "--"] + args
        subprocess.run(args, check=True, capture_output=True)

    def start_redis(self) -> None:
        self.spawn("redis", [which("redis-server", "/usr/bin/redis-server"), "--port", str(self.ports["redis"]),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.tmp),
                             "--protected-mode", "yes", "--daemonize", "no"])
        self.wait_for(lambda: self._redis_answers(), "redis-server", "redis")

    def _redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.ports["redis"]), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flask(self, *args: str) -> str:
        env = self.env("cli", CASEMGMT_ENV="development")  # demo data is refused in production
        done = subprocess.run([str(BIN / "flask"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start_app(self, name: str, wait: bool = True) -> None:
        port = self.ports[name]
        self.spawn(name, [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"), "wsgi:app"],
                   env=self.env(name, CASEMGMT_BIND=f"127.0.0.1:{port}"))
        if wait:
            self.wait_for_app(name)

    def wait_for_app(self, name: str) -> None:
        port = self.ports[name]
        self.wait_for(lambda: self._ready(port), f"gunicorn on {port}", name)

    def _ready(self, port: int) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, name: str, wait: bool = True) -> None:
        self.spawn(name, [str(BIN / "huey_consumer"), "casemgmt.jobs.huey", "--workers", "2",
                          "--worker-type", "thread"], env=self.env(name))
        if wait:
            self.wait_for_worker(name)

    def wait_for_worker(self, name: str) -> None:
        self.wait_for(lambda: "Huey consumer started" in self.log_text(name), "huey consumer", name)

    def start_nginx(self) -> None:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(self.tmp / "key.pem"), "-out", str(self.cert)],
                       check=True, capture_output=True)
        site = (ROOT / "deploy/nginx/casemgmt.conf").read_text()
        replacements = {
            "listen 80;": (f"listen 127.0.0.1:{self.ports['nginx']} ssl;\n    ssl_certificate {self.cert};\n"
                           f"    ssl_certificate_key {self.tmp / 'key.pem'};"),
            "127.0.0.1:8001": f"127.0.0.1:{self.ports['app_a']}",
            "127.0.0.1:8002": f"127.0.0.1:{self.ports['app_b']}",
            "/srv/casemgmt/casemgmt/static/": f"{ROOT}/casemgmt/static/",
            "/var/log/nginx/casemgmt.access.log": str(self.tmp / "nginx-access.log"),
            # Which app server answered, for the tests to see the requests alternate.
            "add_header X-Request-ID $request_id always;":
                "add_header X-Request-ID $request_id always;\n        add_header X-Upstream $upstream_addr always;",
        }
        for old, new in replacements.items():
            assert old in site, f"deploy/nginx/casemgmt.conf no longer has {old!r}"
            site = site.replace(old, new)
        (self.tmp / "casemgmt.conf").write_text(site)
        t = self.tmp
        (t / "nginx.conf").write_text(f"""
worker_processes 1;
pid {t}/nginx.pid;
error_log {t}/nginx-error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {t}/nginx-body;
    proxy_temp_path {t}/nginx-proxy;
    fastcgi_temp_path {t}/nginx-fastcgi;
    uwsgi_temp_path {t}/nginx-uwsgi;
    scgi_temp_path {t}/nginx-scgi;
    include {t}/casemgmt.conf;
}}
""")
        nginx = which("nginx", "/usr/sbin/nginx")
        subprocess.run([nginx, "-t", "-c", str(t / "nginx.conf"), "-e", str(t / "nginx-error.log")],
                       check=True, capture_output=True)
        self.spawn("nginx", [nginx, "-c", str(t / "nginx.conf"), "-e", str(t / "nginx-error.log")])
        self.logs["nginx-error"] = t / "nginx-error.log"
        self.logs["nginx-access"] = t / "nginx-access.log"
        self.wait_for(lambda: self._nginx_answers(), "nginx", "nginx")

    def _nginx_answers(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", verify=str(self.cert), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_for(self, check, what: str, name: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{what} exited ({proc.returncode}):\n{self.log_text(name)[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not come up in {seconds} s:\n{self.log_text(name)[-4000:]}")

    def start(self) -> "Stack":
        self.secret_key = secrets.token_urlsafe(48)
        steps = [("postgresql", self.start_postgresql), ("redis", self.start_redis),
                 ("migrations", lambda: self.flask("db", "upgrade")), ("demo data", lambda: self.flask("demo", "load")),
                 ("servers and workers", self._start_servers), ("nginx", self.start_nginx)]
        for what, step in steps:
            began = time.monotonic()
            step()
            self.timings[what] = round(time.monotonic() - began, 1)
        return self

    def _start_servers(self) -> None:
        """Both app servers and both workers at once (their imports take the time), then each awaited."""
        for name in ("app_a", "app_b"):
            self.start_app(name, wait=False)
        for name in ("worker_1", "worker_2"):
            self.start_worker(name, wait=False)
        for name in ("app_a", "app_b"):
            self.wait_for_app(name)
        for name in ("worker_1", "worker_2"):
            self.wait_for_worker(name)

    def stop(self) -> None:
        for name in reversed(list(self.procs)):  # the proxy first, Redis last
            self.kill(name, signal.SIGTERM if name == "nginx" else signal.SIGKILL)
        if self.pg_dir:
            subprocess.run(["bash", str(ROOT / "tools/pg-throwaway.sh"), "stop", self.pg_dir], check=False)
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "start-seconds.json").write_text(str(self.timings))
        for name, path in self.logs.items():  # kept for reading after a failure
            if path.exists():
                shutil.copy(path, ARTIFACTS / f"{name}.log")
        shutil.rmtree(self.tmp, ignore_errors=True)
