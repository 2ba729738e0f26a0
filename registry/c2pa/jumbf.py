"""JUMBF (ISO/IEC 19566-5) as C2PA stores manifests in it: boxes, superboxes and labels.

A box is LBox (4 bytes, big-endian: the box's whole length; 1 means an 8-byte XLBox
follows; 0 means "to the end"), TBox (4 bytes), then its payload. A superbox (``jumb``)
holds a description box (``jumd``: a 16-byte type UUID, a toggles byte, then, when toggle
0x02 is set, the label, null-terminated UTF-8) followed by its content: other superboxes or
content boxes (``cbor``, ``json``, ...).

C2PA hashes an assertion (a hashed URI) over its superbox's payload: the description box and
the content boxes, without the superbox's own LBox and TBox. ``Superbox.payload`` is that.

Only reading is needed (the registry checks manifest stores a pipeline's c2pa built, and
c2pa-python does not expose its raw boxes); nothing here decodes content boxes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SUPERBOX = b"jumb"
DESCRIPTION = b"jumd"
_LABEL_TOGGLE = 0x02
_UUID_BYTES = 16
# Superboxes one inside another: a manifest store nests 4 (store, manifest, assertions, an
# assertion), an ingredient's or an identity assertion's content a few more.
MAX_DEPTH = 8
MAX_BOXES = 4096


class JumbfError(ValueError):
    """The bytes are not well-formed JUMBF."""


@dataclass(frozen=True)
class Box:
    """A content box: its type and payload, and where it starts in the bytes parsed."""

    type: bytes
    offset: int
    header: int  # 8, or 16 with an XLBox
    payload: bytes


@dataclass(frozen=True)
class Superbox:
    """A ``jumb`` superbox: its label, its payload (what C2PA hashes) and its content."""

    label: str | None
    offset: int
    header: int
    payload: bytes
    children: tuple[Superbox | Box, ...]  # the description box left out

    def superboxes(self) -> list[Superbox]:
        return [child for child in self.children if isinstance(child, Superbox)]

    def child(self, label: str) -> Superbox | None:
        """The first child superbox labelled ``label``."""
        return next((box for box in self.superboxes() if box.label == label), None)

    def content(self) -> Box | None:
        """The first content box (what an assertion, a claim or a signature holds)."""
        return next((child for child in self.children if isinstance(child, Box)), None)


def parse(data: bytes) -> Superbox:
    """The superbox ``data`` is, whole; ``JumbfError`` unless it is exactly one."""
    counter = [0]
    boxes = _boxes(data, 0, len(data), depth=0, counter=counter)
    if len(boxes) != 1 or not isinstance(boxes[0], Superbox):
        raise JumbfError("not a single JUMBF superbox")
    return boxes[0]


def _boxes(
    data: bytes, start: int, end: int, *, depth: int, counter: list[int]
) -> list[Superbox | Box]:
    if depth > MAX_DEPTH:  # the content of the superbox nested MAX_DEPTH + 1 deep
        raise JumbfError(f"superboxes nest deeper than {MAX_DEPTH}")
    found: list[Superbox | Box] = []
    offset = start
    while offset < end:
        counter[0] += 1
        if counter[0] > MAX_BOXES:
            raise JumbfError(f"more than {MAX_BOXES} boxes")
        if end - offset < 8:
            raise JumbfError(f"a box header is cut short at {offset}")
        length, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if length == 1:
            if end - offset < 16:
                raise JumbfError(f"a box's extended length is cut short at {offset}")
            (length,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif length == 0:
            length = end - offset
        if length < header or offset + length > end:
            raise JumbfError(f"the box at {offset} claims {length} bytes")
        if kind == SUPERBOX:
            found.append(_superbox(data, offset, header, length, depth, counter))
        else:
            payload = data[offset + header : offset + length]
            found.append(Box(type=kind, offset=offset, header=header, payload=payload))
        offset += length
    return found


def _superbox(
    data: bytes, offset: int, header: int, length: int, depth: int, counter: list[int]
) -> Superbox:
    inner = _boxes(data, offset + header, offset + length, depth=depth + 1, counter=counter)
    if not inner or not isinstance(inner[0], Box) or inner[0].type != DESCRIPTION:
        raise JumbfError(f"the superbox at {offset} does not start with a description box")
    return Superbox(
        label=_label(inner[0]),
        offset=offset,
        header=header,
        payload=data[offset + header : offset + length],
        children=tuple(inner[1:]),
    )


def _label(description: Box) -> str | None:
    body = description.payload
    if len(body) < _UUID_BYTES + 1:
        raise JumbfError(f"the description box at {description.offset} is cut short")
    if not body[_UUID_BYTES] & _LABEL_TOGGLE:
        return None
    text, terminated, _rest = body[_UUID_BYTES + 1 :].partition(b"\0")
    if not terminated:
        raise JumbfError(f"the label at {description.offset} is not null-terminated")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise JumbfError(f"the label at {description.offset} is not UTF-8") from None
