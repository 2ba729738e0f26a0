"""Content sniffing by magic numbers, and the truncation check that runs before signing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from registry.errors import problem_type
from registry.intake.errors import MalformedMedia, UnsupportedMedia
from registry.intake.sniff import (
    BY_MIME_TYPE,
    MP3,
    PNG,
    SUPPORTED_MIME_TYPES,
    check_complete,
    identify,
    sniff,
)
from tests.media.assets import MAKERS, copy_asset, garbage, make_flac, make_mov, make_mp4, make_png

EXPECTED = {
    "image/jpeg": ("jpg", "image"),
    "image/png": ("png", "image"),
    "image/webp": ("webp", "image"),
    "audio/wav": ("wav", "audio"),
    "audio/mpeg": ("mp3", "audio"),
    "audio/flac": ("flac", "audio"),
    "audio/mp4": ("m4a", "audio"),
    "video/mp4": ("mp4", "video"),
    "video/quicktime": ("mov", "video"),
}


@pytest.mark.parametrize("mime_type", sorted(MAKERS))
def test_every_supported_format_is_recognised(tmp_path: Path, mime_type: str) -> None:
    media = sniff(MAKERS[mime_type](tmp_path))
    assert media == BY_MIME_TYPE[mime_type]
    assert (media.extension, media.kind) == EXPECTED[mime_type]


def test_mp3_with_an_id3_tag_is_recognised(tmp_path: Path) -> None:
    assert sniff(copy_asset(tmp_path, "tone-id3.mp3")) == MP3


def test_the_file_name_is_ignored(tmp_path: Path) -> None:
    disguised = make_png(tmp_path).rename(tmp_path / "photo.jpg")
    assert sniff(disguised) == PNG


@pytest.mark.parametrize(
    "content",
    [
        garbage("sniff", 4096),
        b"hello, this is plain text\n" * 20,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # HEIF: BMFF, but not labelled
        b"\xff\xf1\x50\x80\x02\x1f\xfc",  # AAC ADTS shares MP3's sync bits
        b"RIFF\x24\x00\x00\x00AVI LIST",
        b"\xff",
    ],
    ids=["random", "text", "pdf", "heic", "adts", "avi", "one-byte"],
)
def test_unknown_content_is_unsupported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(UnsupportedMedia) as caught:
        sniff(path)
    problem = caught.value.to_problem()
    assert problem["status"] == 415
    assert problem["type"] == problem_type("unsupported-media-type")
    assert problem["supported"] == list(SUPPORTED_MIME_TYPES)


def test_empty_file_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.touch()
    with pytest.raises(MalformedMedia) as caught:
        sniff(path)
    assert caught.value.status == 422
    assert caught.value.type == problem_type("malformed-media")


def test_identify_needs_only_the_leading_bytes() -> None:
    assert identify(b"\xff\xd8\xff\xe0") == BY_MIME_TYPE["image/jpeg"]
    assert identify(b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00") == BY_MIME_TYPE["audio/mp4"]
    assert identify(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00") == BY_MIME_TYPE["video/quicktime"]
    assert (
        identify(b"\x00\x00\x00\x18ftypXXXX\x00\x00\x00\x00mp42isom") == BY_MIME_TYPE["video/mp4"]
    )


@pytest.mark.parametrize("mime_type", sorted(MAKERS))
def test_complete_files_pass_the_truncation_check(tmp_path: Path, mime_type: str) -> None:
    check_complete(MAKERS[mime_type](tmp_path), mime_type=mime_type)


@pytest.mark.parametrize(
    ("make", "mime_type"),
    [(make_mp4, "video/mp4"), (make_mov, "video/quicktime"), (MAKERS["audio/mp4"], "audio/mp4")],
)
def test_truncated_bmff_file_is_malformed(
    tmp_path: Path, make: Callable[[Path], Path], mime_type: str
) -> None:
    path = make(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(MalformedMedia, match="truncated"):
        check_complete(path, mime_type=mime_type)


def test_bmff_file_without_a_movie_header_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "no-moov.mp4"
    path.write_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00" + b"\x00\x00\x00\x08free")
    with pytest.raises(MalformedMedia, match="moov"):
        check_complete(path, mime_type="video/mp4")


def test_flac_cut_inside_its_metadata_is_malformed(tmp_path: Path) -> None:
    path = make_flac(tmp_path)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(MalformedMedia):
        check_complete(path, mime_type="audio/flac")
