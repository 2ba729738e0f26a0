"""Operations endpoints: liveness, readiness, the OpenAPI document and its offline viewer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, current_app, render_template, send_from_directory
from pydantic import BaseModel

from registry.api import Rendered, operation, render
from registry.errors import RegistryError, ServiceUnavailable
from registry.openapi import build_openapi
from registry.state import app_state

bp = Blueprint("ops", __name__)
SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"


class Readiness:
    """The checks of /readyz, run concurrently on threads of their own, answered in time.

    Each check gets ``timeout`` seconds; one that has not answered by then counts as a
    failure (a 503), and goes on in the background. A check still running from an earlier
    probe is waited for, never started twice: a dependency that hangs (a frozen database
    holds its connection) ties up one thread, however often /readyz is asked.
    """

    def __init__(
        self,
        checks: dict[str, tuple[Callable[[], None], type[ServiceUnavailable]]],
        *,
        timeout: float,
    ) -> None:
        self._checks = checks  # name -> (check, the error it fails with), in report order
        self._timeout = timeout
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None  # started on first use (post-fork)

    def check(self) -> None:
        """Raise a ``ServiceUnavailable`` naming the first check that failed or overran."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=len(self._checks), thread_name_prefix="readyz"
                )
            futures: dict[str, Future[None]] = {}
            for name, (check, _) in self._checks.items():
                future = self._running.get(name)
                if future is None or future.done():
                    future = self._running[name] = self._executor.submit(check)
                futures[name] = future
        wait(futures.values(), timeout=self._timeout)
        for name, future in futures.items():
            unavailable = self._checks[name][1]
            if not future.done():
                raise unavailable(f"{name} did not answer within {self._timeout:g} s")
            error = future.exception()
            if error is not None:
                detail = error.detail if isinstance(error, RegistryError) else f"{name} failed"
                raise unavailable(detail) from error


class Health(BaseModel):
    status: str


@bp.get("/healthz")
@operation(summary="The process is up", tags=["ops"], response=Health, public=True)
def healthz() -> Health:
    return Health(status="ok")


@bp.get("/readyz")
@operation(
    summary="The database (and storage, when configured) can be reached",
    tags=["ops"],
    response=Health,
    public=True,
    errors=(503,),
)
def readyz() -> Health:
    app_state().readiness.check()
    return Health(status="ready")


@bp.get("/openapi.json")
def openapi_document() -> Response:
    state = app_state()
    if state.openapi_document is None:
        state.openapi_document = build_openapi(current_app)
    return render(Rendered(state.openapi_document), 200)


@bp.get("/docs")
def docs() -> str:
    return render_template("docs.html")


@bp.get("/docs/assets/<path:filename>")
def docs_assets(filename: str) -> Response:
    return send_from_directory(SWAGGER_DIST, filename, max_age=86400)
