"""`registry sign --local`, the media list, and media signed locally in watches, takedowns and
creation records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from registry.cli import main
from registry.media.reconcile import reconcile_storage
from registry.state import state_of
from tests.factories import Studio, assert_problem
from tests.local_signing.conftest import capture, citation, post_signature
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.verification.conftest import verify


def _cli_args(grant_id: str, *extra: str) -> list[str]:
    return [
        "--grant", grant_id, "--modality", "voice", "--purpose", "advertising",
        "--territory", "US", "--generator", "VoiceForge@2.1", *extra,
    ]  # fmt: skip


def test_cli_signs_locally(
    live_server: str, studio: Studio, client: FlaskClient, grant: dict[str, Any], work: Path
) -> None:
    source = assets.make_jpeg(work, size=(256, 256))
    result = CliRunner().invoke(
        main,
        ["sign", str(source), "--local", "--fingerprint", *_cli_args(grant["id"])],
        env=studio.cli_env(live_server),
    )
    assert result.exit_code == 0, result.output
    out = source.with_name(f"{source.stem}.signed{source.suffix}")
    assert "signed here, not uploaded" in result.output and str(out) in result.output
    assert verify(client, out).json["verdict"] == "pass"
    # The fingerprints it sent find the file once its label is stripped (a re-encode).
    from PIL import Image

    copy = work / "reupload.png"
    Image.open(out).convert("RGB").save(copy)
    recovered = verify(client, copy).json
    assert recovered["verdict"] == "warn"
    assert recovered["recovered"]["method"] == "fingerprint"


def test_cli_reports_a_refusal_and_writes_nothing(
    live_server: str, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    source = assets.make_jpeg(work)
    out = work / "out.jpg"
    result = CliRunner().invoke(
        main,
        ["sign", str(source), "--local", "--out", str(out), *_cli_args(grant["id"])],
        env=studio.cli_env(live_server),
    )
    assert result.exit_code == 1
    assert "revoked" in result.output
    assert not out.exists()


def test_media_list_pages_and_filters(
    live_server: str, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    other_grant = studio.grant(media_types=["image", "audio", "video"])
    uploaded = sign_upload(studio, assets.make_wav(work), metadata(grant["id"])).json
    with studio.registry_client(live_server) as registry:
        local = registry.sign_local(
            assets.make_jpeg(work), work / "a.jpg", citation(other_grant["id"]), "VoiceForge@2.1"
        )
        listed = list(registry.list_media())
    assert [(m.id, m.stored) for m in listed] == [(uploaded["id"], True), (local.id, False)]
    first = studio.get("/v1/media?limit=1").json
    assert [m["id"] for m in first["items"]] == [uploaded["id"]]
    assert first["items"][0]["download_url"] == f"/v1/media/{uploaded['id']}/content"
    second = studio.get(f"/v1/media?limit=1&cursor={first['next_cursor']}").json
    assert [m["id"] for m in second["items"]] == [local.id] and second["next_cursor"] is None
    by_grant = studio.get(f"/v1/media?grant_id={other_grant['id']}").json
    assert [m["id"] for m in by_grant["items"]] == [local.id]
    created = local.created_at.replace("+00:00", "Z")
    after = studio.get("/v1/media", query_string={"created_after": created}).json
    assert local.id in [m["id"] for m in after["items"]]
    before = studio.get("/v1/media", query_string={"created_before": "2000-01-01T00:00:00Z"})
    assert before.json["items"] == []
    assert_problem(studio.get("/v1/media?cursor=zzz"), 422, "validation-error")
    naive = studio.get("/v1/media", query_string={"created_after": "2026-01-01T00:00:00"})
    assert_problem(naive, 422, "validation-error")


def test_watches_and_takedowns_cover_media_signed_locally(
    studio: Studio, other_studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    signed = post_signature(studio, captured.session["id"], captured.manifest).json["media"]
    watch = other_studio.post("/v1/watches", json={"manifest_id": signed["manifest_id"]})
    assert watch.status_code == 201, watch.json
    by_source = other_studio.post("/v1/watches", json={"sha256": signed["source_sha256"]})
    assert by_source.status_code == 201, by_source.json
    revoked = studio.post(
        f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn", "effect": "unpublish"}
    )
    assert revoked.status_code == 200, revoked.json
    notices = other_studio.get("/v1/takedowns").json["items"]
    assert [(n["manifest_id"], n["sha256"]) for n in notices] == [(signed["manifest_id"], None)]
    citing = studio.get(f"/v1/grants/{grant['id']}/media").json["items"]
    assert [m["id"] for m in citing] == [signed["id"]]
    assert citing[0]["takedown_requested_at"] is not None
    events = other_studio.get("/v1/webhook-events").json["items"]
    assert {"media.consent_changed", "takedown.requested"} <= {e["type"] for e in events}


def test_reconcile_finds_nothing_missing_for_media_signed_locally(
    app: Flask, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    captured = capture(studio, grant["id"], assets.make_jpeg(work), work)
    assert post_signature(studio, captured.session["id"], captured.manifest).status_code == 200
    state = state_of(app)
    with state.database.session_scope() as session:
        found = reconcile_storage(session, state.storage, repair=False)
    assert found.consistent, found


@pytest.mark.parametrize("flag", [["--fingerprint"], ["--source-sha256", "0" * 64]])
def test_cli_local_options_need_local(
    live_server: str, studio: Studio, grant: dict[str, Any], work: Path, flag: list[str]
) -> None:
    source = assets.make_jpeg(work)
    result = CliRunner().invoke(
        main, ["sign", str(source), *flag, *_cli_args(grant["id"])], env=studio.cli_env(live_server)
    )
    assert result.exit_code == 2
    assert "go with --local" in result.output
    assert studio.get("/v1/media").json["items"] == []


def test_the_record_of_a_locally_signed_work(
    live_server: str, studio: Studio, grant: dict[str, Any], work: Path
) -> None:
    source = assets.make_jpeg(work)
    source_sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    with studio.registry_client(live_server) as registry:
        media = registry.sign_local(
            source, work / "signed.jpg", citation(grant["id"]), "VoiceForge@2.1"
        )
    response = studio.get(f"/v1/media/{media.id}/record")
    assert response.status_code == 200, response.json
    report = response.json
    assert report["media"]["id"] == media.id
    assert report["media"]["sha256"] is None
    assert report["media"]["source_sha256"] == source_sha256
    assert [cited["grant_id"] for cited in report["grants"]] == [grant["id"]]
    page = studio.get(f"/v1/media/{media.id}/record?format=html")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert source_sha256 in text
    assert "not kept (signed where it lives)" in text
    assert "None" not in text
    # `registry record`, and its printable page.
    printed = CliRunner().invoke(main, ["record", media.id], env=studio.cli_env(live_server))
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == report
    out = work / "record.html"
    written = CliRunner().invoke(
        main, ["record", media.id, "--html", str(out)], env=studio.cli_env(live_server)
    )
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8") == text
