"""The pipeline's side of a signing session: c2pa runs here, on the pipeline's machine.

``sign_file_locally`` embeds the session's manifest definition into a copy of the file with
c2pa-python, whose callback signer sends the claim's COSE Sig_structure to the registry
(``sign``) and returns the registry's signature. The media is read from and written to disk
as c2pa asks for it (c2pa's own buffers aside, never whole in memory); the output appears
only once signed (a temporary file beside it, renamed), so a refusal leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa

from registry.c2pa.adapter import signing_settings

Progress = Callable[[int, int], None]
CHUNK = 1024 * 1024


def file_facts(path: Path, *, progress: Progress | None = None) -> tuple[str, int]:
    """SHA-256 (hex) and size of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb", buffering=0) as stream:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while count := stream.readinto(buffer):
            digest.update(view[:count])
            done += count
            if progress is not None:
                progress(done, total)
    return digest.hexdigest(), done


class _Counting:
    """A file c2pa reads through, reporting how far it got (the progress of hashing)."""

    def __init__(
        self, stream: io.BufferedReader[io.FileIO], total: int, progress: Progress
    ) -> None:
        self._stream, self._total, self._progress = stream, total, progress
        self._furthest = 0

    def readinto(self, buffer: Any) -> int:
        count = self._stream.readinto(buffer)
        self._report()
        return count or 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._report()
        return data

    def _report(self) -> None:
        position = self._stream.tell()
        if position > self._furthest:
            self._furthest = position
            self._progress(position, self._total)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class SigningRefused(Exception):
    """The registry refused to sign (or could not be asked); ``cause`` says why."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def sign_file_locally(
    *,
    source: Path,
    dest: Path,
    mime_type: str,
    definition: dict[str, Any],
    certificate_chain: str,
    sign: Callable[[bytes], bytes],
    progress: Progress | None = None,
    thumbnails: bool = False,
    tsa_url: str | None = None,
) -> None:
    """Sign ``source`` into ``dest`` with ``definition``, the registry signing the claim.

    Raises ``SigningRefused`` carrying what ``sign`` raised (the registry's problem), or a
    ``c2pa.C2paError``; ``dest`` is not written in either case.
    """
    failure: list[BaseException] = []

    def callback(data: bytes) -> bytes:
        try:
            return sign(bytes(data))
        except BaseException as exc:  # c2pa turns a callback's exception into a bare failure
            failure.append(exc)
            raise

    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(handle)
    try:
        with (
            c2pa.Context.from_dict(signing_settings(thumbnails=thumbnails)) as context,
            c2pa.Builder(definition, context=context) as builder,
            c2pa.Signer.from_callback(
                callback, c2pa.C2paSigningAlg.ES256, certificate_chain, tsa_url
            ) as signer,
            io.BufferedReader(io.FileIO(source), CHUNK) as raw_source,
            io.BufferedRandom(io.FileIO(temporary, "w+"), CHUNK) as out,
        ):
            reader: Any = raw_source
            if progress is not None:
                reader = _Counting(raw_source, source.stat().st_size, progress)
            try:
                builder.sign(signer, mime_type, reader, out)
            except c2pa.C2paError:
                if failure:
                    raise SigningRefused(failure[0]) from failure[0]
                raise
        os.replace(temporary, dest)
    finally:
        Path(temporary).unlink(missing_ok=True)
