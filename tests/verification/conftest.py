"""Files to verify: signed by the service, tampered, stripped, or signed elsewhere."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.keys.c2pa_credential import create_dev_credential
from registry.media.c2pa_adapter import sign_file
from registry.settings import Settings
from tests.factories import Studio
from tests.media import assets

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@dataclass
class Signed:
    """A file the service signed, its unsigned source, the asset and the grant it cites."""

    path: Path
    source: Path
    asset: dict[str, Any]
    grant: dict[str, Any]
    mime_type: str


def sign_through_api(studio: Studio, source: Path, grant: dict[str, Any], work: Path) -> Signed:
    meta = {
        "grants": [
            {
                "grant_id": grant["id"],
                "modalities": ["voice"],
                "purpose": "advertising",
                "territory": "US",
            }
        ],
        "generator": {"name": "VoiceForge", "version": "2.1"},
    }
    with source.open("rb") as handle:
        response = studio.client.post(
            "/v1/media",
            data={"file": (handle, source.name), "metadata": json.dumps(meta)},
            headers=studio.headers,
            content_type="multipart/form-data",
        )
    assert response.status_code == 201, response.json
    asset = response.json
    content = studio.get(f"/v1/media/{asset['id']}/content")
    path = work / f"signed-{source.name}"
    path.write_bytes(content.get_data())
    return Signed(path, source, asset, grant, asset["mime_type"])


@pytest.fixture
def work(tmp_path: Path) -> Path:
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def signed_jpeg(studio: Studio, work: Path) -> Signed:
    grant = studio.grant(media_types=["image", "audio", "video"])
    return sign_through_api(studio, assets.make_jpeg(work), grant, work)


def verify(client: FlaskClient, path: Path, **kwargs: Any):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(
            "/v1/verify",
            data={"file": (handle, kwargs.pop("filename", path.name))},
            content_type="multipart/form-data",
            **kwargs,
        )


def checks_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in result["checks"]}


def manifest_definition(*, source_type: str | None, consent: bool = False) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action": "c2pa.created",
        "when": datetime.now(UTC).isoformat(),
        "softwareAgent": {"name": "OtherTool", "version": "9"},
    }
    if source_type:
        action["digitalSourceType"] = IPTC + source_type
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": [action]}}]
    if consent:
        assertions.append({"label": "org.consentregistry.consent", "data": {"grants": []}})
    return {
        "claim_generator_info": [{"name": "OtherTool", "version": "9"}],
        "title": "elsewhere",
        "assertions": assertions,
    }


def sign_elsewhere(
    source: Path, dest: Path, *, keys: Path, source_type: str | None, mime_type: str
) -> Path:
    """Sign ``source`` without the registry, with a CA of its own (under ``keys``)."""
    credential = create_dev_credential(keys, label="elsewhere").credential
    sign_file(
        source=source,
        dest=dest,
        mime_type=mime_type,
        manifest=manifest_definition(source_type=source_type),
        credential=credential,
    )
    return dest


@pytest.fixture
def our_credential(app: Flask, settings: Settings):  # type: ignore[no-untyped-def]
    return app.extensions["registry.signing"].credential
