"""The structural pre-check every file passes before c2pa reads or signs it.

c2pa's cost follows a file's structure, not its size: reading an MP4 costs time in the square
of its number of boxes (16,000 boxes: 1.1 s; 120,000: 47 s), signing a JPEG in the square of
its segments (50,000: 15 s), and PNG and RIFF files cost ~15-40 us and ~80 bytes of memory per
chunk (100 MB of empty PNG chunks: 41 s, +636 MB). And c2pa signs some cut-short files as if
they were whole (a JPEG cut to a third, a WAV cut to 90 %, an MP4 whose last box runs past the
end). So ``check_structure`` walks the container's headers first, seeking over payloads (a
JPEG's scan data is searched for markers, 1 MiB at a time): a file that ends early is
``MalformedMedia``, one with more pieces than the limits below is ``MediaTooComplex`` (both
422), and the walk stops as soon as either is certain.

The limits. Measured (tests/intake/test_structure.py keeps them so): the files of
tests/assets, Pillow's JPEG/PNG/WEBP up to 6000x5000 (90 MB), ``wave`` up to 115 MB, a
100 MB MP4, and the c2pa-signed copy of each have 0-76 pieces (the signed copies ~28 more:
the manifest's JUMBF boxes), nested at most 6 deep, except Pillow's 90 MB PNG (1,376 IDAT
chunks of 64 KiB). What grows with real content is pieces that repeat with its length: PNG
``IDAT`` chunks (libpng writes 8 KiB each), the frames of an animated WEBP or PNG, the
fragments of a fragmented MP4 (7-10 boxes each). So each format gets a fixed allowance some
50x what real files need (4,096 pieces: also 4,096 frames of an animation), plus, for the
formats whose pieces repeat, one per 4 KiB of file (half libpng's IDAT size) or, for BMFF,
whose cost in c2pa is quadratic, one per 32 KiB. What c2pa spends on a file at the limit,
measured, is in each comment.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from registry.intake.errors import MalformedMedia, MediaTooComplex

_KIB = 1024


@dataclass(frozen=True)
class Allowance:
    """At most ``base`` pieces plus one per ``bytes_per_extra`` bytes of file (0: none)."""

    base: int
    bytes_per_extra: int = 0

    def for_size(self, size: int) -> int:
        return self.base + (size // self.bytes_per_extra if self.bytes_per_extra else 0)


# ISO BMFF (MP4, MOV, M4A): every box at every level walked, the JUMBF boxes of a C2PA
# manifest included. Real files: a non-fragmented MP4/MOV/M4A has 20-200 boxes (tests/assets:
# 25-47; signed: 53-76); a fragmented one adds 7-10 per fragment (one fragment per 1-10 s),
# so a 20-minute 2-s-fragment video has ~6,000 boxes and 75+ MB.
# c2pa reads 4,000 boxes in 0.14 s (signs in 0.19 s), 8,000 in 0.36 s (0.86 s): quadratic, so
# the rate is one box per 32 KiB: a 2 GiB file may have ~70,000 (signing: ~60 s, within the
# budget registry.c2pa.budget gives a file of that size).
BMFF_BOXES = Allowance(4096, 32 * _KIB)
# Nesting: moov/trak/mdia/minf/stbl is 5 deep, udta/meta/ilst adds 3, a C2PA manifest's
# JUMBF (uuid/jumb/jumb/jumb/jumb/content) 6: real files stay under 10.
MAX_DEPTH = 32
# PNG: IHDR, IEND, a few to ~100 ancillary chunks, and IDAT chunks of 8 KiB (libpng's
# default; Pillow writes 64 KiB, others one). APNG adds two chunks per frame. c2pa reads
# ~50,000 chunks per second: a 1 MB file at its limit (4,352 chunks) costs ~0.1 s.
PNG_CHUNKS = Allowance(4096, 4 * _KIB)
# RIFF (WAV, WEBP): WAV has 2-20 chunks (fmt, data, LIST/INFO's entries, bext, id3, C2PA);
# an animated WEBP one ANMF per frame. c2pa reads ~80,000 chunks per second, signs ~25,000.
RIFF_CHUNKS = Allowance(4096, 4 * _KIB)
# JPEG marker segments, the scans of a progressive JPEG and a C2PA manifest's APP11 pieces
# (64 KiB each) included. Cameras and encoders write 10-40; a large manifest adds one per
# 64 KiB. c2pa signs in the square of the count: 10,000 took 0.6 s, 2,048 takes ~0.03 s.
JPEG_SEGMENTS = Allowance(2048)
# FLAC metadata blocks: STREAMINFO, SEEKTABLE, VORBIS_COMMENT, PICTURE(s), PADDING: < 10.
FLAC_BLOCKS = Allowance(1024)
# ID3v2 frames of an MP3's tag: title, artist, ..., pictures, C2PA's GEOB: tens at most.
ID3_FRAMES = Allowance(4096)

_WINDOW = 4 * _KIB
_SCAN_CHUNK = 1024 * _KIB

# Boxes whose payload is boxes (ISO/IEC 14496-12 and QuickTime); ``meta`` is handled apart.
_BMFF_CONTAINERS = frozenset(
    {
        b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex",
        b"moof", b"traf", b"mfra", b"udta", b"tref", b"sinf", b"schi", b"ilst",
    }
)  # fmt: skip
_C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
# JUMBF superboxes (ISO/IEC 19566-5) hold boxes; the other boxes of a manifest hold data.
_JUMBF_SUPERBOX = b"jumb"

_BMFF_TYPES = frozenset({"audio/mp4", "video/mp4", "video/quicktime"})
_RIFF_TYPES = frozenset({"audio/wav", "image/webp"})


@dataclass(frozen=True)
class Shape:
    """What the walk found: ``pieces`` (boxes, chunks, segments, blocks or frames) and the
    deepest nesting of them (1: none)."""

    pieces: int
    depth: int


def check_structure(path: Path, *, mime_type: str) -> Shape:
    """Refuse a file that ends early (``MalformedMedia``) or has more structure than the
    limits (``MediaTooComplex``); what was found otherwise. Only headers are read, except a
    JPEG's scan data, which is searched for its markers."""
    with path.open("rb", buffering=0) as stream:
        reader = _Reader(stream.fileno(), os.fstat(stream.fileno()).st_size)
        if mime_type in _BMFF_TYPES:
            return _Bmff(reader).walk()
        if mime_type in _RIFF_TYPES:
            return _walk_riff(reader)
        if mime_type == "image/png":
            return _walk_png(reader)
        if mime_type == "image/jpeg":
            return _walk_jpeg(reader)
        if mime_type == "audio/flac":
            return _walk_flac(reader)
        if mime_type == "audio/mpeg":
            return _walk_mp3(reader)
    return Shape(0, 0)


