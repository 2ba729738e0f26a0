"""What the pipeline asks the registry to sign, decoded and held to what the session authorized.

c2pa-python's callback signer hands over the COSE ``Sig_structure`` (RFC 9052, section 4.4):
the CBOR array ``["Signature1", protected, external_aad, payload]``, whose payload is the
C2PA claim (CBOR). The claim lists every assertion by hashed URI (``created_assertions`` and
``gathered_assertions`` in claim v2, ``assertions`` in v1): ``{"url":
"self#jumbf=c2pa.assertions/<label>", "hash": ...}``.

c2pa salts each assertion before hashing it (a random salt in the assertion's JUMBF
description box, new for every signing), so the registry cannot compute the hash an
assertion will have and compare it: a claim whose registry assertions carry altered data is
indistinguishable here from an honest one. What is checked here, before anything is signed:
the signature is ES256 by the registry's own certificate chain, the manifest label is the
session's, the title and claim generator are the registry's, the claim lists exactly the
assertions of the session (the actions assertion among them) plus one hard binding (and
c2pa's claim thumbnail, if the pipeline makes one), and nothing redacted. The assertion
hashes are recorded with the asset; the data they stand for is compared with the session
when the signed file is verified (``authorized``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import cbor2

from registry.c2pa.labels import ACTIONS_LABEL, ACTIONS_LABELS
from registry.local_signing.errors import (
    ClaimNotAsAuthorized,
    ClaimWithoutAiLabel,
    ClaimWithoutHardBinding,
    NotAClaimToSign,
)

COSE_ALG = 1  # the protected header's algorithm
COSE_X5CHAIN = 33
ES256 = -7
HASH_ALGS = frozenset({"sha256", "sha384", "sha512"})
HARD_BINDINGS = ("c2pa.hash.data", "c2pa.hash.boxes", "c2pa.hash.bmff")
THUMBNAIL_PREFIX = "c2pa.thumbnail.claim"
_ASSERTION_URL = re.compile(r"^self#jumbf=(?:/c2pa/[^/]+/)?c2pa\.assertions/([^/]+)$")
_REPEAT = re.compile(r"__\d+$")  # c2pa numbers repeated labels: c2pa.soft-binding__1


@dataclass(frozen=True)
class ClaimToSign:
    """A decoded Sig_structure: its protected header and the claim it carries."""

    protected: dict[Any, Any]
    claim: dict[str, Any]
    payload: bytes  # the claim, as CBOR


@dataclass(frozen=True)
class Expected:
    """What the session authorized: the manifest definition and who signs."""

    manifest_label: str
    definition: dict[str, Any]
    chain_der: list[bytes]


def decode(data: bytes) -> ClaimToSign:
    """The Sig_structure ``data``, or ``NotAClaimToSign``."""
    try:
        structure = cbor2.loads(data)
        if not (isinstance(structure, list) and len(structure) == 4):
            raise ValueError("not a 4-element array")
        context, protected_bytes, external_aad, payload = structure
        if context != "Signature1" or external_aad != b"":
            raise ValueError("not a COSE_Sign1 Sig_structure without external data")
        if not (isinstance(protected_bytes, bytes) and isinstance(payload, bytes)):
            raise ValueError("the protected header and payload must be byte strings")
        protected = cbor2.loads(protected_bytes)
        claim = cbor2.loads(payload)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise NotAClaimToSign(f"The bytes to sign cannot be read: {exc}") from None
    if not isinstance(protected, dict) or not isinstance(claim, dict):
        raise NotAClaimToSign("The protected header and the claim must be CBOR maps.")
    return ClaimToSign(protected=protected, claim=claim, payload=payload)


def check(to_sign: ClaimToSign, expected: Expected) -> dict[str, str]:
    """Refuse a claim that is not what the session authorized; its assertion hashes (label
    as in the claim -> hex) otherwise."""
    _check_signer(to_sign.protected, expected.chain_der)
    claim = to_sign.claim
    _check_facts(claim, expected)
    hashes = _assertion_hashes(claim)
    _check_assertions(list(hashes), expected.definition)
    return hashes


def _check_signer(protected: dict[Any, Any], chain_der: list[bytes]) -> None:
    if protected.get(COSE_ALG) != ES256:
        raise ClaimNotAsAuthorized("The registry signs with ES256 only.", field="alg")
    chain = protected.get(COSE_X5CHAIN)
    chain = [chain] if isinstance(chain, bytes) else chain
    if chain != chain_der:
        raise ClaimNotAsAuthorized(
            "The claim names another certificate chain than the registry's (use the "
            "session's certificate_chain).",
            field="x5chain",
        )


def _check_facts(claim: dict[str, Any], expected: Expected) -> None:
    signature = claim.get("signature")
    wanted = f"c2pa/{expected.manifest_label}/c2pa.signature"
    if signature not in (f"self#jumbf=/{wanted}", f"self#jumbf={wanted}"):
        raise ClaimNotAsAuthorized(
            "The claim's manifest label is not the session's (use the session's definition "
            "as given).",
            field="label",
        )
    if claim.get("alg") not in HASH_ALGS:
        raise ClaimNotAsAuthorized("The claim's hash algorithm is not SHA-2.", field="alg")
    if claim.get("redacted_assertions"):
        raise ClaimNotAsAuthorized("The claim redacts assertions.", field="redacted_assertions")
    title = claim.get("dc:title", claim.get("title"))
    if title != expected.definition.get("title"):
        raise ClaimNotAsAuthorized("The claim's title is not the session's.", field="title")
    info = claim.get("claim_generator_info")
    info = info[0] if isinstance(info, list) and info else info
    wanted_info = expected.definition["claim_generator_info"][0]
    if not isinstance(info, dict) or any(info.get(k) != v for k, v in wanted_info.items()):
        raise ClaimNotAsAuthorized(
            "The claim's generator is not the registry's.", field="claim_generator_info"
        )


def _assertion_hashes(claim: dict[str, Any]) -> dict[str, str]:
    references = [
        *(claim.get("created_assertions") or []),
        *(claim.get("gathered_assertions") or []),
        *(claim.get("assertions") or []),
    ]
    hashes: dict[str, str] = {}
    for reference in references:
        url = reference.get("url") if isinstance(reference, dict) else None
        digest = reference.get("hash") if isinstance(reference, dict) else None
        match = _ASSERTION_URL.match(url) if isinstance(url, str) else None
        if match is None or not isinstance(digest, bytes) or match.group(1) in hashes:
            raise NotAClaimToSign("The claim lists an assertion that is not a hashed URI.")
        hashes[match.group(1)] = digest.hex()
    return hashes


def base_label(label: str) -> str:
    """``c2pa.soft-binding__1`` -> ``c2pa.soft-binding``; actions labels -> ``c2pa.actions``."""
    label = _REPEAT.sub("", label)
    return ACTIONS_LABEL if label in ACTIONS_LABELS else label


def is_hard_binding(label: str) -> bool:
    return any(label == b or label.startswith(b + ".") for b in HARD_BINDINGS)


def _check_assertions(labels: list[str], definition: dict[str, Any]) -> None:
    bindings = [label for label in labels if is_hard_binding(base_label(label))]
    listed = Counter(
        base_label(label)
        for label in labels
        if label not in bindings and not base_label(label).startswith(THUMBNAIL_PREFIX)
    )
    wanted = Counter(base_label(a["label"]) for a in definition["assertions"])
    if ACTIONS_LABEL in wanted and ACTIONS_LABEL not in listed:
        raise ClaimWithoutAiLabel(
            "The claim has no actions assertion: the media would not be labelled as AI-generated.",
            missing=[ACTIONS_LABEL],
        )
    if len(bindings) != 1:
        raise ClaimWithoutHardBinding(
            "The claim must bind the content with exactly one hard binding, "
            f"it has {len(bindings)}.",
            hard_bindings=bindings,
        )
    if listed != wanted:
        raise ClaimNotAsAuthorized(
            "The claim's assertions are not the session's.",
            missing=sorted((wanted - listed).elements()),
            unexpected=sorted((listed - wanted).elements()),
        )
