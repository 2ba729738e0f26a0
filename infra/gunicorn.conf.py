"""gunicorn settings for `make run` and production (override with GUNICORN_* / REGISTRY_*)."""

import os
import shutil
import tempfile
from typing import Any

# Metrics (registry/metrics.py): every process writes its samples to one directory, which a
# scrape adds up. Set before any worker imports prometheus_client. `make run` and the
# containers give one (emptied before the start); otherwise it is a fresh one, removed at exit.
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_dir = tempfile.mkdtemp(prefix="registry-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

port = os.environ.get("REGISTRY_PORT", "8000")
bind = [os.environ.get("REGISTRY_BIND", f"127.0.0.1:{port}")]
worker_class = "gthread"
workers = int(os.environ.get("REGISTRY_WORKERS", "1"))
# A thread serves one request at a time. In production nginx buffers request bodies before
# gunicorn sees them (infra/nginx/); without it, a client that stops sending its body holds a
# thread for REGISTRY_BODY_READ_TIMEOUT seconds at most (registry/body_deadline.py).
threads = int(os.environ.get("REGISTRY_THREADS", "8"))
reuse_port = True
# Large media uploads take a while on slow links.
timeout = int(os.environ.get("REGISTRY_WORKER_TIMEOUT", "300"))
# On SIGTERM a worker stops accepting, finishes the requests under way for at most this many
# seconds, then is killed (keep it below the orchestrator's grace period: Kubernetes' 30 s).
graceful_timeout = int(os.environ.get("REGISTRY_GRACEFUL_TIMEOUT", "25"))
keepalive = 5
# Logs (registry/logs.py): JSON objects (REGISTRY_LOG_FORMAT=json, the default) or text; in
# JSON mode the access log goes to stdout unless REGISTRY_ACCESS_LOG names a file or "off".
logger_class = "registry.logs.GunicornLogger"
_json_logs = os.environ.get("REGISTRY_LOG_FORMAT", "json") == "json"
_access_log = os.environ.get("REGISTRY_ACCESS_LOG")  # a file, "-" (stdout) or "off"
accesslog = None if _access_log == "off" else (_access_log or ("-" if _json_logs else None))
errorlog = "-"
loglevel = os.environ.get("REGISTRY_LOG_LEVEL", "info")


def when_ready(server):  # type: ignore[no-untyped-def]
    metrics_bind = os.environ.get("REGISTRY_METRICS_BIND")
    # /metrics on a port of its own (no token), served by the master: the workers' counters
    # and histograms only. The scrape-time gauges and the process metrics are collected by
    # the worker answering the token route (metrics_http.registry_for_scrape), and only there.
    if metrics_bind:
        from registry.metrics import serve, summed_registry

        serve(metrics_bind, summed_registry())
        server.log.info("metrics are served on %s", metrics_bind)
    base = f"http://{bind[0]}"
    server.log.info("Consent Registry is serving on %s", base)
    if _json_logs:  # every line of the output is a JSON object
        return
    print(
        f"\n  Consent Registry: {base}\n"
        f"    verify     {base}/verify  (drop a file, see its verdict)\n"
        f"    API docs   {base}/docs\n"
        f"    OpenAPI    {base}/openapi.json\n"
        f"    JWKS       {base}/.well-known/jwks.json\n"
        f"    health     {base}/healthz  {base}/readyz\n",
        flush=True,
    )


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    global _heap
    import sys

    from registry import malloc

    # A thread back from a database round trip waits for the GIL up to the switch interval
    # (5 ms by default); with many threads that wait dominates tail latency.
    sys.setswitchinterval(float(os.environ.get("REGISTRY_GIL_SWITCH_INTERVAL", "0.0005")))
    _heap = malloc.tune()


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    import gc

    # The loaded app is ~110,000 long-lived objects (modules, models, c2pa's bindings). A full
    # collection walks all of them (~40 ms here) while every thread of the worker waits; frozen,
    # collections walk only what requests create.
    gc.collect()
    gc.freeze()


# glibc malloc tuned for c2pa's buffers (registry/malloc.py); released after media POSTs.
_heap = None


_MEDIA_PATHS = ("/v1/media", "/v1/verify", "/verify")  # the requests that sign or verify files


def post_request(worker, req, environ, resp):  # type: ignore[no-untyped-def]
    # Only POSTs of media leave big buffers behind; other requests skip even the heap
    # statistics (mallinfo2 walks the free lists under the one arena's lock).
    media = environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
        _MEDIA_PATHS
    )
    if media and _heap is not None:
        _heap.release()


def child_exit(server: object, worker: Any) -> None:
    # A worker's live gauges die with it; its counters stay in the sums.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: object) -> None:
    if _own_metrics_dir is not None:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
