"""Files to verify: signed by the service, tampered, stripped, or signed elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.c2pa.adapter import sign_file
from registry.keys.c2pa_credential import create_dev_credential
from registry.state import state_of
from tests.factories import Studio
from tests.media import assets
from tests.media.conftest import metadata, sign_upload

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@dataclass
class Signed:
    """A file the service signed, its unsigned source, the asset and the grant it cites."""

    path: Path
    source: Path
    asset: dict[str, Any]
    grant: dict[str, Any]


def sign_through_api(studio: Studio, source: Path, grant: dict[str, Any], work: Path) -> Signed:
    response = sign_upload(studio, source, metadata(grant["id"]))
    assert response.status_code == 201, response.json
    asset = response.json
    content = studio.get(f"/v1/media/{asset['id']}/content")
    path = work / f"signed-{source.name}"
    path.write_bytes(content.get_data())
    return Signed(path, source, asset, grant)


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


def manifest_definition(
    *, source_type: str | None, consent_grants: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A manifest as another tool would write it; ``consent_grants`` adds our consent assertion."""
    action: dict[str, Any] = {
        "action": "c2pa.created",
        "when": datetime.now(UTC).isoformat(),
        "softwareAgent": {"name": "OtherTool", "version": "9"},
    }
    if source_type:
        action["digitalSourceType"] = IPTC + source_type
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": [action]}}]
    if consent_grants is not None:
        assertions.append(
            {"label": "org.consentregistry.consent", "data": {"grants": consent_grants}}
        )
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


def sign_png(work: Path, credential: Any, definition: dict[str, Any], name: str) -> Path:
    """A fresh PNG signed with ``definition`` by ``credential``, as ``work/name``."""
    dest = work / name
    sign_file(
        source=assets.make_png(work),
        dest=dest,
        mime_type="image/png",
        manifest=definition,
        credential=credential,
    )
    return dest


@pytest.fixture
def our_credential(app: Flask):  # type: ignore[no-untyped-def]
    return state_of(app).signing.credential
