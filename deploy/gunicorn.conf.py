"""gunicorn settings of an app server: gunicorn -c deploy/gunicorn.conf.py wsgi:app

CASEMGMT_BIND (127.0.0.1:8001) and CASEMGMT_WORKERS (two per core) say where and how many;
the systemd unit deploy/systemd/casemgmt-app@.service sets the port from its instance name.
"""
import os
import shutil
import tempfile

bind = os.environ.get("CASEMGMT_BIND", "127.0.0.1:8001")
# Threads, not only processes: a request mostly waits on PostgreSQL, and a thread costs far
# less memory than a process (each holds the app, ~120 MB). Each process has its own pool of
# database connections (5), sized to its threads.
workers = int(os.environ.get("CASEMGMT_WORKERS") or 2 * (os.cpu_count() or 1))
worker_class = "gthread"
threads = 4
# Longer than nginx's upstream keepalive_timeout (4 s): nginx closes an idle connection first.
keepalive = 10
# A PDF of a long case takes seconds; nothing answers in 60.
timeout = 60
graceful_timeout = 30
# Memory that a worker gathers over days (fragmentation, caches) is given back now and then.
max_requests = 5000
max_requests_jitter = 500
# Each worker opens its own database connections after the fork.
preload_app = False
# nginx on this machine is the one proxy whose X-Forwarded-* are believed (the app's ProxyFix,
# CASEMGMT_PROXY_FIX=1, reads them).
forwarded_allow_ips = "127.0.0.1"
# nginx writes the access log (with the request id); the app writes its own JSON lines.
accesslog = None
errorlog = "-"
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # the heartbeat file, off a disk that may stall

# Prometheus (casemgmt/metrics.py): every worker process writes its counts to this directory and
# /metrics reads them all. Set before the workers start; emptied at each start (the systemd unit
# gives a fresh runtime directory; otherwise one is made here).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="casemgmt-metrics-")


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

    GunicornInternalPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