class _Reader:
    """Small reads at any offset of a file, through a 4 KiB window: many small boxes in a row
    cost one system call per window, a jump over a large payload one small ``pread``."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.size = size
        self._start = 0
        self._data = b""

    def at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer at the end of the file)."""
        start = offset - self._start
        if start >= 0 and offset + length <= self._start + len(self._data):
            return self._data[start : start + length]
        self._data = os.pread(self.fd, max(_WINDOW, length), offset)
        self._start = offset
        return self._data[:length]


class _Counter:
    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.count = 0

    def add(self) -> None:
        self.count += 1
        if self.count > self.limit:
            raise MediaTooComplex(
                f"The file has more than {self.limit} {self.what}; real media of its size "
                "has far fewer.",
                limit=self.limit,
                unit=self.what,
            )


# --- ISO BMFF -------------------------------------------------------------------------------


class _Bmff:
    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.boxes = _Counter(BMFF_BOXES.for_size(reader.size), "boxes")
        self.depth = 1

    def walk(self) -> Shape:
        top_level = self._boxes(0, self.reader.size, depth=1, top=True)
        if b"moov" not in top_level:
            raise MalformedMedia("The file has no movie header (moov box).")
        return Shape(self.boxes.count, self.depth)

    def _boxes(self, start: int, end: int, *, depth: int, top: bool = False) -> set[bytes]:
        """Walk the boxes in ``start..end``; the types seen at this level."""
        if depth > MAX_DEPTH:
            raise MediaTooComplex(
                f"The file nests boxes more than {MAX_DEPTH} deep.", limit=MAX_DEPTH, unit="levels"
            )
        self.depth = max(self.depth, depth)
        seen: set[bytes] = set()
        # Explicit stack of pending containers, so that nesting costs no Python recursion.
        pending: list[tuple[int, int, int]] = []
        offset = start
        while True:
            if end - offset < 8:
                if top and offset != end:
                    raise MalformedMedia("The file ends inside a box header; it looks truncated.")
                break  # QuickTime ends some containers with 4 zero bytes
            header = self.reader.at(offset, 16)
            box_size, box_type = struct.unpack(">I4s", header[:8])
            header_size = 8
            if box_size == 1:
                if len(header) < 16:
                    raise MalformedMedia("The file ends inside a box header; it looks truncated.")
                (box_size,) = struct.unpack(">Q", header[8:16])
                header_size = 16
            elif box_size == 0:  # "extends to the end" (of the file; of the parent here)
                box_size = end - offset
            if box_size < header_size or offset + box_size > end:
                where = "the end" if top else "its parent"
                raise MalformedMedia(
                    f"The {box_type!r} box runs past {where}; the file looks truncated."
                )
            self.boxes.add()
            seen.add(box_type)
            payload = offset + header_size
            box_end = offset + box_size
            if box_type in _BMFF_CONTAINERS:
                pending.append((payload, box_end, depth + 1))
            elif box_type == b"meta":
                pending.append((payload + self._meta_header(payload, box_end), box_end, depth + 1))
            elif box_type == b"uuid":
                self._c2pa_box(payload, box_end, depth)
            offset = box_end
            if offset == end:
                break
        for child_start, child_end, child_depth in pending:
            self._boxes(child_start, child_end, depth=child_depth)
        return seen

    def _meta_header(self, payload: int, end: int) -> int:
        """``meta`` is a full box (4 bytes of version and flags) in ISO files, a plain
        container in some QuickTime files: as ffmpeg does, look for its ``hdlr``."""
        head = self.reader.at(payload, 12)
        return 0 if head[4:8] == b"hdlr" else min(4, end - payload)

    def _c2pa_box(self, payload: int, end: int, depth: int) -> None:
        """A C2PA ``uuid`` box: UUID, version and flags, a purpose, then (for the manifest) an
        8-byte offset and the manifest store's JUMBF boxes, which c2pa parses too."""
        head = self.reader.at(payload, 16 + 4 + 10 + 8)
        if head[:16] != _C2PA_UUID or head[20:29] != b"manifest\0":
            return
        _count_jumbf(self.reader, payload + 16 + 4 + 9 + 8, end, self.boxes, depth + 1)


