"""The manifest a pipeline's c2pa built, read and held to what the session authorized.

The pipeline runs c2pa with a placeholder signature (``pipeline``) and sends the manifest
store c2pa returns: JUMBF holding one manifest, whose claim (CBOR) lists every assertion by
hashed URI (``{"url": "self#jumbf=c2pa.assertions/<label>", "hash": ...}``), whose assertion
boxes hold their data, and whose COSE_Sign1 signature box holds the protected header (the
algorithm and certificate chain) and the placeholder.

c2pa salts each assertion at random, so the registry cannot predict the hashes; it has the
boxes instead. Before anything is signed, ``check`` refuses a manifest unless:

- the signature is ES256 by the registry's own certificate chain;
- the manifest's label, title and claim generator are the session's, nothing is redacted;
- every assertion the claim lists is in the store and hashes (SHA-2, over the superbox's
  payload, as C2PA hashes JUMBF) to the hash the claim lists, and the store holds none other;
- the assertions are exactly the session's (the actions assertion among them) plus one hard
  binding (and c2pa's claim thumbnail, if the pipeline makes one);
- each of the session's assertions carries the session's data (c2pa may add fields of its
  own to the actions; every other assertion is the registry's, byte for byte as data).

The registry then signs the COSE ``Sig_structure`` (RFC 9052, section 4.4) it builds itself
from that claim and protected header: what it signs is what it checked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cbor2

from registry.c2pa import jumbf
from registry.c2pa.labels import ACTIONS_LABEL, ACTIONS_LABELS
from registry.local_signing.errors import (
    ClaimNotAsAuthorized,
    ClaimWithoutAiLabel,
    ClaimWithoutHardBinding,
    NotAManifestToSign,
)

COSE_ALG = 1  # the protected header's algorithm
COSE_X5CHAIN = 33
COSE_SIGN1_TAG = 18
ES256 = -7
HASH_ALGS = frozenset({"sha256", "sha384", "sha512"})
HARD_BINDINGS = ("c2pa.hash.data", "c2pa.hash.boxes", "c2pa.hash.bmff")
THUMBNAIL_PREFIX = "c2pa.thumbnail.claim"
STORE_LABEL = "c2pa"
CLAIM_LABELS = ("c2pa.claim.v2", "c2pa.claim")
SIGNATURE_LABEL = "c2pa.signature"
ASSERTIONS_LABEL = "c2pa.assertions"
_ASSERTION_URL = re.compile(r"^self#jumbf=(?:/c2pa/[^/]+/)?c2pa\.assertions/([^/]+)$")
_REPEAT = re.compile(r"__\d+$")  # c2pa numbers repeated labels: c2pa.soft-binding__1


@dataclass(frozen=True)
class ManifestToSign:
    """The one manifest of a store: its label, claim, protected header and assertion boxes."""

    label: str
    protected: dict[Any, Any]
    protected_bytes: bytes
    claim: dict[str, Any]
    payload: bytes  # the claim, as CBOR
    assertions: dict[str, jumbf.Superbox]  # by label, as in the store

    @property
    def to_be_signed(self) -> bytes:
        """The COSE Sig_structure of the claim: what c2pa's callback signer is given."""
        return bytes(cbor2.dumps(["Signature1", self.protected_bytes, b"", self.payload]))


@dataclass(frozen=True)
class Expected:
    """What the session authorized: the manifest definition and who signs."""

    manifest_label: str
    definition: dict[str, Any]
    chain_der: list[bytes]


def read(store: bytes) -> ManifestToSign:
    """The manifest store ``store`` holds, or ``NotAManifestToSign``."""
    try:
        root = jumbf.parse(store)
    except jumbf.JumbfError as exc:
        raise NotAManifestToSign(f"The manifest store is not JUMBF: {exc}") from None
    manifests = root.superboxes()
    if root.label != STORE_LABEL or len(manifests) != 1:
        raise NotAManifestToSign("The manifest store must hold exactly one manifest.")
    manifest = manifests[0]
    claim_box = next(filter(None, (manifest.child(label) for label in CLAIM_LABELS)), None)
    payload = _content(claim_box, b"cbor", "claim")
    claim = _cbor(payload, "claim")
    cose = _cbor(_content(manifest.child(SIGNATURE_LABEL), b"cbor", "signature"), "signature")
    sign1 = cose.value if isinstance(cose, cbor2.CBORTag) and cose.tag == COSE_SIGN1_TAG else None
    # cbor2 decodes an array under a tag as a tuple.
    if not (isinstance(sign1, list | tuple) and len(sign1) == 4 and isinstance(sign1[0], bytes)):
        raise NotAManifestToSign("The signature box does not hold a COSE_Sign1.")
    protected = _cbor(sign1[0], "protected header")
    if not isinstance(claim, dict) or not isinstance(protected, dict):
        raise NotAManifestToSign("The claim and the protected header must be CBOR maps.")
    assertions_box = manifest.child(ASSERTIONS_LABEL)
    assertions: dict[str, jumbf.Superbox] = {}
    for box in assertions_box.superboxes() if assertions_box else []:
        if box.label is None or box.label in assertions:
            raise NotAManifestToSign("An assertion box has no label, or a repeated one.")
        assertions[box.label] = box
    return ManifestToSign(
        label=manifest.label or "",
        protected=protected,
        protected_bytes=sign1[0],
        claim=claim,
        payload=payload,
        assertions=assertions,
    )


