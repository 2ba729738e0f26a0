"""Two instances behave as one service (issue #14): two gunicorns on their own ports against
one PostgreSQL (a private schema), one Redis and one SeaweedFS bucket, sharing the token keys
as a mounted secret would be shared.

PostgreSQL only: SQLite is one machine's file, never shared by instances.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.factories import grant_body
from tests.ops.conftest import Served
from tests.ops.realrun import AUDIO, Api, new_client

REGISTRY = Path(sys.executable).with_name("registry")
ANONYMOUS_RATE = 4  # per hour: a fixed window that cannot roll over during the test


@pytest.fixture
def pair(
    serve: Callable[..., Served],
    postgres_url: str,
    s3_server: Any,
    s3_bucket: str,
    keys_template: Path,
    tmp_path: Path,
) -> tuple[Served, Served, dict[str, str]]:
    keys = tmp_path / "shared-keys"
    shutil.copytree(keys_template, keys)
    shared = {
        "REGISTRY_DATABASE_URL": postgres_url,
        "REGISTRY_KEYS_DIR": str(keys),
        "REGISTRY_STORAGE": "s3",
        "REGISTRY_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "REGISTRY_S3_BUCKET": s3_bucket,
        "AWS_ACCESS_KEY_ID": "any",
        "AWS_SECRET_ACCESS_KEY": "any",
        "REGISTRY_RATE_LIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "REGISTRY_RATE_LIMIT_KEY_PREFIX": f"ops-test-{uuid.uuid4().hex}",
        "REGISTRY_ANONYMOUS_VERIFY_RATE": f"{ANONYMOUS_RATE}/hour",
        "REGISTRY_PUBLIC_VERIFY": "true",
        "REGISTRY_THREADS": "8",
    }
    return serve(**shared), serve(**shared), shared


def _registry_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    return subprocess.run(
        [str(REGISTRY), *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


@pytest.mark.postgres  # two instances share one PostgreSQL (tests/conftest.py)
def test_two_instances_behave_as_one_service(
    pair: tuple[Served, Served, dict[str, str]], tmp_path: Path
) -> None:
    one, two, shared = pair
    client_id, secret = new_client(shared["REGISTRY_DATABASE_URL"])
    a, b = Api(one.base, client_id, secret), Api(two.base, client_id, secret)
    try:
        a.login()
        b.login()

        # The anonymous verification limit is one budget across both instances.
        statuses = [(a if i % 2 else b).verify(AUDIO, anonymous=True).status_code for i in range(6)]
        assert statuses[:ANONYMOUS_RATE] == [200] * ANONYMOUS_RATE, statuses
        assert statuses[ANONYMOUS_RATE:] == [429, 429], statuses

        # The same Idempotency-Key sent to both at once: one grant.
        subject = a.subject()
        key = {"Idempotency-Key": f"grant-{uuid.uuid4()}"}
        body = grant_body(subject["id"])  # one body: its times are part of it
        answers = _at_once(
            [
                lambda: a.grant(subject["id"], body, **key),
                lambda: b.grant(subject["id"], body, **key),
            ]
        )
        assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
        assert answers[0].json()["id"] == answers[1].json()["id"]
        listed = a.http.get("/v1/grants", params={"subject_id": subject["id"]}, headers=a.auth)
        assert [g["id"] for g in listed.json()["items"]] == [answers[0].json()["id"]]

        # Concurrent changes of the same grants through both keep every audit chain valid.
        grants = [a.grant(subject["id"]).json()["id"] for _ in range(4)]

        def change(api: Api, grant_id: str, action: str) -> int:
            response = api.http.post(
                f"/v1/grants/{grant_id}/{action}", json={"reason": "ops test"}, headers=api.auth
            )
            return response.status_code

        calls: list[Callable[[], int]] = []
        for grant_id in grants:
            calls.append(lambda g=grant_id: change(a, g, "suspend"))
            calls.append(lambda g=grant_id: change(b, g, "suspend"))
            calls.append(lambda g=grant_id: change(b, g, "revoke"))
        codes = _at_once(calls)
        assert set(codes) <= {200, 409, 422}, codes
        assert codes.count(200) >= len(grants), codes
        audit = _registry_cli(shared, "audit", "verify")
        assert audit.returncode == 0, audit.stderr
        assert "audit log intact" in audit.stdout

        # A file signed through one verifies through the other (one bucket, one database).
        grant_id = a.grant(subject["id"]).json()["id"]
        media = a.sign(grant_id)
        signed = b.download(media, tmp_path / "signed.mp3")
        verdict = b.verify(signed)
        assert verdict.status_code == 200, verdict.text
        assert verdict.json()["verdict"] == "pass"
        assert verdict.json()["known_asset"] is not None

        # Key rotation on one is seen by the other's JWKS, and both sign with the new key.
        before = {k["kid"] for k in httpx.get(f"{two.base}/.well-known/jwks.json").json()["keys"]}
        rotated = _registry_cli(shared, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        after = {k["kid"] for k in httpx.get(f"{two.base}/.well-known/jwks.json").json()["keys"]}
        [new_kid] = after - before
        assert before < after  # old keys stay published
        for api in (a, b):
            assert jwt.get_unverified_header(api.login())["kid"] == new_kid
    finally:
        a.close()
        b.close()
