"""The pipeline's side (``local_signing.pipeline``): the registry's answer is checked before
it is written, and written over the one placeholder wherever c2pa put the manifest."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from registry.local_signing import pipeline
from registry.local_signing.pipeline import SigningRefused, sign_file_locally
from tests.factories import Studio
from tests.local_signing.conftest import open_session
from tests.media import assets

SIZE = 3 * pipeline.NEAR_THE_ENDS


@pytest.mark.parametrize(
    "offset",
    [
        0,
        pipeline.NEAR_THE_ENDS - 10,  # across the end of the first window
        # Far from both ends, across a chunk boundary of the full scan.
        pipeline.NEAR_THE_ENDS + 2 * pipeline.CHUNK - 20,
        SIZE - 2 * pipeline.NEAR_THE_ENDS + pipeline.CHUNK,
        SIZE - pipeline.NEAR_THE_ENDS - 5,  # across the start of the last window
        SIZE - pipeline.SIGNATURE_BYTES,
    ],
    ids=["first byte", "head window edge", "chunk edge", "middle", "tail window edge", "last"],
)
def test_the_placeholder_is_replaced_wherever_it_is(work: Path, offset: int) -> None:
    placeholder = secrets.token_bytes(pipeline.SIGNATURE_BYTES)
    signature = secrets.token_bytes(pipeline.SIGNATURE_BYTES)
    data = bytearray(SIZE)
    data[offset : offset + len(placeholder)] = placeholder
    path = work / "signed.bin"
    path.write_bytes(data)
    pipeline._replace_once(path, placeholder, signature)
    data[offset : offset + len(signature)] = signature
    assert path.read_bytes() == data


def test_a_file_without_the_placeholder_is_refused(work: Path) -> None:
    path = work / "signed.bin"
    path.write_bytes(bytes(SIZE))
    with pytest.raises(SigningRefused, match="no placeholder"):
        pipeline._replace_once(path, b"\x01" * pipeline.SIGNATURE_BYTES, bytes(64))
    assert path.read_bytes() == bytes(SIZE)


@pytest.mark.parametrize(
    "answer",
    [
        lambda manifest: secrets.token_bytes(pipeline.SIGNATURE_BYTES),
        lambda manifest: b"",
        lambda manifest: secrets.token_bytes(pipeline.SIGNATURE_BYTES + 8),
    ],
    ids=["another signature", "empty", "too long"],
)
def test_an_answer_that_is_not_the_registrys_signature_writes_nothing(
    studio: Studio, grant: dict[str, Any], work: Path, answer: Any
) -> None:
    source = assets.make_jpeg(work)
    session = open_session(studio, grant["id"], source)
    dest = work / "out" / "signed.jpg"
    with pytest.raises(SigningRefused, match="not its signature"):
        sign_file_locally(
            source=source,
            dest=dest,
            mime_type=session["mime_type"],
            definition=session["manifest_definition"],
            certificate_chain=session["certificate_chain"],
            sign=answer,
        )
    assert os.listdir(dest.parent) == []
