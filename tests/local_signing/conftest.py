"""Signing sessions: a studio, a grant for every media kind, and claims captured from c2pa."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2
import pytest

from registry.c2pa import jumbf
from registry.client import GrantCitation
from registry.intake.sniff import sniff
from registry.local_signing.pipeline import SigningRefused, file_facts, sign_file_locally
from tests.factories import Studio
from tests.media.conftest import metadata


@dataclass
class Capture:
    """A session opened over the API and the manifest store c2pa built for it, signed with
    the pipeline's placeholder (what the pipeline sends the registry)."""

    session: dict[str, Any]
    manifest: bytes

    @property
    def label(self) -> str:
        return str(self.session["manifest_label"])

    def claim(self) -> dict[str, Any]:
        return dict(cbor2.loads(self._content([self.label, "c2pa.claim.v2"]).payload))

    def with_claim(self, claim: dict[str, Any]) -> bytes:
        return self.with_content([self.label, "c2pa.claim.v2"], cbor2.dumps(claim))

    def with_content(self, path: list[str], content: bytes) -> bytes:
        """The store with the content box of the superbox at ``path`` (labels below the
        store) holding ``content``."""
        box = self._content(path)
        start = box.offset + box.header
        return _spliced(self.manifest, path, start, start + len(box.payload), content)

    def without_assertion(self, label: str) -> bytes:
        """The store without the assertion ``label``: neither its box nor the claim's
        reference to it."""
        claim = self.claim()
        for key in ("created_assertions", "gathered_assertions"):
            claim[key] = [a for a in claim.get(key, []) if not a["url"].endswith(f"/{label}")]
        store = Capture(self.session, self.with_claim(claim))
        box = store._superbox([self.label, "c2pa.assertions", label])
        length = len(box.payload) + box.header
        return _spliced(
            store.manifest, [self.label, "c2pa.assertions"], box.offset, box.offset + length, b""
        )

    def assertion_labels(self) -> list[str]:
        return [str(b.label) for b in self._superbox([self.label, "c2pa.assertions"]).superboxes()]

    def _superbox(self, path: list[str]) -> jumbf.Superbox:
        box = jumbf.parse(self.manifest)
        for label in path:
            found = box.child(label)
            assert found is not None, label
            box = found
        return box

    def _content(self, path: list[str]) -> jumbf.Box:
        content = self._superbox(path).content()
        assert content is not None
        return content


def _spliced(store: bytes, path: list[str], start: int, end: int, new: bytes) -> bytes:
    """``store`` with bytes ``[start, end)`` (inside the superbox at ``path``) replaced by
    ``new``, and the lengths of the superboxes around them (and of a content box holding
    them) corrected."""
    delta = len(new) - (end - start)
    out = bytearray(store[:start] + new + store[end:])
    box = jumbf.parse(store)
    around: list[jumbf.Superbox | jumbf.Box] = [box]
    for label in path:
        found = box.child(label)
        assert found is not None, label
        box = found
        around.append(box)
    content = box.content()
    if content is not None and content.offset < start < content.offset + 8 + len(content.payload):
        around.append(content)
    for outer in around:
        (length,) = struct.unpack_from(">I", out, outer.offset)
        struct.pack_into(">I", out, outer.offset, length + delta)
    return bytes(out)


def session_body(grant_id: str, path: Path, **overrides: Any) -> dict[str, Any]:
    """The metadata of an upload (``tests.media.conftest.metadata``) and the file's facts."""
    sha256, size = file_facts(path)
    facts = {"mime_type": sniff(path).mime_type, "size": size, "source_sha256": sha256}
    return metadata(grant_id, **{**facts, **overrides})


def open_session(studio: Studio, grant_id: str, path: Path, **overrides: Any) -> dict[str, Any]:
    response = studio.post("/v1/signing-sessions", json=session_body(grant_id, path, **overrides))
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def capture(
    studio: Studio,
    grant_id: str,
    path: Path,
    work: Path,
    *,
    edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    **overrides: Any,
) -> Capture:
    """Run c2pa on ``path`` with the session's definition (``edit``ed) and keep the manifest
    store it built, signing nothing."""
    session = open_session(studio, grant_id, path, **overrides)
    definition = session["manifest_definition"]
    if edit is not None:
        definition = edit(definition)
    seen: list[bytes] = []

    def keep(manifest_store: bytes) -> bytes:
        seen.append(manifest_store)
        raise RuntimeError("captured")

    with pytest.raises(SigningRefused):
        sign_file_locally(
            source=path,
            dest=work / "never.out",
            mime_type=session["mime_type"],
            definition=definition,
            certificate_chain=session["certificate_chain"],
            sign=keep,
        )
    assert not (work / "never.out").exists()
    return Capture(session, seen[0])


def post_signature(studio: Studio, session_id: str, data: bytes, **extra: Any):  # type: ignore[no-untyped-def]
    return studio.post(
        f"/v1/signing-sessions/{session_id}/signature",
        json={"manifest": base64.b64encode(data).decode(), **extra},
    )


def citation(grant_id: str) -> list[GrantCitation]:
    return [GrantCitation(grant_id, ("voice",), "advertising", "US")]


@pytest.fixture
def grant(studio: Studio) -> dict[str, Any]:
    return studio.grant(media_types=["image", "audio", "video"])