def _count_jumbf(reader: _Reader, start: int, end: int, counter: _Counter, depth: int) -> None:
    """Count the JUMBF boxes of an embedded manifest store. Whether the store is well formed
    is c2pa's to say: the walk stops at the first box that does not fit."""
    regions = [(start, end, depth)]
    while regions:
        offset, region_end, level = regions.pop()
        if level > MAX_DEPTH:
            raise MediaTooComplex(
                f"The file nests boxes more than {MAX_DEPTH} deep.", limit=MAX_DEPTH, unit="levels"
            )
        while region_end - offset >= 8:
            header = reader.at(offset, 16)
            box_size, box_type = struct.unpack(">I4s", header[:8])
            header_size = 8
            if box_size == 1 and len(header) == 16:
                (box_size,) = struct.unpack(">Q", header[8:16])
                header_size = 16
            elif box_size == 0:
                box_size = region_end - offset
            if box_size < header_size or offset + box_size > region_end:
                break
            counter.add()
            if box_type == _JUMBF_SUPERBOX:
                regions.append((offset + header_size, offset + box_size, level + 1))
            offset += box_size


# --- RIFF (WAV, WEBP) -----------------------------------------------------------------------


def _walk_riff(reader: _Reader) -> Shape:
    header = reader.at(0, 12)
    if len(header) < 12 or header[:4] != b"RIFF":
        raise MalformedMedia("The file does not start with a RIFF header.")
    (riff_size,) = struct.unpack("<I", header[4:8])
    riff_end = 8 + riff_size
    if riff_end > reader.size:
        raise MalformedMedia(
            f"The RIFF header says the file holds {riff_end} bytes but it has {reader.size}; "
            "it looks truncated."
        )
    chunks = _Counter(RIFF_CHUNKS.for_size(reader.size), "chunks")
    depth = 1
    regions = [(12, riff_end, 1)]
    while regions:
        offset, end, level = regions.pop()
        depth = max(depth, level)
        while end - offset >= 8:
            chunk_id, chunk_size = struct.unpack("<4sI", reader.at(offset, 8))
            chunk_end = offset + 8 + chunk_size
            if chunk_end > end:
                raise MalformedMedia(
                    f"The {chunk_id!r} chunk runs past the end of the file; it looks truncated."
                )
            chunks.add()
            if chunk_id == b"LIST" and level < MAX_DEPTH:
                regions.append((offset + 12, chunk_end, level + 1))
            elif chunk_id == b"C2PA":
                _count_jumbf(reader, offset + 8, chunk_end, chunks, level + 1)
            offset = chunk_end + (chunk_size & 1)  # chunks are padded to an even length
    return Shape(chunks.count, depth)


