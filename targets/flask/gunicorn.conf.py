"""gunicorn's settings as DRUM's gunicorn/gunicorn.conf.py computes them from
runtime parameters (MLOPS_RUNTIME_PARAM_<NAME>); an out-of-range value falls
back to the default. Used as `python3 -m gunicorn -c gunicorn.conf.py app:app`,
as DRUM's run_gunicorn.py starts it (DRUM_SERVER_TYPE=gunicorn).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from common.drum import RuntimeParameters  # noqa: E402


def _ranged(name, low, high, default):
    if RuntimeParameters.has(name):
        value = int(RuntimeParameters.get(name))
        if low <= value <= high:
            return value
    return default


workers = 1
if RuntimeParameters.has("CUSTOM_MODEL_WORKERS"):
    workers = _ranged("CUSTOM_MODEL_WORKERS", 1, 199, workers)
elif os.environ.get("MAX_WORKERS") and 0 < int(os.environ["MAX_WORKERS"]) < 200:
    workers = int(os.environ["MAX_WORKERS"])

backlog = _ranged("DRUM_WEBSERVER_BACKLOG", 1, 10000, 2048)
# The sync worker's whole-request limit: a worker busy longer is killed.
timeout = _ranged("DRUM_CLIENT_REQUEST_TIMEOUT", 0, 3600, 120)
max_requests = _ranged("DRUM_GUNICORN_MAX_REQUESTS", 0, 10000, 0)
max_requests_jitter = _ranged("DRUM_GUNICORN_MAX_REQUESTS_JITTER", 1, 10000, 0)
# Concurrent connections of one gevent worker.
worker_connections = _ranged("DRUM_WORKER_CONNECTIONS", 1, 10000, 5)

worker_class = "sync"
if str(RuntimeParameters.get("DRUM_GUNICORN_WORKER_CLASS", "")).lower() == "gevent":
    worker_class = "workers.DrumGeventWorker"

graceful_timeout = _ranged("DRUM_GUNICORN_GRACEFUL_TIMEOUT", 1, 3600, 30)
keepalive = _ranged("DRUM_GUNICORN_KEEP_ALIVE", 0, 3600, 0)
first_byte_timeout = _ranged("DRUM_GUNICORN_FIRST_BYTE_TIMEOUT", 0, 3600, 2)

loglevel = "info"
if str(RuntimeParameters.get("DRUM_GUNICORN_LOG_LEVEL", "")).lower() in {
        "debug", "info", "warning", "error", "critical"}:
    loglevel = str(RuntimeParameters.get("DRUM_GUNICORN_LOG_LEVEL")).lower()

bind = os.environ["ADDRESS"]
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def post_fork(server, worker):
    worker.first_byte_timeout = first_byte_timeout
