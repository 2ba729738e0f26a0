"""The creation record of a signed work: the manifest carries the people's actions and the
generative one; prompt text lives only in its encrypted column; the report shows the tool,
the grants and the contributions; another organization's media answer 404."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from flask import Flask

from registry.records.models import CreationRecord
from registry.records.prompts import unseal
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.media.test_sign_api import dev_ca, download, read_plain

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PROMPT = "zq-sentinel a lighthouse keeper's daughter singing at dusk, gouache"
OTHER_PROMPT = "zq-second prompt: slower tempo, add rain"
CUT = {"role": "editor", "action": "editing", "description": "cut and color grade"}
DIRECTION = {
    "role": "director",
    "action": "performance_direction",
    "description": "chose the take and directed the phrasing",
}


def creation(**overrides: Any) -> dict[str, Any]:
    return {
        "prompts": [PROMPT, OTHER_PROMPT],
        "keep_prompt_text": True,
        "inputs": [{"sha256": "c" * 64, "label": "reference still"}],
        "human": [CUT, DIRECTION],
        **overrides,
    }


def sign_with_record(
    studio: Studio, source: Path, grant_id: str, title: str | None = None, **overrides: Any
) -> dict[str, Any]:
    meta = metadata(
        grant_id,
        creation=creation(**overrides),
        digital_source_type="compositeWithTrainedAlgorithmicMedia",
        **({"title": title} if title else {}),
    )
    response = sign_upload(studio, source, meta)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def test_the_manifest_carries_the_human_actions_and_the_generative_action(
    studio: Studio, settings: Settings, work: Path
) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_with_record(studio, assets.make_png(work), grant["id"])
    store = read_plain(download(studio, asset["id"]), "image/png", dev_ca(settings))
    assert store["validation_state"] == "Trusted"
    manifest = store["manifests"][store["active_manifest"]]
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}

    actions = assertions["c2pa.actions.v2"]["actions"]
    created, cut, directed = actions[:3]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert created["softwareAgent"] == {"name": "VoiceForge", "version": "2.1"}
    for action, person in ((cut, CUT), (directed, DIRECTION)):
        assert action["action"] == "c2pa.edited"
        assert action["digitalSourceType"] == IPTC + "humanEdits"
        assert person["role"] in action["description"]
        assert person["description"] in action["description"]
    assert "performance direction" in directed["description"]

    facts = assertions["org.consentregistry.creation"]
    assert facts["generator"] == {
        "name": "VoiceForge",
        "version": "2.1",
        "provider": "VoiceForge Labs",
        "documentation_url": "https://voiceforge.example/model-card",
        "license": "commercial",
        "training_data": "licensed",
        "modalities": ["image", "audio", "video"],
    }
    assert facts["human"] == [CUT, DIRECTION]
    sb942 = assertions["org.consentregistry.disclosure"]["sb942"]
    assert (sb942["system_name"], sb942["system_version"]) == ("VoiceForge", "2.1")
    assert sb942["system_provider"] == "VoiceForge Labs"


def _database_text(app: Flask) -> str:
    """Every value of every row of every table, as text (the database, dumped)."""
    engine: sa.Engine = state_of(app).database.engine
    metadata = sa.MetaData()
    metadata.reflect(engine)
    parts = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def test_prompt_text_is_only_in_its_encrypted_column(
    app: Flask, studio: Studio, work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    grant = studio.grant(media_types=["image"])
    asset = sign_with_record(studio, assets.make_png(work), grant["id"])
    secrets = ("zq-sentinel", "lighthouse keeper", "zq-second", "add rain")

    signed = download(studio, asset["id"])
    record_json = studio.get(f"/v1/media/{asset['id']}/record").get_data(as_text=True)
    record_html = studio.get(f"/v1/media/{asset['id']}/record?format=html").get_data(as_text=True)
    events = studio.get("/v1/webhook-events?limit=100").get_data(as_text=True)
    audit = studio.get("/v1/audit/events?limit=100").get_data(as_text=True)
    dump = _database_text(app)
    logs = caplog.text
    for secret in secrets:
        assert secret.encode() not in signed
        for text in (record_json, record_html, events, audit, dump, logs):
            assert secret not in text

    # The digests are kept, and the text opens with the registry's key (and that asset only).
    with state_of(app).database.session_scope() as session:
        record = session.get(CreationRecord, asset["id"])
        assert record is not None and record.prompt_ciphertext
        assert record.prompt_sha256 == [
            hashlib.sha256(p.encode()).hexdigest() for p in (PROMPT, OTHER_PROMPT)
        ]
        key = state_of(app).signing.prompt_key
        assert unseal(key, asset["id"], record.prompt_ciphertext) == [PROMPT, OTHER_PROMPT]
        with pytest.raises(InvalidTag):
            unseal(key, studio.org_id, record.prompt_ciphertext)


def test_prompt_text_is_not_kept_unless_asked(app: Flask, studio: Studio, work: Path) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_with_record(
        studio,
        assets.make_png(work),
        grant["id"],
        keep_prompt_text=False,
        prompt_sha256=["d" * 64],
    )
    with state_of(app).database.session_scope() as session:
        record = session.get(CreationRecord, asset["id"])
        assert record is not None
        assert record.prompt_ciphertext is None
        assert record.prompt_sha256 == [
            hashlib.sha256(PROMPT.encode()).hexdigest(),
            hashlib.sha256(OTHER_PROMPT.encode()).hexdigest(),
            "d" * 64,
        ]
    assert "zq-sentinel" not in _database_text(app)


def test_the_report_shows_the_tool_the_grants_and_the_contributions(
    studio: Studio, work: Path
) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_with_record(studio, assets.make_png(work), grant["id"], title="Lighthouse")
    studio.post(f"/v1/grants/{grant['id']}/suspend", json={"reason": "review"})
    response = studio.get(f"/v1/media/{asset['id']}/record")
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    report = response.json

    assert report["media"]["id"] == asset["id"]
    assert report["media"]["title"] == "Lighthouse"
    assert report["media"]["sha256"] == asset["sha256"]
    generator = report["generator"]
    assert generator["id"] == studio.generator_id
    assert (generator["name"], generator["version"]) == ("VoiceForge", "2.1")
    assert generator["state"] == "approved"
    assert generator["approved_by"] == "test"
    assert generator["risk_class"] == "low"
    assert generator["training_data"] == "licensed"
    assert report["generator_now"]["id"] == studio.generator_id
    [cited] = report["grants"]
    assert cited["grant_id"] == grant["id"]
    assert cited["subject_id"] == grant["subject_id"]
    assert (cited["status_at_signing"], cited["status_now"]) == ("active", "suspended")
    assert cited["token_sha256"] == hashlib.sha256(grant["token"].encode()).hexdigest()
    assert report["human"] == [CUT, DIRECTION]
    assert report["inputs"] == [{"sha256": "c" * 64, "label": "reference still"}]
    assert report["prompts"]["count"] == 2 and report["prompts"]["text_kept"] is True
    assert report["signed_at"]

    # The tool is recorded as it stood: retiring it later changes only generator_now.
    studio.post(f"/v1/generators/{studio.generator_id}/retire", json={})
    later = studio.get(f"/v1/media/{asset['id']}/record").json
    assert later["generator"]["state"] == "approved"
    assert later["generator_now"]["state"] == "retired"


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?format=html", {}), ("", {"Accept": "text/html"})],
    ids=["query", "accept"],
)
def test_the_report_as_a_printable_page(
    studio: Studio, work: Path, query: str, headers: dict[str, str]
) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_with_record(studio, assets.make_png(work), grant["id"])
    page = studio.get(f"/v1/media/{asset['id']}/record{query}", headers=headers)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    text = page.get_data(as_text=True)
    for expected in (
        "VoiceForge 2.1",
        "VoiceForge Labs",
        grant["id"],
        "cut and color grade",
        "performance direction",
        "director",
        hashlib.sha256(PROMPT.encode()).hexdigest(),
        "reference still",
    ):
        assert expected in text
    assert (
        studio.get(
            f"/v1/media/{asset['id']}/record", headers={"Accept": "application/json"}
        ).mimetype
        == "application/json"
    )


def test_another_organizations_record_is_not_found(
    studio: Studio, other_studio: Studio, work: Path
) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_with_record(studio, assets.make_png(work), grant["id"])
    for query in ("", "?format=html"):
        assert_problem(
            other_studio.get(f"/v1/media/{asset['id']}/record{query}"), 404, "media-not-found"
        )
    assert_problem(studio.get("/v1/media/not-an-id/record"), 404, "media-not-found")
    assert_problem(
        studio.get(f"/v1/media/{asset['id']}/record?format=pdf"), 422, "validation-error"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"keep_prompt_text": True, "prompts": []},
        {"human": [{**CUT, "action": "vibing"}]},
        {"human": [{"role": "editor", "action": "editing"}]},
        {"prompt_sha256": ["not-a-digest"]},
        {"inputs": [{"sha256": "C" * 64}]},
        {"surprise": True},
    ],
    ids=[
        "keep-without-text",
        "unknown-action",
        "no-description",
        "bad-digest",
        "bad-input",
        "extra",
    ],
)
def test_a_malformed_creation_record_is_refused_and_nothing_written(
    studio: Studio,
    work: Path,
    counts: Callable[[], dict[str, int]],
    blobs: Callable[[], list[str]],
    bad: dict[str, Any],
) -> None:
    grant = studio.grant(media_types=["image"])
    before, stored = counts(), blobs()
    response = sign_upload(
        studio, assets.make_png(work), metadata(grant["id"], creation=creation(**bad))
    )
    assert_problem(response, 422, "validation-error")
    assert counts() == before and blobs() == stored