# --- PNG ------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_CHUNK = 2**31 - 1


def _walk_png(reader: _Reader) -> Shape:
    if reader.at(0, 8) != _PNG_SIGNATURE:
        raise MalformedMedia("The file does not start with the PNG signature.")
    chunks = _Counter(PNG_CHUNKS.for_size(reader.size), "chunks")
    offset, first = 8, True
    while True:
        header = reader.at(offset, 8)
        if len(header) < 8:
            raise MalformedMedia("The PNG file ends before its IEND chunk; it looks truncated.")
        length, chunk_type = struct.unpack(">I4s", header)
        chunk_end = offset + 12 + length  # length, type, data, CRC
        if length > _PNG_MAX_CHUNK or chunk_end > reader.size:
            raise MalformedMedia(
                f"The PNG {chunk_type!r} chunk runs past the end of the file; it looks truncated."
            )
        if first and chunk_type != b"IHDR":
            raise MalformedMedia("A PNG file must start with its IHDR chunk.")
        first = False
        chunks.add()
        if chunk_type == b"caBX":  # C2PA's manifest store
            _count_jumbf(reader, offset + 8, offset + 8 + length, chunks, 2)
        if chunk_type == b"IEND":
            return Shape(chunks.count, 1)
        offset = chunk_end


# --- JPEG -----------------------------------------------------------------------------------

# Markers without a length: TEM and RST0-7 (SOI and EOI are handled apart).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# In scan data, 0xFF is followed by 0x00 (a stuffed byte), by RST0-7, or by more 0xFF (fill);
# any other byte after it is the next marker.
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _walk_jpeg(reader: _Reader) -> Shape:
    if reader.at(0, 2) != b"\xff\xd8":
        raise MalformedMedia("The file does not start with a JPEG SOI marker.")
    segments = _Counter(JPEG_SEGMENTS.for_size(reader.size), "segments")
    offset = 2
    while True:
        head = reader.at(offset, 4)
        if head[:2] == b"\xff\xff":  # fill bytes before a marker
            offset = _after_fill(reader, offset)
            head = reader.at(offset, 4)
        if len(head) < 2:
            raise MalformedMedia("The JPEG file ends before its EOI marker; it looks truncated.")
        if head[0] != 0xFF:
            # Stray bytes between segments: decoders (and c2pa) skip to the next marker.
            offset = _next_marker(reader, offset)
            continue
        marker = head[1]
        if marker == 0xD9:  # EOI: what follows (another picture of an MPO, a trailer) is not ours
            return Shape(segments.count, 1)
        segments.add()
        if marker in _STANDALONE:
            offset += 2
            continue
        if len(head) < 4:
            raise MalformedMedia("The JPEG file ends inside a segment; it looks truncated.")
        (length,) = struct.unpack(">H", head[2:4])
        end = offset + 2 + length
        if length < 2 or end > reader.size:
            raise MalformedMedia(
                f"The JPEG segment {marker:#04x} runs past the end of the file; it looks truncated."
            )
        offset = _next_marker(reader, end) if marker == 0xDA else end


