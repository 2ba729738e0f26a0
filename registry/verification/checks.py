"""Checks of the label itself: presence, integrity, signer, AI source type, training, regulation.

Each check is a pure function of what the reader reported; consent checks live in
``consent_checks`` because they read the registry.
"""

from __future__ import annotations

from typing import Any

from registry.c2pa.adapter import ManifestReport
from registry.c2pa.labels import CONSENT_LABEL, DISCLOSURE_LABEL, IPTC_SOURCE_TYPE, TRAINING_LABEL
from registry.verification.schemas import Check, CheckName

FULLY_GENERATED = {"trainedAlgorithmicMedia"}
PARTLY_GENERATED = {"compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"}
# Tried in order: claimSignature.mismatch is a bad signature, not changed content.
_INTEGRITY_NAMES = {
    "claimSignature": "signature_invalid",
    "mismatch": "hash_mismatch",
    "missing": "missing_part",
}


def manifest_present(report: ManifestReport, *, recovered: bool) -> Check:
    if report.has_manifest:
        return Check(
            check="manifest_present",
            status="pass",
            code="manifest.present",
            message="The file carries C2PA content credentials.",
        )
    if recovered:
        return Check(
            check="manifest_present",
            status="warn",
            code="manifest.stripped",
            message="The file has no content credentials, but the registry signed "
            "this content: its label was removed.",
        )
    return Check(
        check="manifest_present",
        status="fail",
        code="manifest.missing",
        message="The file carries no C2PA content credentials.",
    )


def _integrity_failures(report: ManifestReport) -> list[str]:
    return sorted(
        entry.code
        for entry in report.validation_codes
        if entry.kind == "failure" and not entry.code.startswith("signingCredential.")
    )


def integrity_code(c2pa_code: str) -> str:
    """``assertion.dataHash.mismatch`` -> ``integrity.hash_mismatch`` and the like."""
    for marker, name in _INTEGRITY_NAMES.items():
        if marker in c2pa_code:
            return f"integrity.{name}"
    return "integrity.invalid"


def integrity(report: ManifestReport) -> Check:
    if not report.has_manifest:
        return Check(
            check="integrity",
            status="not_applicable",
            code="integrity.no_manifest",
            message="There is no manifest whose integrity could be checked.",
        )
    failures = _integrity_failures(report)
    if failures:
        return Check(
            check="integrity",
            status="fail",
            code=integrity_code(failures[0]),
            message="The file was changed after it was signed, or its manifest is "
            f"broken (c2pa: {', '.join(failures)}).",
        )
    return Check(
        check="integrity",
        status="pass",
        code="integrity.ok",
        message="The content matches its signed manifest.",
    )


def signer_trusted(report: ManifestReport) -> Check:
    if not report.has_manifest:
        return Check(
            check="signer_trusted",
            status="not_applicable",
            code="signer.none",
            message="There is no signer to check.",
        )
    codes = {(e.kind, e.code) for e in report.validation_codes}
    who = _signer_name(report)
    if ("success", "signingCredential.trusted") in codes or report.validation_state == "Trusted":
        return Check(
            check="signer_trusted",
            status="pass",
            code="signer.trusted",
            message=f"Signed by {who}, a signer this registry trusts.",
        )
    if ("failure", "signingCredential.untrusted") in codes:
        return Check(
            check="signer_trusted",
            status="warn",
            code="signer.untrusted",
            message=f"Signed by {who}, which is not on this registry's trust list.",
        )
    bad = sorted(c for k, c in codes if k == "failure" and c.startswith("signingCredential."))
    return Check(
        check="signer_trusted",
        status="fail",
        code="signer.invalid",
        message=f"The signing certificate is not valid ({', '.join(bad) or 'unknown'}).",
    )


def _signer_name(report: ManifestReport) -> str:
    signer = report.signer
    if signer is None:
        return "an unknown signer"
    return signer.common_name or signer.issuer or "an unnamed signer"


def creating_action(report: ManifestReport) -> dict[str, Any] | None:
    for action in report.actions:
        if action.get("action") in ("c2pa.created", "c2pa.opened"):
            return action
    return None


def source_type(report: ManifestReport) -> str | None:
    action = creating_action(report)
    value = (action or {}).get("digitalSourceType")
    if not isinstance(value, str):
        return None
    return value.removeprefix(IPTC_SOURCE_TYPE)


def is_ai_generated(report: ManifestReport) -> bool:
    return source_type(report) in FULLY_GENERATED | PARTLY_GENERATED


