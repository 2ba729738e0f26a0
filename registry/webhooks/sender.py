"""One HTTP attempt: POST the signed body, no redirects, within the deadline.

The outcome is a status code or an error; the response body is not kept. When private
addresses are not allowed, the host is resolved and checked again now and the connection goes
to the address that was checked (``urls.resolve``), with the URL's host in ``Host`` and TLS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from registry.webhooks.errors import WebhookUrlRefused
from registry.webhooks.signing import signed_headers
from registry.webhooks.urls import Target, resolve

MAX_ERROR = 300


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410: the receiver wants no more webhooks (the endpoint is disabled)."""
        return self.status_code == 410


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _request_to(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """URL, extra headers and httpx extensions to reach the checked address."""
    if target.address is None:
        return target.url, {}, {}
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    netloc = address + (f":{parts.port}" if parts.port else "")
    host = parts.hostname or target.host
    host_header = host + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"host": host_header}, extensions


def send(
    client: httpx.Client,
    *,
    url: str,
    keys: list[str],
    msg_id: str,
    body: str,
    at: datetime,
    allow_private: bool,
) -> Outcome:
    """Sign ``body`` for ``at`` and POST it to ``url``."""
    started = time.monotonic()
    try:
        target = resolve(url, allow_private=allow_private)
    except WebhookUrlRefused as exc:
        return Outcome(None, f"refused: {exc.detail}"[:MAX_ERROR], 0)
    request_url, extra_headers, extensions = _request_to(target)
    headers = {**signed_headers(keys, msg_id=msg_id, at=at, body=body), **extra_headers}
    try:
        response = client.post(
            request_url,
            content=body.encode(),
            headers=headers,
            extensions=extensions,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR], elapsed)
    elapsed = int((time.monotonic() - started) * 1000)
    return Outcome(response.status_code, None, elapsed, _retry_after(response))
