"""JUMBF reading (``registry.c2pa.jumbf``): boxes and superboxes as C2PA writes them, and the
malformed ones refused, at each limit."""

from __future__ import annotations

import struct

import pytest

from registry.c2pa import jumbf

C2PA_UUID = bytes.fromhex("6332706100110010800000aa00389b71")


def box(kind: bytes, payload: bytes, *, extended: bool = False) -> bytes:
    if extended:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def description(label: str | None) -> bytes:
    if label is None:
        return box(b"jumd", C2PA_UUID + b"\x00")
    return box(b"jumd", C2PA_UUID + b"\x03" + label.encode() + b"\0")


def superbox(label: str | None, *children: bytes) -> bytes:
    return box(b"jumb", description(label) + b"".join(children))


def test_a_store_is_read_with_labels_contents_and_payloads() -> None:
    assertion = superbox("c2pa.actions.v2", box(b"cbor", b"\xa0"))
    store = superbox("c2pa", superbox("urn:c2pa:1", superbox("c2pa.assertions", assertion)))
    root = jumbf.parse(store)
    assert root.label == "c2pa" and root.offset == 0 and root.header == 8
    manifest = root.superboxes()[0]
    assert manifest.label == "urn:c2pa:1"
    assertions = manifest.child("c2pa.assertions")
    assert assertions is not None and assertions.child("nope") is None
    found = assertions.child("c2pa.actions.v2")
    assert found is not None
    # What C2PA hashes: the superbox without its own LBox and TBox.
    assert found.payload == assertion[8:]
    content = found.content()
    assert content is not None
    assert (content.type, content.payload) == (b"cbor", b"\xa0")
    assert store[content.offset : content.offset + 8 + 1] == box(b"cbor", b"\xa0")
    assert assertions.content() is None


def test_extended_and_to_the_end_lengths_are_read() -> None:
    inner = box(b"cbor", b"\x01\x02", extended=True)
    root = jumbf.parse(superbox("c2pa", inner))
    content = root.content()
    assert content is not None and content.header == 16 and content.payload == b"\x01\x02"
    open_ended = struct.pack(">I4s", 0, b"jumb") + description("c2pa") + box(b"json", b"{}")
    last = jumbf.parse(open_ended).content()
    assert last is not None and last.payload == b"{}"


def test_a_superbox_without_a_label_has_none() -> None:
    assert jumbf.parse(superbox(None)).label is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a single JUMBF superbox"),
        (box(b"cbor", b""), "not a single JUMBF superbox"),
        (superbox("a") + superbox("b"), "not a single JUMBF superbox"),
        (superbox("a")[:-1], "claims"),
        (b"\x00\x00\x00\x07jumb", "claims"),
        (b"\x00\x00\x00\x01jumb\x00\x00\x00\x00", "cut short"),
        (b"\x00\x00\x00", "cut short"),
        (box(b"jumb", box(b"cbor", b"")), "does not start with a description box"),
        (box(b"jumb", box(b"jumd", C2PA_UUID)), "cut short"),
        (box(b"jumb", box(b"jumd", C2PA_UUID + b"\x03abc")), "not null-terminated"),
        (box(b"jumb", box(b"jumd", C2PA_UUID + b"\x03\xff\0")), "not UTF-8"),
    ],
    ids=[
        "empty",
        "a content box",
        "two superboxes",
        "cut short",
        "length under its header",
        "extended length cut short",
        "header cut short",
        "no description",
        "description cut short",
        "label unterminated",
        "label not utf-8",
    ],
)
def test_malformed_jumbf_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(jumbf.JumbfError, match=message):
        jumbf.parse(data)


def _nested(count: int) -> bytes:
    """``count`` superboxes, each inside the one before."""
    data = superbox("1")
    for level in range(2, count + 1):
        data = superbox(str(level), data)
    return data


def test_nesting_is_read_to_its_limit_and_refused_past_it() -> None:
    assert jumbf.parse(_nested(jumbf.MAX_DEPTH)).label == str(jumbf.MAX_DEPTH)
    with pytest.raises(jumbf.JumbfError, match="nest deeper"):
        jumbf.parse(_nested(jumbf.MAX_DEPTH + 1))


def test_boxes_are_read_to_their_limit_and_refused_past_it() -> None:
    # The superbox and its description count, as every box does.
    at_limit = superbox("c2pa", *[box(b"cbor", b"")] * (jumbf.MAX_BOXES - 2))
    assert len(jumbf.parse(at_limit).children) == jumbf.MAX_BOXES - 2
    past = superbox("c2pa", *[box(b"cbor", b"")] * (jumbf.MAX_BOXES - 1))
    with pytest.raises(jumbf.JumbfError, match="more than"):
        jumbf.parse(past)
