"""POST /v1/media: a signed file carries our manifest and reads back Trusted with plain c2pa."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import c2pa
import pytest
from flask import Flask

from registry.keys.c2pa_credential import DEV_CA_FILE
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio
from tests.media import assets
from tests.media.conftest import metadata, sign_upload

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
FORMATS = {
    "image/jpeg": ("image", assets.make_jpeg),
    "image/png": ("image", assets.make_png),
    "audio/wav": ("audio", assets.make_wav),
    "audio/mpeg": ("audio", assets.make_mp3),
    "video/mp4": ("video", assets.make_mp4),
}


def read_plain(data: bytes, mime_type: str, ca_pem: str | None) -> dict[str, Any]:
    """The manifest store as a plain c2pa.Reader sees it, trusting only ``ca_pem``."""
    settings = {"trust": {"user_anchors": ca_pem}} if ca_pem else {}
    with (
        c2pa.Context.from_dict(settings) as context,
        c2pa.Reader(mime_type, io.BytesIO(data), context=context) as reader,
    ):
        return json.loads(reader.json())  # type: ignore[no-any-return]


def download(studio: Studio, media_id: str) -> bytes:
    response = studio.get(f"/v1/media/{media_id}/content")
    if response.status_code == 302:
        import urllib.request

        with urllib.request.urlopen(response.headers["Location"]) as remote:  # noqa: S310 - loopback S3
            return remote.read()  # type: ignore[no-any-return]
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data()


def dev_ca(settings: Settings) -> str:
    return (settings.keys_dir / "c2pa" / DEV_CA_FILE).read_text()  # type: ignore[operator]


@pytest.mark.parametrize("mime_type", sorted(FORMATS))
def test_signed_file_is_trusted_and_carries_every_assertion(
    studio: Studio, settings: Settings, work: Path, mime_type: str
) -> None:
    kind, make = FORMATS[mime_type]
    grant = studio.grant(media_types=[kind], territories=["US"])
    source = make(work)
    response = sign_upload(studio, source, metadata(grant["id"], title="Spot 1"))
    assert response.status_code == 201, response.json
    asset = response.json
    assert asset["mime_type"] == mime_type
    assert asset["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert asset["grant_ids"] == [grant["id"]]

    signed = download(studio, asset["id"])
    assert hashlib.sha256(signed).hexdigest() == asset["sha256"] and len(signed) == asset["size"]
    store = read_plain(signed, mime_type, dev_ca(settings))
    assert store["validation_state"] == "Trusted"
    manifest = store["manifests"][store["active_manifest"]]
    assert store["active_manifest"] == asset["manifest_id"]
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}

    created = assertions["c2pa.actions.v2"]["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == IPTC + "trainedAlgorithmicMedia"
    assert created["softwareAgent"] == {"name": "VoiceForge", "version": "2.1"}

    training = assertions["cawg.training-mining"]["entries"]
    assert {e["use"] for e in training.values()} == {"notAllowed"}
    assert set(training) == {
        "cawg.ai_generative_training",
        "cawg.ai_training",
        "cawg.data_mining",
        "cawg.ai_inference",
    }

    consent = assertions["org.consentregistry.consent"]
    [cited] = consent["grants"]
    assert cited["grant_id"] == grant["id"]
    assert cited["sha256"] == hashlib.sha256(grant["token"].encode()).hexdigest()
    assert (cited["modalities"], cited["purpose"], cited["territory"]) == (
        ["voice"],
        "advertising",
        "US",
    )
    assert "Ada" not in json.dumps(consent)

    disclosure = assertions["org.consentregistry.disclosure"]
    assert disclosure["sb942"]["provider"] == "Northwind Studios"
    assert disclosure["sb942"]["system_name"] == "VoiceForge"
    assert disclosure["sb942"]["system_version"] == "2.1"
    assert disclosure["sb942"]["content_id"] == asset["id"]
    assert disclosure["sb942"]["created_at"]
    assert disclosure["gb45438"]["AIGC"] == {
        "Label": "1",
        "ContentProducer": studio.org_id,
        "ProduceID": asset["id"],
    }
    assert "thumbnail" not in manifest


def test_without_trust_anchors_the_file_is_valid_but_untrusted(studio: Studio, work: Path) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_upload(studio, assets.make_png(work), metadata(grant["id"])).json
    store = read_plain(download(studio, asset["id"]), "image/png", None)
    assert store["validation_state"] == "Valid"
    failures = {s["code"] for s in store["validation_results"]["activeManifest"]["failure"]}
    assert "signingCredential.untrusted" in failures


def test_composite_source_type_and_training_allowed(
    studio: Studio, settings: Settings, work: Path
) -> None:
    grant = studio.grant(
        media_types=["image"], operations=["generate", "train"], training="allowed"
    )
    meta = metadata(grant["id"], digital_source_type="compositeWithTrainedAlgorithmicMedia")
    asset = sign_upload(studio, assets.make_jpeg(work), meta).json
    store = read_plain(download(studio, asset["id"]), "image/jpeg", dev_ca(settings))
    assertions = {
        a["label"]: a["data"] for a in store["manifests"][store["active_manifest"]]["assertions"]
    }
    source_type = assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"]
    assert source_type == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert {e["use"] for e in assertions["cawg.training-mining"]["entries"].values()} == {"allowed"}


def test_media_signed_writes_an_audit_event_and_a_row(
    studio: Studio, work: Path, counts: Callable[[], dict[str, int]]
) -> None:
    grant = studio.grant(media_types=["image"])
    before = counts()
    asset = sign_upload(studio, assets.make_png(work), metadata(grant["id"])).json
    after = counts()
    assert after["media_assets"] == before["media_assets"] + 1
    events = studio.get("/v1/audit/events?action=media.signed").json["items"]
    assert [e["object_id"] for e in events] == [asset["id"]]
    assert events[0]["payload"]["sha256"] == asset["sha256"]


def test_a_grant_valid_from_earlier_this_second_covers_signing_now(
    studio: Studio, work: Path
) -> None:
    # A pipeline that registers a grant and signs at once: the grant became valid a fraction
    # of a second ago, so comparing with a time truncated to the second refused it. Only a
    # signing that ends within the grant's second tells; on a loaded machine one may not, so
    # a few tries (each must sign), of which one must end in time.
    timely = 0
    for _ in range(5):
        while datetime.now(UTC).microsecond > 100_000:  # well clear of the next second
            time.sleep(0.01)
        start_of_second = datetime.now(UTC).replace(microsecond=0)
        valid_from = start_of_second + timedelta(microseconds=1)
        grant = studio.grant(media_types=["image"], valid_from=valid_from.isoformat())

        response = sign_upload(studio, assets.make_png(work), metadata(grant["id"]))

        assert response.status_code == 201, response.json
        if datetime.now(UTC) < start_of_second + timedelta(seconds=1):
            timely += 1
            break
    assert timely, "no signing ended within its grant's second: too slow to tell"


def test_get_media_returns_the_asset(studio: Studio, work: Path) -> None:
    grant = studio.grant(media_types=["image"])
    asset = sign_upload(studio, assets.make_png(work), metadata(grant["id"])).json
    assert studio.get(f"/v1/media/{asset['id']}").json == asset


def test_temporary_files_are_removed_after_signing(
    studio: Studio, work: Path, spool_dir: Path
) -> None:
    grant = studio.grant(media_types=["image"])
    assert sign_upload(studio, assets.make_png(work), metadata(grant["id"])).status_code == 201
    assert list(spool_dir.iterdir()) == []


def test_thumbnails_can_be_turned_on(
    app: Flask, studio: Studio, settings: Settings, work: Path
) -> None:
    state = state_of(app)
    state.signing = dataclasses.replace(state.signing, thumbnails=True)
    grant = studio.grant(media_types=["image"])
    asset = sign_upload(studio, assets.make_jpeg(work), metadata(grant["id"])).json
    store = read_plain(download(studio, asset["id"]), "image/jpeg", dev_ca(settings))
    assert "thumbnail" in store["manifests"][store["active_manifest"]]
