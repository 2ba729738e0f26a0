"""ES256 keys that sign access tokens and consent tokens, kept as PEM files.

Layout under ``keys_dir/jwt``: ``<kid>.pem`` per private key and ``active`` naming the key that
signs. Rotation adds a key and moves ``active``; old public keys stay published because consent
tokens they signed stay valid for years. Workers notice a rotation by the directory's mtime.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

DEV_MARKER = "DEVELOPMENT-ONLY"


def is_development_dir(directory: Path) -> bool:
    """Whether ``directory`` holds keys that ``registry keys init`` generated for development."""
    return (directory / DEV_MARKER).exists()


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path``: workers starting together on a fresh
    data directory take turns creating keys (other processes wait)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class KeyRingError(RuntimeError):
    """The key directory is missing or unusable (a deployment problem, not a client's)."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public key as a JWK (RFC 7518 EC: kty, crv, x, y), as PyJWT exports it."""
    jwk: dict[str, str] = ECAlgorithm.to_jwk(key, as_dict=True)
    return jwk


def thumbprint(key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint: a kid that anyone can recompute from the public key."""
    jwk = public_jwk(key)
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _jwt_dir(keys_dir: Path) -> Path:
    return keys_dir / "jwt"


def _write_key(directory: Path) -> str:
    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = thumbprint(private_key.public_key())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = directory / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return kid


def _set_active(directory: Path, kid: str) -> None:
    tmp = directory / "active.tmp"
    tmp.write_text(kid + "\n")
    os.replace(tmp, directory / "active")


def init_keys(keys_dir: Path, *, development: bool = True) -> str | None:
    """Create a first signing key when there is none; return its kid (None if keys existed)."""
    directory = _jwt_dir(keys_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "active").exists():
        return None
    kid = _write_key(directory)
    if development:
        (directory / DEV_MARKER).write_text(
            "These keys were generated for development. Never use them in production.\n"
        )
    _set_active(directory, kid)
    return kid


def rotate_keys(keys_dir: Path) -> str:
    """Make a new key active; the old public keys stay published."""
    directory = _jwt_dir(keys_dir)
    if not (directory / "active").exists():
        raise KeyRingError(f"no keys in {directory}; run `registry keys init` first")
    kid = _write_key(directory)
    _set_active(directory, kid)
    return kid


class KeyRing:
    """The signing keys of one process, reloaded when the directory changes."""

    def __init__(self, *, keys_dir: Path) -> None:
        self.directory = _jwt_dir(keys_dir)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, SigningKey] = {}
        self._active_kid = ""
        self._jwks: dict[str, Any] = {"keys": []}
        self._reload_if_changed()
        if not self._keys:
            raise KeyRingError(f"no signing keys in {self.directory}; run `registry keys init`")

    @property
    def is_development(self) -> bool:
        return is_development_dir(self.directory)

    def _stamp_now(self) -> tuple[int, int]:
        try:
            return (
                self.directory.stat().st_mtime_ns,
                (self.directory / "active").stat().st_mtime_ns,
            )
        except FileNotFoundError as exc:
            raise KeyRingError(f"no signing keys in {self.directory}") from exc

    def _reload_if_changed(self) -> None:
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return
        with self._lock:
            keys: dict[str, SigningKey] = {}
            for path in sorted(self.directory.glob("*.pem")):
                loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                    raise KeyRingError(f"{path} is not an EC private key")
                keys[path.stem] = SigningKey(kid=path.stem, private_key=loaded)
            active = (self.directory / "active").read_text().strip()
            if active not in keys:
                raise KeyRingError(f"active key {active!r} is missing from {self.directory}")
            jwks = {
                "keys": [
                    {**public_jwk(k.public_key), "kid": kid, "use": "sig", "alg": "ES256"}
                    for kid, k in keys.items()
                ]
            }
            self._keys, self._active_kid, self._jwks, self._stamp = keys, active, jwks, stamp

    @property
    def active(self) -> SigningKey:
        self._reload_if_changed()
        return self._keys[self._active_kid]

    def public_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The public key for ``kid``, looking at the directory again when it is unknown."""
        key = self._keys.get(kid)
        if key is None:
            self._reload_if_changed()
            key = self._keys.get(kid)
        return key.public_key if key else None

    def jwks(self) -> dict[str, Any]:
        self._reload_if_changed()
        return self._jwks
