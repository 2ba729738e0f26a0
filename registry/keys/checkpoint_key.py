"""The Ed25519 key that signs audit-log checkpoints, and the signed-note format it signs in.

Checkpoints are C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a
newline, a blank line, then signature lines ``— <key name> base64(key ID || signature)``.
The key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]`` and the key is published
as a verifier key, ``<key name>+hex(key ID)+base64(0x01 || public key)``.

Why Ed25519 (signature type 0x01): it is the type the signed-note spec itself defines, the one
the transparency-log ecosystem's tools verify (Go's ``sumdb/note``, witnesses, ``litetlog``),
and ``cryptography`` implements it. The ES256 token keys are deliberately not reused: one key
per protocol, and signed-note's ECDSA type (0x02) is specific to one witness implementation.

Layout under ``keys_dir/checkpoint``: ``ed25519.pem`` (PKCS#8, mode 0600) and, for a key that
``registry keys init`` made outside production, the ``DEVELOPMENT-ONLY`` marker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.errors import RegistryError
from registry.keys.keyring import DEV_MARKER, KeyRingError, exclusive_lock, is_development_dir

ED25519 = 0x01  # signed-note signature type
KEY_FILE = "ed25519.pem"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# A note larger than this is refused before it is parsed (the spec asks verifiers for a limit;
# 16 post-quantum signatures fit).
MAX_NOTE_BYTES = 128 * 1024


class CheckpointKeyError(KeyRingError):
    """The checkpoint key is missing or unusable (a deployment problem, not a client's)."""


class SignedNoteError(RegistryError):
    """A signed note is malformed or its signature does not verify."""

    status = 422
    slug = "invalid-signed-note"
    title = "The signed note is not valid"


def checkpoint_dir(keys_dir: Path) -> Path:
    return keys_dir / "checkpoint"


def check_key_name(name: str) -> str:
    """``name`` if it is a valid note key name: non-empty, no spaces, no plus."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise CheckpointKeyError(f"{name!r} is not a signed-note key name (no spaces or '+')")
    return name


def _key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_raw).digest()[:4]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class NoteVerifier:
    """One Ed25519 note key as a verifier: its name, key ID and public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey = field(repr=False)

    @classmethod
    def for_key(cls, name: str, public_key: Ed25519PublicKey) -> NoteVerifier:
        check_key_name(name)
        return cls(name=name, key_id=_key_id(name, _raw(public_key)), public_key=public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || key)>`` (Ed25519 only)."""
        name, _, rest = vkey.strip().partition("+")
        hex_id, _, encoded = rest.partition("+")
        try:
            key_id = bytes.fromhex(hex_id)
            material = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise SignedNoteError("the verifier key is malformed") from exc
        if len(key_id) != 4 or len(material) != 33 or material[0] != ED25519:
            raise SignedNoteError("the verifier key is not an Ed25519 note verifier key")
        verifier = cls.for_key(name, Ed25519PublicKey.from_public_bytes(material[1:]))
        if verifier.key_id != key_id:
            raise SignedNoteError("the verifier key's ID does not match its name and key")
        return verifier

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([ED25519]) + _raw(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def open(self, note: str | bytes) -> str:
        """The text of ``note`` once this key's signature on it verifies.

        As the spec asks: signatures of other keys are ignored, a signature of this key that
        fails to verify rejects the note, and so does a note this key did not sign.
        """
        text, signatures = parse_note(note)
        ours = [sig for name, sig in signatures if name == self.name and sig[:4] == self.key_id]
        if not ours:
            raise SignedNoteError(
                f"the note has no signature by {self.name} (key ID {self.key_id.hex()})"
            )
        for signature in ours:
            try:
                self.public_key.verify(signature[4:], text.encode())
            except InvalidSignature:
                raise SignedNoteError(
                    f"the signature by {self.name} (key ID {self.key_id.hex()}) does not verify"
                ) from None
        return text


def parse_note(note: str | bytes) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a signed note into its text (with its final newline) and (key name, signature)s."""
    if isinstance(note, str):
        note = note.encode()
    if len(note) > MAX_NOTE_BYTES:
        raise SignedNoteError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignedNoteError("the note is not valid UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise SignedNoteError("the note contains control characters other than newline")
    split = decoded.rfind("\n\n")
    if split < 0 or not decoded.endswith("\n"):
        raise SignedNoteError("the note has no blank line before its signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise SignedNoteError("a signature line does not start with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise SignedNoteError("a signature is not valid base64") from exc
        if not name or "+" in name or len(signature) < 5:
            raise SignedNoteError("a signature line is malformed")
        signatures.append((name, signature))
    return text, signatures


@dataclass(frozen=True)
class CheckpointKey:
    """The registry's checkpoint signing key under its note key name."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)  # never in a log line
    is_development: bool = False

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.for_key(self.name, self.private_key.public_key())

    def sign(self, text: str) -> str:
        """``text`` (lines, ending in a newline) as a note signed by this key."""
        if not text.endswith("\n") or "\n\n" in text:
            raise ValueError("a note text ends in a newline and has no empty line here")
        verifier = self.verifier
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def init_checkpoint_key(keys_dir: Path, *, development: bool = True) -> bool:
    """Create the checkpoint key when there is none; True if it was created now.

    Safe across processes (gunicorn's workers may all create the development key at once).
    """
    directory = checkpoint_dir(keys_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEY_FILE
    with exclusive_lock(directory / ".lock"):
        if path.exists():
            return False
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        if development:
            (directory / DEV_MARKER).write_text(
                "This audit checkpoint key was generated for development. "
                "Never use it in production.\n"
            )
    return True


def load_checkpoint_key(keys_dir: Path, *, name: str) -> CheckpointKey:
    """The checkpoint key under ``keys_dir``, signing as ``name``."""
    directory = checkpoint_dir(keys_dir)
    path = directory / KEY_FILE
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise CheckpointKeyError(
            f"no audit checkpoint key in {directory}; run `registry keys init`"
        ) from exc
    except ValueError as exc:
        raise CheckpointKeyError(f"{path} is not a PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 private key")
    return CheckpointKey(
        name=check_key_name(name), private_key=loaded, is_development=is_development_dir(directory)
    )
