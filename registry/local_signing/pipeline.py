"""The pipeline's side of a signing session: c2pa runs here, on the pipeline's machine.

``sign_file_locally`` embeds the session's manifest definition into a copy of the file with
c2pa-python, signing with a placeholder: c2pa's callback signer answers 64 random bytes
(an ES256 signature's length), and c2pa's check of what it signed is off. c2pa returns the
manifest store it embedded; ``sign`` sends it to the registry, which checks the claim and
every assertion against the session and answers its signature of the claim. That signature
is checked here against the registry's certificate, then written over the placeholder, in
place: the manifest's length and every hash in it are unchanged (the signature is not part
of what the claim hashes).

The media is read from and written to disk as c2pa asks for it (c2pa's own buffers aside,
never whole in memory); the output appears only once signed (a temporary file beside it,
renamed), so a refusal leaves nothing behind. No timestamp authority is asked: its token
would cover the placeholder.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from registry.c2pa.adapter import signing_settings

Progress = Callable[[int, int], None]
CHUNK = 1024 * 1024
SIGNATURE_BYTES = 64  # ES256 in COSE: r || s
# c2pa puts the manifest near the start (JPEG, PNG, BMFF) or at the end (RIFF) of the file:
# the placeholder is looked for there first, then everywhere.
NEAR_THE_ENDS = 4 * CHUNK


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
) -> None:
    """Sign ``source`` into ``dest`` with ``definition``, the registry signing the claim.

    ``sign`` is given the manifest store (placeholder-signed) and answers the registry's
    signature. Raises ``SigningRefused`` carrying what ``sign`` raised (the registry's
    problem) or why the answer cannot be used, or a ``c2pa.C2paError``; ``dest`` is not
    written in any of these cases.
    """
    placeholder = secrets.token_bytes(SIGNATURE_BYTES)
    asked: list[bytes] = []

    def callback(data: bytes) -> bytes:
        asked.append(bytes(data))
        return placeholder

    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(handle)
    settings = signing_settings(thumbnails=False, verify_after_sign=False)
    try:
        with (
            c2pa.Context.from_dict(settings) as context,
            c2pa.Builder(definition, context=context) as builder,
            c2pa.Signer.from_callback(
                callback, c2pa.C2paSigningAlg.ES256, certificate_chain, None
            ) as signer,
            io.BufferedReader(io.FileIO(source), CHUNK) as raw_source,
            io.BufferedRandom(io.FileIO(temporary, "w+"), CHUNK) as out,
        ):
            reader: Any = raw_source
            if progress is not None:
                reader = _Counting(raw_source, source.stat().st_size, progress)
            manifest_store = builder.sign(signer, mime_type, reader, out)
        if len(asked) != 1 or manifest_store.count(placeholder) != 1:
            raise SigningRefused(RuntimeError("c2pa did not sign the claim exactly once"))
        try:
            signature = sign(manifest_store)
        except Exception as exc:
            raise SigningRefused(exc) from exc
        _check_signature(signature, asked[0], certificate_chain)
        _replace_once(Path(temporary), placeholder, signature)
        os.replace(temporary, dest)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _check_signature(signature: bytes, to_be_signed: bytes, certificate_chain: str) -> None:
    """The registry's answer is an ES256 signature of the claim by the chain's leaf."""
    leaf = x509.load_pem_x509_certificates(certificate_chain.encode("ascii"))[0]
    key = leaf.public_key()
    half = SIGNATURE_BYTES // 2
    try:
        if len(signature) != SIGNATURE_BYTES or not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        der = encode_dss_signature(
            int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        )
        key.verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SigningRefused(
            RuntimeError("the registry's answer is not its signature of this claim")
        ) from None


def _replace_once(path: Path, placeholder: bytes, signature: bytes) -> None:
    """Write ``signature`` over the one ``placeholder`` in the file at ``path``."""
    size = path.stat().st_size
    with path.open("r+b", buffering=0) as stream:
        head = (0, min(size, NEAR_THE_ENDS))
        tail = (max(0, size - NEAR_THE_ENDS), size)
        offset = _find(stream, placeholder, *head)
        if offset is None:
            offset = _find(stream, placeholder, *tail)
        if offset is None:
            offset = _find(stream, placeholder, 0, size)
        if offset is None:
            raise SigningRefused(RuntimeError("c2pa's output holds no placeholder to replace"))
        os.pwrite(stream.fileno(), signature, offset)


def _find(stream: io.FileIO, needle: bytes, start: int, end: int) -> int | None:
    """Where ``needle`` first occurs in ``[start, end)``, read a chunk at a time."""
    overlap = len(needle) - 1
    position = start
    while position < end:
        chunk = os.pread(stream.fileno(), min(CHUNK + overlap, end - position), position)
        found = chunk.find(needle)
        if found >= 0:
            return position + found
        if len(chunk) <= overlap:
            return None
        position += len(chunk) - overlap
    return None