def _content(box: jumbf.Superbox | None, kind: bytes, what: str) -> bytes:
    content = box.content() if box is not None else None
    if content is None or content.type != kind:
        raise NotAManifestToSign(f"The manifest has no {what} box.")
    return content.payload


def _cbor(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise NotAManifestToSign(f"The {what} is not CBOR: {exc}") from None


def check(manifest: ManifestToSign, expected: Expected) -> dict[str, str]:
    """Refuse a manifest that is not what the session authorized; its assertion hashes
    (label as in the claim -> hex) otherwise."""
    _check_signer(manifest.protected, expected.chain_der)
    if manifest.label != expected.manifest_label:
        raise ClaimNotAsAuthorized(
            "The manifest's label is not the session's (use the session's definition as given).",
            field="label",
        )
    _check_facts(manifest.claim, expected)
    hashes = _assertion_hashes(manifest)
    _check_assertions(list(hashes), expected.definition)
    differ = differences(expected.definition, _data(manifest, list(hashes)))
    if differ:
        raise ClaimNotAsAuthorized(
            "The manifest's assertions carry other data than the session authorized "
            f"({', '.join(differ)}).",
            differs=differ,
        )
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
    wanted = f"c2pa/{expected.manifest_label}/{SIGNATURE_LABEL}"
    if signature not in (f"self#jumbf=/{wanted}", f"self#jumbf={wanted}"):
        raise ClaimNotAsAuthorized(
            "The claim's signature is not the session's manifest's.", field="label"
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


def _assertion_hashes(manifest: ManifestToSign) -> dict[str, str]:
    """The claim's hashed URIs, each checked against the assertion box it names."""
    claim = manifest.claim
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
            raise NotAManifestToSign("The claim lists an assertion that is not a hashed URI.")
        label = match.group(1)
        alg = reference.get("alg", claim["alg"])
        box = manifest.assertions.get(label)
        if box is None or alg not in HASH_ALGS or hashlib.new(alg, box.payload).digest() != digest:
            raise NotAManifestToSign(
                f"The assertion {label} is not in the manifest as its claim hashed it.",
                assertion=label,
            )
        hashes[label] = digest.hex()
    unlisted = sorted(set(manifest.assertions) - set(hashes))
    if unlisted:
        raise NotAManifestToSign(
            "The manifest holds assertions its claim does not list.", unexpected=unlisted
        )
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


def _data(manifest: ManifestToSign, labels: list[str]) -> dict[str, Any]:
    """Each listed assertion's data (its CBOR or JSON content box, decoded), by label."""
    found: dict[str, Any] = {}
    for label in labels:
        content = manifest.assertions[label].content()
        try:
            if content is not None and content.type == b"cbor":
                found[label] = cbor2.loads(content.payload)
            elif content is not None and content.type == b"json":
                found[label] = json.loads(content.payload)
        except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
            raise NotAManifestToSign(f"The assertion {label} cannot be read.") from None
    return found


def _covers(wanted: Any, found: Any) -> bool:
    """``found`` states everything ``wanted`` does (c2pa may add fields of its own to a map,
    and writes an action's ``when`` as a CBOR date-time)."""
    if isinstance(found, datetime) and isinstance(wanted, str):
        try:
            return datetime.fromisoformat(wanted) == found
        except ValueError:
            return False
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(
            key in found and _covers(value, found[key]) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(found, list)
            and len(found) == len(wanted)
            and all(_covers(w, f) for w, f in zip(wanted, found, strict=True))
        )
    return bool(wanted == found)


def differences(definition: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Labels of the definition's assertions that ``found`` (data by label, as in the
    manifest) states otherwise, or not at all."""
    wanted: dict[str, list[Any]] = {}
    for assertion in definition["assertions"]:
        wanted.setdefault(base_label(assertion["label"]), []).append(assertion["data"])
    differ = []
    for label, datas in sorted(wanted.items()):
        present = [data for name, data in found.items() if base_label(name) == label]
        exact = label != ACTIONS_LABEL  # c2pa rewrites actions (v2); the rest is ours, as given
        same = len(present) == len(datas) and all(
            (w == f) if exact else _covers(w, f) for w, f in zip(datas, present, strict=True)
        )
        if not same:
            differ.append(label)
    return differ
