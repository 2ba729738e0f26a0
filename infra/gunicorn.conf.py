"""gunicorn settings for `make run` and production (override with GUNICORN_* / REGISTRY_*)."""

import os

port = os.environ.get("REGISTRY_PORT", "8000")
bind = [os.environ.get("REGISTRY_BIND", f"127.0.0.1:{port}")]
worker_class = "gthread"
workers = int(os.environ.get("REGISTRY_WORKERS", "1"))
threads = int(os.environ.get("REGISTRY_THREADS", "8"))
reuse_port = True
# Large media uploads take a while on slow links.
timeout = int(os.environ.get("REGISTRY_WORKER_TIMEOUT", "300"))
keepalive = 5
accesslog = os.environ.get("REGISTRY_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("REGISTRY_LOG_LEVEL", "info")


def when_ready(server):  # type: ignore[no-untyped-def]
    base = f"http://{bind[0]}"
    server.log.info("Consent Registry is serving on %s", base)
    print(
        f"\n  Consent Registry: {base}\n"
        f"    API docs   {base}/docs\n"
        f"    OpenAPI    {base}/openapi.json\n"
        f"    JWKS       {base}/.well-known/jwks.json\n"
        f"    health     {base}/healthz  {base}/readyz\n",
        flush=True,
    )


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    import sys

    # A thread back from a database round trip waits for the GIL up to the switch interval
    # (5 ms by default); with many threads that wait dominates tail latency.
    sys.setswitchinterval(float(os.environ.get("REGISTRY_GIL_SWITCH_INTERVAL", "0.0005")))
