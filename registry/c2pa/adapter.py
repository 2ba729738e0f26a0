"""The only place that asks c2pa-python for work: sign a file with a manifest, read one back.

Every file first passes the structural pre-check (``registry.intake.structure``): a file cut
short or built from more pieces than real media is refused before c2pa sees it. c2pa then
runs in a helper process under a time and memory budget (``registry.c2pa.budget``; the calls
themselves are in ``registry/c2pa/helper.py``), so that no file can hold a worker's thread or
memory for longer than its size warrants. Every c2pa exception is converted here. Native
objects live in the helper: a Builder, Signer or Reader per call, a Context per settings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from registry.c2pa import budget
from registry.c2pa.errors import ManifestSigningFailed, ManifestUnreadable
from registry.c2pa.labels import ACTIONS_LABELS
from registry.errors import InternalError
from registry.intake.errors import MalformedMedia, UnsupportedMedia
from registry.intake.sniff import SUPPORTED_MIME_TYPES
from registry.intake.structure import check_structure
from registry.keys.c2pa_credential import SIGNER_EKUS, C2paCredential, SigningCredentialError
from registry.keys.kms import KmsCredential

log = logging.getLogger(__name__)

# RIFF containers: c2pa writes them whole, then goes back to fix the RIFF size at offset 4, so
# hashing them while they are written is wasted work (and memory: its writes are ~10 MB each).
_REWRITTEN_BY_C2PA = frozenset({"audio/wav", "image/webp"})
# Without this list c2pa rejects signers that carry only the C2PA claim-signing EKU.
_TRUST_CONFIG = "".join(f"{oid}\n" for oid in SIGNER_EKUS)


@dataclass(frozen=True)
class SignResult:
    """A signed file: its manifest label, the digest of the bytes written, and the manifest
    store c2pa embedded in it (JUMBF, ``application/c2pa``: what the Soft Binding Resolution
    API serves; c2pa-python has no way to export it from a signed file later)."""

    manifest_label: str
    sha256: str
    size: int
    manifest_store: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class ValidationCode:
    """One c2pa validation status entry; ``kind`` is success, informational or failure."""

    code: str
    kind: str
    explanation: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SignerIdentity:
    """Who signed the active manifest, as the leaf certificate names them."""

    common_name: str | None
    issuer: str | None
    serial_number: str | None
    alg: str | None


@dataclass(frozen=True)
class ManifestReport:
    """What a reader found in a file; ``has_manifest`` False means no C2PA data at all."""

    has_manifest: bool
    active_manifest_label: str | None = None
    validation_state: str | None = None
    validation_codes: tuple[ValidationCode, ...] = ()
    assertions: dict[str, Any] = field(default_factory=dict)
    signer: SignerIdentity | None = None
    signed_at: str | None = None
    claim_generator: str | None = None
    manifest_store: dict[str, Any] | None = None

    @property
    def failure_codes(self) -> set[str]:
        return {entry.code for entry in self.validation_codes if entry.kind == "failure"}

    @property
    def actions(self) -> list[dict[str, Any]]:
        """The actions of the active manifest, whichever actions label c2pa used."""
        for label in ACTIONS_LABELS:
            if label in self.assertions:
                return list(self.assertions[label].get("actions", []))
        return []


def sign_file(
    *,
    source: Path,
    dest: Path,
    mime_type: str,
    manifest: dict[str, Any],
    credential: C2paCredential,
    thumbnails: bool = False,
) -> SignResult:
    """Embed and sign ``manifest`` into a copy of ``source`` written to ``dest``.

    Raises ``UnsupportedMedia`` (415), ``MalformedMedia`` (422) for a file that cannot be
    parsed, ``MediaTooComplex`` and ``MediaOverBudget`` (422) for one too costly to sign,
    ``ManifestSigningFailed`` (500) otherwise. ``dest`` never survives a failure.
    """
    _require_supported(mime_type, c2pa.Builder.get_supported_mime_types())
    check_structure(source, mime_type=mime_type)
    definition = dict(manifest)
    # Choosing the label ourselves means no second read of the signed file to learn it.
    label = str(definition.setdefault("label", f"urn:c2pa:{uuid.uuid4()}"))
    try:
        signed = _sign(
            source=source,
            dest=dest,
            mime_type=mime_type,
            definition=definition,
            settings=signing_settings(thumbnails=thumbnails),
            credential=credential,
        )
        manifest_store, written = signed
        if written is not None and written[1] == dest.stat().st_size:
            digest, size = written
        else:  # c2pa went back to patch what it had written: hash the finished file
            digest, size = _sha256(dest)
    except BaseException as exc:
        dest.unlink(missing_ok=True)
        if isinstance(exc, c2pa.C2paError):
            raise _signing_error(exc, mime_type) from exc
        if isinstance(exc, OSError):
            raise ManifestSigningFailed("Reading or writing the media failed.") from exc
        if isinstance(exc, budget.HelperFailed):
            raise _crashed(exc, MalformedMedia, mime_type) from exc
        raise
    return SignResult(manifest_label=label, sha256=digest, size=size, manifest_store=manifest_store)


def signing_settings(*, thumbnails: bool, verify_after_sign: bool = True) -> dict[str, Any]:
    """The c2pa settings every signing uses (also what benchmarks/sign_throughput.py signs with).

    ``verify_after_sign`` off: c2pa does not check the signature it has just embedded (a
    pipeline signing in a session embeds a placeholder, then the registry's signature).
    """
    return {
        # Thumbnails are ~95% of image signing time and carry a copy of the picture.
        "builder": {"thumbnail": {"enabled": thumbnails}},
        "trust": {"trust_config": _TRUST_CONFIG},  # c2pa verifies what it has just signed
        "verify": {
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
            "verify_after_sign": verify_after_sign,
        },
    }


def _sign(
    *,
    source: Path,
    dest: Path,
    mime_type: str,
    definition: dict[str, Any],
    settings: dict[str, Any],
    credential: C2paCredential,
) -> tuple[bytes, tuple[str, int] | None]:
    """Sign ``source`` into ``dest`` (in a helper, under the budget for the source's size); the
    manifest store embedded, and the SHA-256 and size of what was written, if it was written
    front to back."""
    signer, on_callback = _signer_spec(credential)
    answer = budget.call(
        {
            "op": "sign",
            "source": os.fspath(source.absolute()),
            "dest": os.fspath(dest.absolute()),
            "mime_type": mime_type,
            "definition": definition,
            "settings": settings,
            "signer": signer,
            "hashing": mime_type not in _REWRITTEN_BY_C2PA,
        },
        size=source.stat().st_size,
        on_callback=on_callback,
    )
    _raise_reported(answer)
    digest = answer.get("digest")
    manifest_store = bytes(answer.get("payload", b""))
    return manifest_store, ((str(digest[0]), int(digest[1])) if digest else None)


def _signer_spec(
    credential: C2paCredential,
) -> tuple[dict[str, Any], Callable[[bytes], bytes] | None]:
    """How the helper makes its native signer: from the PEM key, or by asking us (KMS: the
    helper sends what is to be signed, this process has KMS sign it)."""
    chain = credential.cert_chain_pem
    if isinstance(credential, KmsCredential):
        spec = {"kind": "callback", "chain": _b64(chain), "tsa_url": credential.tsa_url}
        return spec, credential.sign_digest_of
    spec = {
        "kind": "key",
        "alg": credential.alg,
        "chain": _b64(chain),
        "key": _b64(credential.private_key_pem),
        "tsa_url": credential.tsa_url,
    }
    return spec, None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raise_reported(answer: dict[str, Any]) -> None:
    """Raise what the helper reported, as the in-process call would have raised it."""
    error = answer.get("error")
    if error is None:
        return
    message = str(answer.get("message", ""))
    if error == "c2pa":
        kind = getattr(c2pa.C2paError, str(answer.get("name") or ""), None)
        if not (isinstance(kind, type) and issubclass(kind, c2pa.C2paError)):
            kind = c2pa.C2paError
        raise kind(message)
    if error == "os":
        raise OSError(message)
    if error == "signer":
        raise SigningCredentialError(message)
    raise RuntimeError(f"the c2pa helper failed: {message}")


def _crashed(exc: budget.HelperFailed, error: type[MalformedMedia], mime_type: str) -> Exception:
    """c2pa ended its process on this file (a signal, not a budget): the file's doing, 422;
    a helper that exits by itself is ours, 500."""
    if exc.returncode is not None and exc.returncode < 0:
        log.error("c2pa crashed on a %s file (signal %d)", mime_type, -exc.returncode)
        return error(f"The file cannot be processed as {mime_type}: c2pa stopped on it.")
    if error is ManifestUnreadable:
        return InternalError("The c2pa helper process failed.")
    return ManifestSigningFailed("The c2pa helper process failed.")


def _signing_error(exc: c2pa.C2paError, mime_type: str) -> Exception:
    """Tell a bad input file (422) from our own failure (500).

    c2pa reports unparsable assets as ``Other: asset could not be parsed`` and a source that
    ends early as ``Io: failed to fill whole buffer``; the message is all there is to go on.
    """
    message = str(exc)
    bad_input = (
        isinstance(exc, c2pa.C2paError.NotSupported)  # the type was checked: content mismatch
        or (isinstance(exc, c2pa.C2paError.Other) and "could not be parsed" in message)
        or (isinstance(exc, c2pa.C2paError.Io) and "fill whole buffer" in message)
    )
    if bad_input:
        return MalformedMedia(f"The file cannot be parsed as {mime_type}: {_reason(message)}")
    if isinstance(exc, c2pa.C2paError.Signature):
        return ManifestSigningFailed("The signing credential was rejected while signing.")
    return ManifestSigningFailed("Signing the media failed.")


def read_manifest(
    *,
    path: Path,
    mime_type: str,
    trust_anchors_pem: str | None,
    allow_network: bool = False,
) -> ManifestReport:
    """Read and validate the C2PA manifest store of the file at ``path``.

    ``trust_anchors_pem`` are the only roots a signer is trusted under. Network use
    (remote manifests, OCSP) is off unless ``allow_network``. A file without C2PA data gives
    ``has_manifest=False``; one whose container or manifest cannot be read raises
    ``ManifestUnreadable`` (422).
    """
    _require_supported(mime_type, c2pa.Reader.get_supported_mime_types())
    try:
        check_structure(path, mime_type=mime_type)
    except MalformedMedia as exc:  # not MediaTooComplex: that keeps its own problem type
        raise ManifestUnreadable(exc.detail) from exc
    trust = {"trust_config": _TRUST_CONFIG}
    if trust_anchors_pem:
        trust["user_anchors"] = trust_anchors_pem
    settings = {
        "trust": trust,
        "verify": {"remote_manifest_fetch": allow_network, "ocsp_fetch": allow_network},
    }
    request = {
        "op": "read",
        "path": os.fspath(path.absolute()),
        "mime_type": mime_type,
        "settings": settings,
    }
    try:
        answer = budget.call(request, size=path.stat().st_size)
        _raise_reported(answer)
    except c2pa.C2paError.ManifestNotFound:
        return ManifestReport(has_manifest=False)
    except c2pa.C2paError as exc:
        raise ManifestUnreadable(
            f"The C2PA data of the file cannot be read: {_reason(str(exc))}"
        ) from exc
    except budget.HelperFailed as exc:
        raise _crashed(exc, ManifestUnreadable, mime_type) from exc
    if not answer.get("store"):
        return ManifestReport(has_manifest=False)
    return _report(json.loads(answer["payload"]))


def _report(store: dict[str, Any]) -> ManifestReport:
    label = store.get("active_manifest")
    active = store.get("manifests", {}).get(label, {}) if label else {}
    signature = active.get("signature_info") or {}
    return ManifestReport(
        has_manifest=True,
        active_manifest_label=label,
        validation_state=store.get("validation_state"),
        validation_codes=_validation_codes(store),
        assertions={item["label"]: item.get("data") for item in active.get("assertions", [])},
        signer=SignerIdentity(
            common_name=signature.get("common_name"),
            issuer=signature.get("issuer"),
            serial_number=signature.get("cert_serial_number"),
            alg=signature.get("alg"),
        )
        if signature
        else None,
        # Only a timestamp authority gives a trustworthy signing time; without one: None.
        signed_at=signature.get("time"),
        claim_generator=_claim_generator(active),
        manifest_store=store,
    )


def _validation_codes(store: dict[str, Any]) -> tuple[ValidationCode, ...]:
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    codes = [
        ValidationCode(
            code=entry.get("code", ""),
            kind=kind,
            explanation=entry.get("explanation"),
            url=entry.get("url"),
        )
        for kind in ("failure", "informational", "success")
        for entry in results.get(kind, [])
    ]
    # validation_status is the older flat list of problems; keep any the results lack.
    known = {(entry.code, entry.url) for entry in codes}
    for entry in store.get("validation_status", []):
        if (entry.get("code"), entry.get("url")) not in known:
            codes.append(
                ValidationCode(
                    entry.get("code", ""), "failure", entry.get("explanation"), entry.get("url")
                )
            )
    return tuple(codes)


def _claim_generator(active: dict[str, Any]) -> str | None:
    infos = active.get("claim_generator_info") or []
    if infos:
        first = infos[0]
        return "/".join(str(part) for part in (first.get("name"), first.get("version")) if part)
    generator = active.get("claim_generator")
    return str(generator) if generator else None


def _require_supported(mime_type: str, c2pa_types: list[str]) -> None:
    if mime_type not in SUPPORTED_MIME_TYPES or mime_type not in c2pa_types:
        raise UnsupportedMedia(
            f"{mime_type} is not a supported media type.", supported=SUPPORTED_MIME_TYPES
        )


def _reason(message: str) -> str:
    """c2pa's own words without its error-class prefix, short enough for a problem detail."""
    _, _, rest = message.partition(": ")
    text = (rest or message).strip()
    return text if len(text) <= 200 else text[:197] + "..."


def _sha256(path: Path) -> tuple[str, int]:
    with path.open("rb", buffering=0) as stream:
        digest = hashlib.file_digest(stream, "sha256")  # one reused buffer, no copies
        return digest.hexdigest(), os.fstat(stream.fileno()).st_size
