"""Watches and takedowns: a studio's signed file, a platform that verified and watches it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.auth.services import create_client
from registry.state import state_of
from registry.webhooks.worker import Worker, WorkerConfig
from tests.factories import Studio
from tests.media import assets
from tests.verification.conftest import Signed, sign_through_api, verify
from tests.webhooks.conftest import Receiver, add_endpoint, receiver, receivers

PLATFORM_SCOPES = frozenset({"verify", "watch"})


@dataclass
class Platform:
    """An organization that never signed anything: its verify+watch client, and a client of
    the same organization that only manages its webhook endpoints."""

    watcher: Studio
    hooks: Studio


@pytest.fixture
def platform(app: Flask, client: FlaskClient) -> Platform:
    watcher = Studio.create(app, client, name="StreamCo", scopes=PLATFORM_SCOPES)
    with state_of(app).database.session_scope() as session:
        hooks_client, secret = create_client(
            session, org_id=watcher.org_id, scopes=frozenset({"webhooks"}), name="hooks",
            actor="test",
        )
        client_id = hooks_client.client_id
    hooks = Studio(app, client, watcher.org_id, client_id, secret)
    hooks.login()
    return Platform(watcher, hooks)


@pytest.fixture
def signed(studio: Studio, work: Path) -> Signed:
    grant = studio.grant(media_types=["image", "audio", "video"])
    return sign_through_api(studio, assets.make_jpeg(work), grant, work)


def verified_manifest(platform: Platform, signed: Signed) -> dict[str, Any]:
    response = verify(platform.watcher.client, signed.path, headers=platform.watcher.headers)
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


@pytest.fixture
def deliver(app: Flask) -> Iterator[Worker]:
    """A worker in the test process (real clock): ``deliver.run_once()`` sends what is due."""
    worker = Worker(
        state_of(app).database,
        config=WorkerConfig(allow_private=True),
        rng=random.Random(3),  # noqa: S311 - jitter
    )
    yield worker
    worker.close()


__all__ = ["Receiver", "add_endpoint", "receiver", "receivers"]
