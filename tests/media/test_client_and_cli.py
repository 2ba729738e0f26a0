"""The pipeline side: RegistryClient and `registry sign` against a live server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.client import GrantCitation, RegistryApiError, RegistryClient, RegistryUnreachable
from registry.errors import problem_type
from tests.factories import Studio
from tests.media import assets


def test_client_signs_and_downloads(live_server: str, studio: Studio, work: Path) -> None:
    grant = studio.grant()
    source = assets.make_wav(work, seconds=3)
    seen: list[tuple[int, int]] = []
    with studio.registry_client(live_server) as registry:
        asset = registry.sign_media(
            source,
            [GrantCitation(grant["id"], ("voice",), "advertising", "US")],
            "VoiceForge@2.1",
            progress=lambda done, total: seen.append((done, total)),
        )
        out = registry.download(asset.id, work / "signed.wav")
        assert registry.get_media(asset.id) == asset
    assert asset.grant_ids == [grant["id"]]
    assert hashlib.sha256(out.read_bytes()).hexdigest() == asset.sha256
    assert seen[-1] == (source.stat().st_size, source.stat().st_size)


def test_client_raises_the_problem_of_a_refusal(
    live_server: str, studio: Studio, work: Path
) -> None:
    grant = studio.grant()
    studio.post(f"/v1/grants/{grant['id']}/revoke", json={"reason": "withdrawn"})
    with studio.registry_client(live_server) as registry, pytest.raises(RegistryApiError) as caught:
        registry.sign_media(
            assets.make_wav(work),
            [GrantCitation(grant["id"], ("voice",), "advertising", "US")],
            "VoiceForge@2.1",
        )
    assert caught.value.status == 422
    assert caught.value.type == problem_type("grant-revoked")
    assert grant["id"] in str(caught.value)


def test_client_reports_bad_credentials_and_unreachable_servers(
    live_server: str, studio: Studio, work: Path
) -> None:
    with (
        RegistryClient(live_server, studio.client_id, "wrong") as registry,
        pytest.raises(RegistryApiError) as caught,
    ):
        registry.access_token()
    assert caught.value.status == 401
    with (
        RegistryClient("http://127.0.0.1:1", "x", "y") as registry,
        pytest.raises(RegistryUnreachable),
    ):
        registry.access_token()


def test_cli_sign_writes_the_signed_file(live_server: str, studio: Studio, work: Path) -> None:
    grant = studio.grant(media_types=["image"])
    source, out = assets.make_png(work), work / "signed.png"
    result = CliRunner().invoke(
        main,
        [
            "sign",
            str(source),
            "--grant",
            grant["id"],
            "--modality",
            "voice",
            "--purpose",
            "advertising",
            "--territory",
            "US",
            "--generator",
            "VoiceForge@2.1",
            "--out",
            str(out),
        ],
        env=studio.cli_env(live_server),
    )
    assert result.exit_code == 0, result.output
    assert "signed: media" in result.output
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256   {digest}" in result.output


def test_cli_sign_explains_a_refusal(live_server: str, studio: Studio, work: Path) -> None:
    grant = studio.grant()
    result = CliRunner().invoke(
        main,
        [
            "sign",
            str(assets.make_wav(work)),
            "--grant",
            grant["id"],
            "--modality",
            "voice",
            "--purpose",
            "advertising",
            "--territory",
            "FR",
            "--generator",
            "VoiceForge@2.1",
        ],
        env=studio.cli_env(live_server),
    )
    assert result.exit_code == 1
    assert "outside a cited grant's scope" in result.output
    assert "territory FR is not granted" in result.output


def test_cli_sign_rejects_a_malformed_generator(
    live_server: str, studio: Studio, work: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "sign",
            str(assets.make_wav(work)),
            "--grant",
            "g",
            "--modality",
            "voice",
            "--purpose",
            "ads",
            "--territory",
            "US",
            "--generator",
            "no-version",
        ],
        env=studio.cli_env(live_server),
    )
    assert result.exit_code == 2
    assert "NAME@VERSION" in result.output
