"""`registry generators ...`, `registry sign --generator-id ... --human ...`, `registry record`
and `registry demo`'s approved generator, against a live server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from registry.cli import main
from registry.client import parse_human
from registry.settings import Settings
from tests.factories import Studio
from tests.media import assets


def _run(live_server: str, studio: Studio, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=studio.cli_env(live_server))


def test_the_inventory_from_the_command_line(live_server: str, studio: Studio) -> None:
    created = _run(
        live_server,
        studio,
        "generators",
        "create",
        "--name",
        "SoundSmith",
        "--version",
        "4",
        "--provider",
        "SoundSmith AB",
        "--training-data",
        "public_domain",
        "--risk-class",
        "medium",
        "--modality",
        "audio",
        "--documentation-url",
        "https://soundsmith.example/card",
        "--json",
    )
    assert created.exit_code == 0, created.output
    entry = json.loads(created.stdout)
    assert (entry["state"], entry["modalities"]) == ("pending", ["audio"])
    gid = entry["id"]

    listed = _run(live_server, studio, "generators", "list", "--state", "pending")
    assert f"{gid}  SoundSmith@4  pending" in listed.stdout
    approved = _run(live_server, studio, "generators", "approve", gid, "--approver", "CTO")
    assert approved.exit_code == 0, approved.output
    assert "[approved]" in approved.stdout and "approved_by          CTO" in approved.stdout
    updated = _run(live_server, studio, "generators", "update", gid, "--risk-class", "high")
    assert "[pending]" in updated.stdout and "high" in updated.stdout
    shown = _run(live_server, studio, "generators", "show", gid, "--json")
    assert json.loads(shown.stdout)["risk_class"] == "high"
    retired = _run(live_server, studio, "generators", "retire", gid, "--reason", "replaced")
    assert "[retired]" in retired.stdout
    again = _run(live_server, studio, "generators", "retire", gid)
    assert again.exit_code == 1 and "retired" in again.output


def test_sign_with_a_generator_id_and_human_contributions(
    live_server: str, studio: Studio, work: Path
) -> None:
    grant = studio.grant()
    take, reference = assets.make_wav(work), assets.make_png(work)
    signed = _run(
        live_server,
        studio,
        "sign",
        str(take),
        "--grant",
        grant["id"],
        "--modality",
        "voice",
        "--purpose",
        "advertising",
        "--territory",
        "US",
        "--generator-id",
        studio.generator_id,
        "--human",
        "editing: cut and color grade",
        "--human",
        "director/performance direction: chose the third take",
        "--prompt",
        "zq-cli-prompt a warm radio voice",
        "--input",
        str(reference),
        "--json",
    )
    assert signed.exit_code == 0, signed.output
    media_id = json.loads(signed.stdout)["id"]

    record = _run(live_server, studio, "record", media_id)
    assert record.exit_code == 0, record.output
    report = json.loads(record.stdout)
    assert report["generator"]["id"] == studio.generator_id
    assert report["human"] == [
        {"role": "contributor", "action": "editing", "description": "cut and color grade"},
        {
            "role": "director",
            "action": "performance_direction",
            "description": "chose the third take",
        },
    ]
    # The CLI sends the prompt's digest only; its text never reaches the registry.
    digest = hashlib.sha256(b"zq-cli-prompt a warm radio voice").hexdigest()
    assert report["prompts"] == {"count": 1, "sha256": [digest], "text_kept": False}
    assert report["inputs"] == [
        {"sha256": hashlib.sha256(reference.read_bytes()).hexdigest(), "label": reference.name}
    ]
    page = work / "record.html"
    printed = _run(live_server, studio, "record", media_id, "--html", str(page))
    assert printed.exit_code == 0, printed.output
    assert "chose the third take" in page.read_text()

    with studio.registry_client(live_server) as registry:
        assert registry.media_record(media_id) == report
        registry.download(media_id, work / "signed.wav")
    verified = _run(live_server, studio, "verify", str(work / "signed.wav"))
    assert verified.exit_code == 0, verified.output
    assert (
        "made with VoiceForge 2.1 by VoiceForge Labs (training data: licensed)" in verified.output
    )
    assert "by a person (director): performance direction, chose the third take" in verified.output


def test_sign_refuses_a_malformed_human_contribution_or_two_generators(
    live_server: str, studio: Studio, work: Path
) -> None:
    base = ["sign", str(assets.make_wav(work)), "--grant", "g", "--modality", "voice"]
    base += ["--purpose", "ads", "--territory", "US"]
    bad_human = _run(live_server, studio, *base, "--generator-id", "x", "--human", "vibing: yes")
    assert bad_human.exit_code == 2 and "ACTION" in bad_human.output
    both = _run(live_server, studio, *base, "--generator-id", "x", "--generator", "A@1")
    assert both.exit_code == 2 and "exactly one" in both.output
    neither = _run(live_server, studio, *base)
    assert neither.exit_code == 2 and "exactly one" in neither.output


def test_parse_human() -> None:
    assert parse_human("editor/editing: cut") == {
        "role": "editor",
        "action": "editing",
        "description": "cut",
    }
    for bad in ("editing", "editing:", "dancing: a jig", "/: x"):
        try:
            parse_human(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_demo_starts_with_an_approved_generator(settings: Settings, client: FlaskClient) -> None:
    env = {
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "REGISTRY_DATABASE_URL": str(settings.database_url),
    }
    result = CliRunner().invoke(main, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    lines = dict(line.strip().split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    token = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": lines["REGISTRY_CLIENT_ID"],
            "client_secret": lines["REGISTRY_CLIENT_SECRET"],
        },
    ).json["access_token"]
    entry = client.get(
        f"/v1/generators/{lines['generator_id']}", headers={"Authorization": f"Bearer {token}"}
    ).json
    assert (entry["name"], entry["version"], entry["state"]) == ("VoiceForge", "2.1", "approved")
