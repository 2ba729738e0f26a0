"""Signing and reading C2PA manifests with real c2pa-python, for every supported format."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import c2pa
import pytest

from registry.c2pa.adapter import ManifestReport, SignResult, read_manifest, sign_file
from registry.c2pa.errors import ManifestSigningFailed, ManifestUnreadable
from registry.errors import problem_type
from registry.intake.errors import MalformedMedia, UnsupportedMedia
from registry.intake.sniff import SUPPORTED_MIME_TYPES
from registry.keys.c2pa_credential import DevCredential, SigningCredential, create_dev_credential
from tests.media.assets import (
    MAKERS,
    flip_payload_byte,
    garbage,
    make_jpeg,
    make_large_mp4,
    make_mp4,
)

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
FORMATS = sorted(MAKERS)
TRAINING_ENTRIES = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.data_mining",
    "cawg.ai_inference",
)


def representative_manifest() -> dict[str, Any]:
    """The shape the domain builds (see "C2PA manifest profile" in docs/architecture.md)."""
    return {
        "claim_generator_info": [{"name": "consent-registry", "version": "0.1.0"}],
        "title": "generated media",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED,
                            "softwareAgent": {"name": "voice-studio", "version": "2.1"},
                            "when": "2025-06-01T12:00:00Z",
                        }
                    ]
                },
            },
            {
                "label": "cawg.training-mining",
                "data": {"entries": {name: {"use": "notAllowed"} for name in TRAINING_ENTRIES}},
            },
            {
                "label": "org.consentregistry.consent",
                "data": {
                    "registry": "https://registry.example",
                    "grants": [
                        {
                            "grant_id": "gr_01J0000000000000000000000",
                            "sha256": "ab" * 32,
                            "modalities": ["voice"],
                            "purpose": "advertising",
                            "territory": "FR",
                        }
                    ],
                },
            },
            {
                "label": "org.consentregistry.disclosure",
                "data": {
                    "provider": "Example Studio",
                    "system": {"name": "voice-studio", "version": "2.1"},
                    "created_at": "2025-06-01T12:00:00Z",
                    "unique_id": "urn:uuid:6f1c2f5e-0000-4000-8000-000000000000",
                    "Label": "1",
                    "ContentProducer": "Example Studio",
                    "ProduceID": "asset-42",
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> DevCredential:
    return create_dev_credential(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def other_dev(tmp_path_factory: pytest.TempPathFactory) -> DevCredential:
    return create_dev_credential(tmp_path_factory.mktemp("other-keys"), label="second")


def _sign(
    directory: Path, mime_type: str, credential: SigningCredential, source: Path | None = None
) -> tuple[Path, Path, SignResult]:
    source = source or MAKERS[mime_type](directory)
    dest = directory / f"signed-{source.name}"
    result = sign_file(
        source=source,
        dest=dest,
        mime_type=mime_type,
        manifest=representative_manifest(),
        credential=credential,
    )
    return source, dest, result


def _read(path: Path, mime_type: str, anchors: str | None) -> ManifestReport:
    return read_manifest(path=path, mime_type=mime_type, trust_anchors_pem=anchors)


def test_every_supported_type_is_one_c2pa_signs_and_reads() -> None:
    assert set(SUPPORTED_MIME_TYPES) <= set(c2pa.Builder.get_supported_mime_types())
    assert set(SUPPORTED_MIME_TYPES) <= set(c2pa.Reader.get_supported_mime_types())


@pytest.mark.parametrize("mime_type", FORMATS)
def test_signed_file_is_trusted_under_the_dev_ca(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    _, dest, result = _sign(tmp_path, mime_type, dev.credential)
    report = _read(dest, mime_type, dev.ca_pem)

    assert report.has_manifest and report.validation_state == "Trusted"
    assert report.failure_codes == set()
    assert report.active_manifest_label == result.manifest_label
    assert result.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert result.size == dest.stat().st_size


@pytest.mark.parametrize("mime_type", FORMATS)
def test_every_assertion_survives_signing(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    _, dest, _ = _sign(tmp_path, mime_type, dev.credential)
    report = _read(dest, mime_type, dev.ca_pem)

    (created,) = report.actions
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED
    assert created["softwareAgent"] == {"name": "voice-studio", "version": "2.1"}
    expected = {a["label"]: a["data"] for a in representative_manifest()["assertions"][1:]}
    for label, data in expected.items():
        assert report.assertions[label] == data
    assert report.signer is not None
    assert "DEVELOPMENT ONLY" in (report.signer.common_name or "")
    assert report.claim_generator == "consent-registry/0.1.0"


def test_actions_are_stored_under_the_v2_label(tmp_path: Path, dev: DevCredential) -> None:
    _, dest, _ = _sign(tmp_path, "image/jpeg", dev.credential)
    assert set(_read(dest, "image/jpeg", dev.ca_pem).assertions) == {
        "c2pa.actions.v2",
        "cawg.training-mining",
        "org.consentregistry.consent",
        "org.consentregistry.disclosure",
    }


@pytest.mark.parametrize("mime_type", FORMATS)
def test_without_anchors_a_good_file_is_valid_but_untrusted(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    _, dest, _ = _sign(tmp_path, mime_type, dev.credential)
    report = _read(dest, mime_type, None)
    assert report.validation_state == "Valid"
    assert report.failure_codes == {"signingCredential.untrusted"}


def test_file_from_another_ca_is_not_trusted(
    tmp_path: Path, dev: DevCredential, other_dev: DevCredential
) -> None:
    _, dest, _ = _sign(tmp_path, "image/jpeg", other_dev.credential)
    report = _read(dest, "image/jpeg", dev.ca_pem)
    assert report.validation_state == "Valid"
    assert "signingCredential.untrusted" in report.failure_codes


@pytest.mark.parametrize("mime_type", FORMATS)
def test_one_flipped_media_byte_is_an_integrity_failure(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    source, dest, _ = _sign(tmp_path, mime_type, dev.credential)
    report = _read(flip_payload_byte(signed=dest, source=source), mime_type, dev.ca_pem)
    assert report.validation_state == "Invalid"
    mismatches = {code for code in report.failure_codes if code.endswith("Hash.mismatch")}
    assert mismatches, report.failure_codes  # assertion.dataHash / assertion.bmffHash


@pytest.mark.parametrize("mime_type", FORMATS)
def test_file_without_a_manifest_reports_none(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    report = _read(MAKERS[mime_type](tmp_path), mime_type, dev.ca_pem)
    assert report == ManifestReport(has_manifest=False)


def _assert_malformed(caught: pytest.ExceptionInfo[MalformedMedia], dest: Path) -> None:
    assert caught.value.status == 422
    assert caught.value.type == problem_type("malformed-media")
    assert not dest.exists()


@pytest.mark.parametrize(
    "mime_type",
    [
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/wav",
        "audio/mp4",
        "video/mp4",
        "video/quicktime",
    ],
)
def test_truncated_input_is_malformed_media(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    source = MAKERS[mime_type](tmp_path)
    source.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(MalformedMedia) as caught:
        _sign(tmp_path, mime_type, dev.credential, source=source)
    _assert_malformed(caught, tmp_path / f"signed-{source.name}")


@pytest.mark.parametrize("mime_type", FORMATS)
def test_garbage_input_is_malformed_media(
    tmp_path: Path, dev: DevCredential, mime_type: str
) -> None:
    source = tmp_path / "garbage.bin"
    source.write_bytes(garbage(mime_type, 5000))
    with pytest.raises(MalformedMedia) as caught:
        _sign(tmp_path, mime_type, dev.credential, source=source)
    _assert_malformed(caught, tmp_path / "signed-garbage.bin")


@pytest.mark.parametrize("mime_type", ["image/jpeg", "image/png", "video/mp4", "audio/flac"])
def test_empty_input_is_malformed_media(tmp_path: Path, dev: DevCredential, mime_type: str) -> None:
    source = tmp_path / "empty.bin"
    source.touch()
    with pytest.raises(MalformedMedia) as caught:
        _sign(tmp_path, mime_type, dev.credential, source=source)
    _assert_malformed(caught, tmp_path / "signed-empty.bin")


def test_unsupported_type_is_refused_before_signing(tmp_path: Path, dev: DevCredential) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        _sign(tmp_path, "image/gif", dev.credential, source=make_jpeg(tmp_path))
    assert caught.value.status == 415
    assert caught.value.to_problem()["supported"] == list(SUPPORTED_MIME_TYPES)


def test_key_that_does_not_match_the_chain_is_a_signing_failure(
    tmp_path: Path, dev: DevCredential, other_dev: DevCredential
) -> None:
    mismatched = SigningCredential(
        cert_chain_pem=other_dev.credential.cert_chain_pem,
        private_key_pem=dev.credential.private_key_pem,
    )
    with pytest.raises(ManifestSigningFailed) as caught:
        _sign(tmp_path, "image/jpeg", mismatched)
    assert caught.value.status == 500
    assert caught.value.type == problem_type("signing-failed")
    assert not list(tmp_path.glob("signed-*"))


@pytest.mark.parametrize("mime_type", ["image/jpeg", "image/png", "video/mp4"])
def test_garbage_cannot_be_read(tmp_path: Path, dev: DevCredential, mime_type: str) -> None:
    path = tmp_path / "garbage"
    path.write_bytes(garbage("unreadable", 5000))
    with pytest.raises(ManifestUnreadable) as caught:
        _read(path, mime_type, dev.ca_pem)
    assert caught.value.status == 422
    assert caught.value.type == problem_type("manifest-unreadable")


def test_thumbnails_are_left_out_unless_asked(tmp_path: Path, dev: DevCredential) -> None:
    source = make_jpeg(tmp_path)
    for thumbnails in (False, True):
        dest = tmp_path / f"thumbnails-{thumbnails}.jpg"
        sign_file(
            source=source,
            dest=dest,
            mime_type="image/jpeg",
            manifest=representative_manifest(),
            credential=dev.credential,
            thumbnails=thumbnails,
        )
        report = _read(dest, "image/jpeg", dev.ca_pem)
        assert report.manifest_store is not None
        active = report.manifest_store["manifests"][report.active_manifest_label]
        assert ("thumbnail" in active) is thumbnails


def test_a_label_chosen_by_the_caller_is_kept(tmp_path: Path, dev: DevCredential) -> None:
    label = "urn:c2pa:2f1b8c1e-4b0e-4c39-9d55-5b1f3f0e2a10"
    dest = tmp_path / "signed.jpg"
    result = sign_file(
        source=make_jpeg(tmp_path),
        dest=dest,
        mime_type="image/jpeg",
        manifest={**representative_manifest(), "label": label},
        credential=dev.credential,
    )
    assert result.manifest_label == label
    assert _read(dest, "image/jpeg", dev.ca_pem).active_manifest_label == label


def test_large_mp4_is_signed_and_verified(tmp_path: Path, dev: DevCredential) -> None:
    _, dest, result = _sign(
        tmp_path, "video/mp4", dev.credential, make_large_mp4(tmp_path, megabytes=8)
    )
    assert result.size > 8 * 1024 * 1024
    assert _read(dest, "video/mp4", dev.ca_pem).validation_state == "Trusted"


def test_threads_can_sign_at_the_same_time(tmp_path: Path, dev: DevCredential) -> None:
    sources = [make_mp4(directory) for directory in _subdirectories(tmp_path, 8)]

    def sign_and_read(source: Path) -> str | None:
        dest = source.with_name("signed.mp4")
        sign_file(
            source=source,
            dest=dest,
            mime_type="video/mp4",
            manifest=representative_manifest(),
            credential=dev.credential,
        )
        return _read(dest, "video/mp4", dev.ca_pem).validation_state

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(sign_and_read, sources)) == ["Trusted"] * 8


def _subdirectories(parent: Path, count: int) -> list[Path]:
    directories = [parent / f"worker-{index}" for index in range(count)]
    for directory in directories:
        directory.mkdir()
    return directories
