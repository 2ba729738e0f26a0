"""A revocation that commits while a file is being signed wins: nothing is signed under it.

The sign is paused where it stores the signed file (after its authorization, before its
commit); the grant is revoked meanwhile through the API; then the sign goes on.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from registry.state import state_of
from registry.storage import BlobStorage
from tests.factories import Studio, assert_problem
from tests.media import assets
from tests.media.conftest import metadata, sign_upload

PAUSE_SECONDS = 20


class PausingStorage:
    """A storage whose first ``put_file`` waits until the test lets it go on."""

    def __init__(self, inner: BlobStorage) -> None:
        self._inner = inner
        self.reached = threading.Event()
        self.go_on = threading.Event()

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.reached.set()
        self.go_on.wait(PAUSE_SECONDS)
        self._inner.put_file(key, path, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


def test_a_revocation_during_signing_refuses_the_sign_and_leaves_nothing(
    app: Flask,
    studio: Studio,
    work: Path,
    counts: Callable[[], dict[str, int]],
    blobs: Callable[[], list[str]],
) -> None:
    grant = studio.grant()
    state = state_of(app)
    storage = PausingStorage(state.signing.storage)
    state.signing = dataclasses.replace(state.signing, storage=storage)
    before = counts()
    wav = assets.make_wav(work)

    signer, signed = _in_thread(lambda: sign_upload(studio, wav, metadata(grant["id"])))
    assert storage.reached.wait(60), "the sign never reached storage"
    revoker, revoked = _in_thread(
        lambda: studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    )
    revoker.join(PAUSE_SECONDS / 2)  # a revocation that waits for the sign fails below
    storage.go_on.set()
    signer.join(60)
    revoker.join(60)

    assert revoked[0].status_code == 200
    body = assert_problem(signed[0], 422, "grant-revoked")
    assert body["grant_id"] == grant["id"]
    after = counts()
    assert after["media_assets"] == before["media_assets"]
    assert after["audit_events"] == before["audit_events"] + 1  # grant.revoked only
    assert blobs() == []
    actions = [e["action"] for e in studio.get("/v1/audit/events?limit=500").json["items"]]
    assert actions[-1] == "grant.revoked"
    assert "media.signed" not in actions
