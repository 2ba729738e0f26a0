"""`registry webhooks test ENDPOINT_ID`: a signed test event, sent now."""

from __future__ import annotations

import os
import subprocess

from registry.settings import Settings
from tests.factories import Studio
from tests.webhooks.conftest import REGISTRY, Receiver, add_endpoint


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")},
        "REGISTRY_DATABASE_URL": settings.database_url,
        "REGISTRY_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [str(REGISTRY), "webhooks", "test", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_signed_test_event_is_sent_and_verifies(
    settings: Settings, studio: Studio, receiver: Receiver, counts
) -> None:
    endpoint = add_endpoint(studio, receiver.url)
    before = counts()
    done = _run(settings, endpoint["id"])
    assert done.returncode == 0, done.stderr
    [request] = receiver.requests()
    payload = request.verify(endpoint["secret"])
    assert payload["type"] == "webhook.test"
    assert payload["data"] == {"endpoint_id": endpoint["id"]}
    assert done.stdout.startswith(f"delivered {request.headers['webhook-id']}: HTTP 204")
    assert counts() == before  # a test event is not an event of the outbox


def test_a_failing_endpoint_or_an_unknown_id_exits_non_zero(
    settings: Settings, studio: Studio, receivers
) -> None:
    failing: Receiver = receivers("--status", "500")
    endpoint = add_endpoint(studio, failing.url)
    done = _run(settings, endpoint["id"])
    assert done.returncode == 1
    assert "NOT delivered" in done.stderr and "HTTP 500" in done.stderr
    assert len(failing.requests()) == 1
    unknown = _run(settings, "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode == 1
    assert "no webhook endpoint" in unknown.stderr