def ai_label(report: ManifestReport, *, known_generated: bool, recovered: bool) -> Check:
    kind = source_type(report)
    if kind in FULLY_GENERATED:
        return Check(
            check="ai_label",
            status="pass",
            code="ai_label.generated",
            message="The file declares that it was generated by AI.",
        )
    if kind in PARTLY_GENERATED:
        return Check(
            check="ai_label",
            status="pass",
            code="ai_label.composite",
            message="The file declares that it was partly generated by AI.",
        )
    if not report.has_manifest:
        if recovered:
            return Check(
                check="ai_label",
                status="warn",
                code="ai_label.stripped",
                message="The AI label was removed; the registry knows this file as AI-generated.",
            )
        return Check(
            check="ai_label",
            status="fail",
            code="manifest.missing",
            message="The file carries no AI label.",
        )
    if known_generated:
        return Check(
            check="ai_label",
            status="warn",
            code="ai_label.missing",
            message="The manifest does not say the file is AI-generated, but the "
            "registry knows it as generated media.",
        )
    return Check(
        check="ai_label",
        status="not_applicable",
        code="ai_label.not_declared",
        message="The manifest does not declare AI generation.",
    )


def training_mining(report: ManifestReport) -> Check:
    data = report.assertions.get(TRAINING_LABEL)
    entries = (data or {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not entries:
        return Check(
            check="training_mining",
            status="not_applicable",
            code="training.not_declared",
            message="The file states no preference on AI training and data mining.",
        )
    uses = {str(v.get("use")) for v in entries.values() if isinstance(v, dict)}
    overall = (
        "notAllowed" if uses == {"notAllowed"} else "allowed" if uses == {"allowed"} else "mixed"
    )
    wording = {"notAllowed": "does not allow", "allowed": "allows", "mixed": "sets conditions on"}
    return Check(
        check="training_mining",
        status="pass",
        code=f"training.{overall}",
        message=f"The file {wording[overall]} AI training and data mining.",
    )


def _disclosure(report: ManifestReport) -> dict[str, Any]:
    data = report.assertions.get(DISCLOSURE_LABEL)
    return data if isinstance(data, dict) else {}


def regulatory_eu(*, ai: bool) -> Check:
    if not ai:
        return Check(
            check="regulatory_eu",
            status="not_applicable",
            code="regulatory.eu.na",
            message="No AI label to assess against the EU AI Act.",
        )
    return Check(
        check="regulatory_eu",
        status="pass",
        code="regulatory.eu.marked",
        message="Machine-readable AI marking is present (EU AI Act, Art. 50(2)).",
    )


def _fields_check(
    check: CheckName,
    *,
    ai: bool,
    fields: dict[str, Any],
    wanted: tuple[str, ...],
    regime: str,
    code: str,
) -> Check:
    """Are the fields a regime asks for present? Missing fields are a warning, not a failure."""
    if not ai:
        return Check(
            check=check,
            status="not_applicable",
            code=f"{code}.na",
            message=f"No AI label to assess against {regime}.",
        )
    missing = [name for name in wanted if not fields.get(name)]
    if missing:
        return Check(
            check=check,
            status="warn",
            code=f"{code}.incomplete",
            message=f"{regime} fields missing: {', '.join(missing)}.",
        )
    return Check(
        check=check, status="pass", code=f"{code}.complete", message=f"{regime} fields are present."
    )


def regulatory_cn(report: ManifestReport, *, ai: bool) -> Check:
    aigc = (_disclosure(report).get("gb45438") or {}).get("AIGC") or {}
    return _fields_check(
        "regulatory_cn",
        ai=ai,
        fields=aigc,
        wanted=("Label", "ContentProducer", "ProduceID"),
        regime="GB 45438 implicit-label",
        code="regulatory.cn",
    )


def regulatory_ca_sb942(report: ManifestReport, *, ai: bool) -> Check:
    return _fields_check(
        "regulatory_ca_sb942",
        ai=ai,
        fields=_disclosure(report).get("sb942") or {},
        wanted=("provider", "system_name", "system_version", "created_at", "content_id"),
        regime="SB 942 latent-disclosure",
        code="regulatory.ca",
    )


def grant_citations(report: ManifestReport) -> list[dict[str, Any]] | None:
    """The grants our consent assertion cites, or None when the file has no such assertion."""
    data = report.assertions.get(CONSENT_LABEL)
    if not isinstance(data, dict):
        return None
    grants = data.get("grants")
    return [g for g in grants if isinstance(g, dict)] if isinstance(grants, list) else []


def provenance(report: ManifestReport, *, tried: bool, method: str | None) -> Check:
    """Was a file without intact credentials recognised by its watermark or fingerprints?"""
    if report.has_manifest and not _integrity_failures(report):
        return Check(
            check="provenance",
            status="pass",
            code="provenance.in_manifest",
            message="The file's provenance is in its own intact content credentials.",
        )
    if method is not None:
        found_by = "watermark matches" if method == "watermark" else "fingerprints match"
        return Check(
            check="provenance",
            status="warn",
            code="provenance.recovered",
            message=f"The file's content credentials are missing or broken, but its {found_by} "
            "media this registry signed.",
        )
    if tried:
        return Check(
            check="provenance",
            status="not_applicable",
            code="provenance.no_match",
            message="No media registered here has this file's watermark or fingerprints.",
        )
    return Check(
        check="provenance",
        status="not_applicable",
        code="provenance.not_needed",
        message="The registry knows the file's exact bytes: no watermark or fingerprint "
        "lookup was needed.",
    )