def _after_fill(reader: _Reader, start: int) -> int:
    """The offset of the last 0xFF of the run of them at ``start`` (the marker's own)."""
    position = start
    while True:
        data = os.pread(reader.fd, _SCAN_CHUNK, position)
        run = len(data) - len(data.lstrip(b"\xff"))
        if run < len(data) or not data:
            return max(start, position + run - 1)
        position += len(data)


def _next_marker(reader: _Reader, start: int) -> int:
    """The offset of the marker that ends the scan data starting at ``start``."""
    # Reused for every read: no fresh object (and page faults) per chunk.
    buffer = bytearray(min(_SCAN_CHUNK, max(2, reader.size - start)))
    position = start
    while position < reader.size:
        count = os.preadv(reader.fd, [buffer], position)
        match = _MARKER_IN_SCAN.search(buffer, 0, count)
        if match is not None:
            return position + match.start()
        if count < 2:
            break
        position += count - 1  # a 0xFF at the end pairs with the next chunk's first byte
    raise MalformedMedia(
        "The JPEG scan data runs to the end of the file without an EOI marker; it looks truncated."
    )


# --- FLAC, MP3 ------------------------------------------------------------------------------


def _walk_flac(reader: _Reader) -> Shape:
    # c2pa signs a FLAC file by putting an ID3v2 tag (its manifest in a GEOB frame) before it.
    tag_end, frames = _id3_tag(reader)
    if reader.at(tag_end, 4) != b"fLaC":
        raise MalformedMedia("The file does not start with the FLAC signature.")
    blocks = _Counter(FLAC_BLOCKS.for_size(reader.size), "metadata blocks")
    offset, last, first = tag_end + 4, False, True
    while not last:
        header = reader.at(offset, 4)
        if len(header) < 4:
            raise MalformedMedia("The FLAC metadata ends early; the file looks truncated.")
        last, block_type = bool(header[0] & 0x80), header[0] & 0x7F
        if first and block_type != 0:
            raise MalformedMedia("A FLAC file must start with a STREAMINFO block.")
        first = False
        blocks.add()
        offset += 4 + int.from_bytes(header[1:4], "big")
        if offset > reader.size:
            raise MalformedMedia("A FLAC metadata block runs past the end of the file.")
    sync = reader.at(offset, 2)
    if len(sync) < 2 or sync[0] != 0xFF or sync[1] & 0xFE != 0xF8:
        raise MalformedMedia("The FLAC file has no audio frames after its metadata.")
    return Shape(frames + blocks.count, 1)


def _walk_mp3(reader: _Reader) -> Shape:
    """An MP3's ID3v2 tag (where C2PA keeps its manifest). The audio frames after it cannot be
    checked without decoding."""
    _, frames = _id3_tag(reader)
    return Shape(frames, 1)


def _id3_tag(reader: _Reader) -> tuple[int, int]:
    """Where the ID3v2 tag at the start of the file ends (0: there is none) and how many frames
    it has. It must end inside the file."""
    header = reader.at(0, 10)
    if header[:3] != b"ID3" or len(header) < 10:
        return 0, 0
    version, flags = header[3], header[5]
    tag_end = 10 + _syncsafe(header[6:10]) + (10 if flags & 0x10 else 0)
    if tag_end > reader.size:
        raise MalformedMedia("The ID3 tag runs past the end of the file; it looks truncated.")
    frames = _Counter(ID3_FRAMES.for_size(reader.size), "ID3 frames")
    offset = 10
    if flags & 0x40 and version >= 3:  # an extended header comes first
        extended = reader.at(offset, 4)
        offset += _syncsafe(extended) if version >= 4 else 4 + int.from_bytes(extended, "big")
    frame_header = 6 if version == 2 else 10  # ID3v2.2: 3-byte ids and sizes
    while tag_end - offset >= frame_header:
        frame = reader.at(offset, frame_header)
        if frame[0] == 0:  # padding
            break
        if version == 2:
            size = int.from_bytes(frame[3:6], "big")
        else:
            size = _syncsafe(frame[4:8]) if version >= 4 else int.from_bytes(frame[4:8], "big")
        frames.add()
        offset += frame_header + size
    return tag_end, frames.count


def _syncsafe(data: bytes) -> int:
    return (data[0] & 0x7F) << 21 | (data[1] & 0x7F) << 14 | (data[2] & 0x7F) << 7 | data[3] & 0x7F
