"""What a file is, from its bytes: magic numbers only, never the name or a client's word.

``sniff`` reads the first few hundred bytes. ``check_complete`` walks container headers
(``registry.intake.structure``) to refuse truncated files that c2pa would sign anyway and
files built to make c2pa slow.

An empty file is ``MalformedMedia`` (422: a bad file of no particular type); bytes that match
no supported signature are ``UnsupportedMedia`` (415).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from registry.intake.errors import MalformedMedia, UnsupportedMedia
from registry.intake.structure import Shape, check_structure

HEAD_BYTES = 512


@dataclass(frozen=True)
class MediaFormat:
    """A format the registry labels; ``mime_type`` is the spelling c2pa accepts for it."""

    mime_type: str
    extension: str
    kind: Literal["image", "audio", "video"]


JPEG = MediaFormat("image/jpeg", "jpg", "image")
PNG = MediaFormat("image/png", "png", "image")
WEBP = MediaFormat("image/webp", "webp", "image")
WAV = MediaFormat("audio/wav", "wav", "audio")
MP3 = MediaFormat("audio/mpeg", "mp3", "audio")
FLAC = MediaFormat("audio/flac", "flac", "audio")
M4A = MediaFormat("audio/mp4", "m4a", "audio")
MP4 = MediaFormat("video/mp4", "mp4", "video")
MOV = MediaFormat("video/quicktime", "mov", "video")

SUPPORTED: tuple[MediaFormat, ...] = (JPEG, PNG, WEBP, WAV, MP3, FLAC, M4A, MP4, MOV)
SUPPORTED_MIME_TYPES: tuple[str, ...] = tuple(media.mime_type for media in SUPPORTED)
BY_MIME_TYPE: dict[str, MediaFormat] = {media.mime_type: media for media in SUPPORTED}

# ISO BMFF brands (ftyp). HEIF/AVIF and 3GPP are BMFF too but not formats we label.
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_QUICKTIME_BRANDS = {b"qt  "}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"MSNV", b"dash", b"XAVC", b"f4v ",
}  # fmt: skip
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis", b"crx "}


def sniff(path: Path) -> MediaFormat:
    """Identify the file at ``path`` by its leading bytes, or raise a 415/422 problem."""
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    if not head:
        raise MalformedMedia("The file is empty.")
    media = identify(head)
    if media is None:
        raise UnsupportedMedia(
            "The file is not one of the supported media formats.",
            supported=SUPPORTED_MIME_TYPES,
        )
    return media


def identify(head: bytes) -> MediaFormat | None:
    """The media type whose signature ``head`` starts with, if any."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"fLaC"):
        return FLAC
    if head[4:8] == b"ftyp":
        return _identify_bmff(head)
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return MP3
    return None


def _identify_bmff(head: bytes) -> MediaFormat | None:
    (box_size,) = struct.unpack(">I", head[:4])
    major = head[8:12]
    # Compatible brands follow the major brand and minor version, to the end of the box.
    compatible = [head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)]
    if major in _IMAGE_BRANDS:
        return None
    for brands in ([major], compatible):
        for brand in brands:
            if brand in _AUDIO_BRANDS:
                return M4A
            if brand in _QUICKTIME_BRANDS:
                return MOV
            if brand in _VIDEO_BRANDS:
                return MP4
    return None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, then no reserved values (see ISO 11172-3)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    # Layer 0 is reserved here but is what AAC ADTS uses, so it is not mistaken for MP3.
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


def check_complete(path: Path, *, mime_type: str) -> Shape:
    """Refuse a file that was cut short (``MalformedMedia``) or has more boxes, chunks or
    segments than real media (``MediaTooComplex``): ``registry.intake.structure``."""
    return check_structure(path, mime_type=mime_type)
