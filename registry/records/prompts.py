"""Prompts: their digest (what a creation record keeps; the client computes the same), and
the text kept at a studio's request: AES-256-GCM under a key derived from
``REGISTRY_PROMPT_SECRET``, bound to its asset (the asset id is the associated data, so a
ciphertext copied to another record does not open)."""

from __future__ import annotations

import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12


def digest(text: str) -> str:
    """SHA-256 of a prompt's UTF-8 text, as given (no normalization)."""
    return hashlib.sha256(text.encode()).hexdigest()


def prompt_key(secret: bytes) -> bytes:
    """The 256-bit encryption key of prompt text, derived from the configured secret."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"consent-registry prompts v1"
    ).derive(secret)


def seal(key: bytes, asset_id: str, prompts: list[str]) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(prompts, ensure_ascii=False).encode()
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, asset_id.encode())


def unseal(key: bytes, asset_id: str, sealed: bytes) -> list[str]:
    """The prompts; ``cryptography.exceptions.InvalidTag`` for another key or asset."""
    if sealed[:1] != VERSION:
        raise ValueError("unknown prompt ciphertext version")
    nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    prompts: list[str] = json.loads(AESGCM(key).decrypt(nonce, ciphertext, asset_id.encode()))
    return prompts
