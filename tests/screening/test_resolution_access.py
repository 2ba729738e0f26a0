"""Who may screen and resolve: the access rules and the anonymous allowance of verification,
shared by /v1/verify, /v1/screen and the Soft Binding Resolution API."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry import create_app
from registry.provenance.fingerprints import WATERMARK_ALG
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.media import assets
from tests.softbinding_api.conftest import post_file
from tests.verification.conftest import verify

KEY = base64.b64encode(b"\x01" * 8).decode()
MANIFEST = "/manifests/urn:c2pa:00000000-0000-4000-8000-000000000000"


def calls(png: Path) -> dict[str, Callable[[FlaskClient, dict[str, str]], Any]]:
    """Every operation that asks about a file or a binding, as (client, headers) -> response."""
    return {
        "verify": lambda c, h: verify(c, png, headers=h),
        "screen": lambda c, h: post_file(c, "/v1/screen", png, headers=h),
        "byContent": lambda c, h: post_file(c, "/matches/byContent", png, headers=h),
        "byBinding": lambda c, h: c.get(
            "/matches/byBinding", query_string={"alg": WATERMARK_ALG, "value": KEY}, headers=h
        ),
        "byBinding POST": lambda c, h: c.post(
            "/matches/byBinding", json={"alg": WATERMARK_ALG, "value": KEY}, headers=h
        ),
        "manifest": lambda c, h: c.get(MANIFEST, headers=h),
    }


OK = {"verify": 200, "screen": 200, "byContent": 200, "byBinding": 200, "byBinding POST": 200,
      "manifest": 404}  # fmt: skip


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**changes: Any) -> Flask:
        for name, value in changes.items():
            setattr(settings, name, value)
        app = create_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        state_of(app).database.dispose()


@pytest.mark.parametrize("first", ["verify", "screen", "byContent", "byBinding", "manifest"])
def test_one_anonymous_rate_limit_for_every_operation(
    make_app: Callable[..., Flask], work: Path, first: str
) -> None:
    """Three anonymous requests a minute in all: whichever operations spend them."""
    app = make_app(anonymous_verify_rate="3/minute")
    client = app.test_client()
    operations = calls(assets.make_png(work, size=(300, 300)))
    names = [first, *(n for n in operations if n != first)]
    statuses = [operations[name](client, {}).status_code for name in names]
    assert statuses[:3] == [OK[name] for name in names[:3]]
    for name, status in zip(names[3:], statuses[3:], strict=True):
        assert status == 429, name
    limited = operations["screen"](client, {})
    assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # A token holder is not counted against the address.
    studio = Studio.create(app, client, name="Platform")
    for name, call in operations.items():
        assert call(client, studio.headers).status_code == OK[name], name


def test_anonymous_calls_can_be_turned_off(make_app: Callable[..., Flask], work: Path) -> None:
    app = make_app(public_verify=False)
    client = app.test_client()
    for call in calls(assets.make_png(work)).values():
        assert_problem(call(client, {}), 401, "verification-needs-login")
    assert client.get("/services/supportedAlgorithms").status_code == 200


def test_a_token_needs_the_verify_scope(app: Flask, client: FlaskClient, work: Path) -> None:
    reader = Studio.create(app, client, name="Reader", scopes=frozenset({"grants:read"}))
    for call in calls(assets.make_png(work)).values():
        body = assert_problem(call(client, reader.headers), 403, "insufficient-scope")
        assert body["required_scopes"] == ["verify"]
    bad = {"Authorization": "Bearer nonsense"}
    for call in calls(assets.make_png(work)).values():
        assert_problem(call(client, bad), 401, "invalid-token")


def test_anonymous_uploads_share_the_byte_budget(
    make_app: Callable[..., Flask], work: Path
) -> None:
    """A body larger than an address's whole byte allowance is refused before it is read."""
    png = assets.make_png(work, size=(300, 300))
    app = make_app(anonymous_verify_bytes_per_minute=png.stat().st_size - 1)
    client = app.test_client()
    for name in ("screen", "byContent"):
        assert_problem(calls(png)[name](client, {}), 413, "payload-too-large")


def test_uploads_over_the_size_limit_are_refused(
    make_app: Callable[..., Flask], work: Path
) -> None:
    png = assets.make_png(work, size=(300, 300))
    app = make_app(max_upload_bytes=png.stat().st_size - 1)
    client = app.test_client()
    studio = Studio.create(app, client, name="Platform")
    for name in ("screen", "byContent"):
        assert calls(png)[name](client, studio.headers).status_code == 413, name
