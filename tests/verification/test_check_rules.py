"""The label checks (``verification.checks``) and the summary sentence, as tables.

Reports are built directly (``ManifestReport``, ``ValidationCode``, ``SignerIdentity``), so each
row is one thing a reader could have found; every expected check is pinned whole (status, code
and the sentence a person reads).
"""

from __future__ import annotations

from typing import Any

import pytest

from registry.c2pa.adapter import ManifestReport, SignerIdentity, ValidationCode
from registry.c2pa.labels import (
    CONSENT_LABEL,
    DISCLOSURE_LABEL,
    IPTC_SOURCE_TYPE,
    TRAINING_LABEL,
)
from registry.verification import checks
from registry.verification.schemas import Check, ManifestSummary
from registry.verification.summary import summarize

NO_MANIFEST = ManifestReport(has_manifest=False)
SIGNER = SignerIdentity(
    common_name="Northwind Signer", issuer="Northwind CA", serial_number="01", alg="Es256"
)


def report(**fields: Any) -> ManifestReport:
    fields.setdefault("has_manifest", True)
    return ManifestReport(**fields)


def codes(*entries: tuple[str, str]) -> tuple[ValidationCode, ...]:
    return tuple(ValidationCode(code=code, kind=kind) for kind, code in entries)


def created(source_type: str | None = None, *, action: str = "c2pa.created", **extra: Any):  # type: ignore[no-untyped-def]
    entry: dict[str, Any] = {"action": action, **extra}
    if source_type is not None:
        entry["digitalSourceType"] = source_type
    return entry


def with_actions(*actions: dict[str, Any], label: str = "c2pa.actions.v2") -> ManifestReport:
    return report(assertions={label: {"actions": list(actions)}})


# manifest_present -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "recovered", "expected"),
    [
        pytest.param(
            report(),
            False,
            Check(
                check="manifest_present",
                status="pass",
                code="manifest.present",
                message="The file carries C2PA content credentials.",
            ),
            id="present",
        ),
        pytest.param(
            report(),
            True,
            Check(
                check="manifest_present",
                status="pass",
                code="manifest.present",
                message="The file carries C2PA content credentials.",
            ),
            id="present-and-known",
        ),
        pytest.param(
            NO_MANIFEST,
            True,
            Check(
                check="manifest_present",
                status="warn",
                code="manifest.stripped",
                message="The file has no content credentials, but the registry signed "
                "this content: its label was removed.",
            ),
            id="stripped",
        ),
        pytest.param(
            NO_MANIFEST,
            False,
            Check(
                check="manifest_present",
                status="fail",
                code="manifest.missing",
                message="The file carries no C2PA content credentials.",
            ),
            id="missing",
        ),
    ],
)
def test_manifest_present(found: ManifestReport, recovered: bool, expected: Check) -> None:
    assert checks.manifest_present(found, recovered=recovered) == expected


# integrity --------------------------------------------------------------------------------


def _integrity_fail(code: str, listed: str) -> Check:
    return Check(
        check="integrity",
        status="fail",
        code=code,
        message="The file was changed after it was signed, or its manifest is "
        f"broken (c2pa: {listed}).",
    )


INTEGRITY_OK = Check(
    check="integrity",
    status="pass",
    code="integrity.ok",
    message="The content matches its signed manifest.",
)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        pytest.param(
            NO_MANIFEST,
            Check(
                check="integrity",
                status="not_applicable",
                code="integrity.no_manifest",
                message="There is no manifest whose integrity could be checked.",
            ),
            id="no-manifest",
        ),
        pytest.param(report(), INTEGRITY_OK, id="no-codes"),
        pytest.param(
            report(
                validation_codes=codes(
                    ("success", "assertion.dataHash.match"),
                    ("informational", "timeStamp.untrusted"),
                    ("success", "claimSignature.validated"),
                )
            ),
            INTEGRITY_OK,
            id="only-successes",
        ),
        pytest.param(
            report(
                validation_codes=codes(
                    ("failure", "signingCredential.untrusted"),
                    ("failure", "signingCredential.expired"),
                )
            ),
            INTEGRITY_OK,
            id="signer-failures-are-not-integrity",
        ),
        pytest.param(
            report(validation_codes=codes(("failure", "assertion.dataHash.mismatch"))),
            _integrity_fail("integrity.hash_mismatch", "assertion.dataHash.mismatch"),
            id="data-hash",
        ),
        pytest.param(
            report(validation_codes=codes(("failure", "assertion.bmffHash.mismatch"))),
            _integrity_fail("integrity.hash_mismatch", "assertion.bmffHash.mismatch"),
            id="bmff-hash",
        ),
        pytest.param(
            report(validation_codes=codes(("failure", "claimSignature.missing"))),
            _integrity_fail("integrity.signature_invalid", "claimSignature.missing"),
            id="claim-signature",
        ),
        pytest.param(
            report(validation_codes=codes(("failure", "assertion.missing"))),
            _integrity_fail("integrity.missing_part", "assertion.missing"),
            id="missing-assertion",
        ),
        pytest.param(
            report(validation_codes=codes(("failure", "algorithm.unsupported"))),
            _integrity_fail("integrity.invalid", "algorithm.unsupported"),
            id="fallback",
        ),
        pytest.param(
            report(
                validation_codes=codes(
                    ("failure", "assertion.missing"),
                    ("success", "assertion.hashedURI.match"),
                    ("failure", "signingCredential.untrusted"),
                    ("failure", "assertion.dataHash.mismatch"),
                )
            ),
            _integrity_fail(
                "integrity.hash_mismatch", "assertion.dataHash.mismatch, assertion.missing"
            ),
            id="several-sorted-first-decides",
        ),
    ],
)
def test_integrity(found: ManifestReport, expected: Check) -> None:
    assert checks.integrity(found) == expected


@pytest.mark.parametrize(
    ("c2pa_code", "code"),
    [
        ("assertion.dataHash.mismatch", "integrity.hash_mismatch"),
        ("assertion.hashedURI.mismatch", "integrity.hash_mismatch"),
        ("assertion.boxesHash.mismatch", "integrity.hash_mismatch"),
        ("claimSignature.missing", "integrity.signature_invalid"),
        ("claim.missing", "integrity.missing_part"),
        ("manifest.missing", "integrity.missing_part"),
        ("assertion.missing", "integrity.missing_part"),
        ("general.error", "integrity.invalid"),
        ("Mismatch", "integrity.invalid"),
        ("", "integrity.invalid"),
    ],
)
def test_integrity_code(c2pa_code: str, code: str) -> None:
    assert checks.integrity_code(c2pa_code) == code


def test_a_claim_signature_mismatch_is_a_signature_failure() -> None:
    assert checks.integrity_code("claimSignature.mismatch") == "integrity.signature_invalid"


# signer_trusted ---------------------------------------------------------------------------


def _signer(status: str, code: str, message: str) -> Check:
    return Check(check="signer_trusted", status=status, code=code, message=message)  # type: ignore[arg-type]


TRUSTED = "Signed by Northwind Signer, a signer this registry trusts."


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        pytest.param(
            NO_MANIFEST,
            _signer("not_applicable", "signer.none", "There is no signer to check."),
            id="no-manifest",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_codes=codes(("success", "signingCredential.trusted")),
            ),
            _signer("pass", "signer.trusted", TRUSTED),
            id="trusted-by-code",
        ),
        pytest.param(
            report(signer=SIGNER, validation_state="Trusted"),
            _signer("pass", "signer.trusted", TRUSTED),
            id="trusted-by-state",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_state="Trusted",
                validation_codes=codes(("failure", "signingCredential.untrusted")),
            ),
            _signer("pass", "signer.trusted", TRUSTED),
            id="state-beats-untrusted-code",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_state="Valid",
                validation_codes=codes(("failure", "signingCredential.untrusted")),
            ),
            _signer(
                "warn",
                "signer.untrusted",
                "Signed by Northwind Signer, which is not on this registry's trust list.",
            ),
            id="untrusted",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_codes=codes(
                    ("failure", "signingCredential.untrusted"),
                    ("failure", "signingCredential.expired"),
                ),
            ),
            _signer(
                "warn",
                "signer.untrusted",
                "Signed by Northwind Signer, which is not on this registry's trust list.",
            ),
            id="untrusted-and-expired",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_codes=codes(("informational", "signingCredential.untrusted")),
            ),
            _signer("fail", "signer.invalid", "The signing certificate is not valid (unknown)."),
            id="untrusted-only-informational",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_codes=codes(("failure", "signingCredential.trusted")),
            ),
            _signer(
                "fail",
                "signer.invalid",
                "The signing certificate is not valid (signingCredential.trusted).",
            ),
            id="trusted-code-as-failure",
        ),
        pytest.param(
            report(
                signer=SIGNER,
                validation_state="Invalid",
                validation_codes=codes(
                    ("failure", "signingCredential.revoked"),
                    ("failure", "assertion.dataHash.mismatch"),
                    ("success", "signingCredential.ocsp.notRevoked"),
                    ("failure", "signingCredential.expired"),
                ),
            ),
            _signer(
                "fail",
                "signer.invalid",
                "The signing certificate is not valid "
                "(signingCredential.expired, signingCredential.revoked).",
            ),
            id="invalid-with-codes",
        ),
        pytest.param(
            report(signer=SIGNER, validation_state="Valid"),
            _signer("fail", "signer.invalid", "The signing certificate is not valid (unknown)."),
            id="invalid-without-codes",
        ),
        pytest.param(
            report(validation_state="trusted"),
            _signer("fail", "signer.invalid", "The signing certificate is not valid (unknown)."),
            id="state-is-case-sensitive",
        ),
    ],
)
def test_signer_trusted(found: ManifestReport, expected: Check) -> None:
    assert checks.signer_trusted(found) == expected


@pytest.mark.parametrize(
    ("signer", "who"),
    [
        pytest.param(SIGNER, "Northwind Signer", id="common-name"),
        pytest.param(None, "an unknown signer", id="no-signer"),
        pytest.param(
            SignerIdentity(common_name=None, issuer="Northwind CA", serial_number=None, alg=None),
            "Northwind CA",
            id="issuer",
        ),
        pytest.param(
            SignerIdentity(common_name="", issuer="", serial_number="01", alg=None),
            "an unnamed signer",
            id="unnamed",
        ),
    ],
)
def test_the_signer_is_named_by_common_name_then_issuer(
    signer: SignerIdentity | None, who: str
) -> None:
    found = report(signer=signer, validation_state="Trusted")

    assert (
        checks.signer_trusted(found).message == f"Signed by {who}, a signer this registry trusts."
    )


# creating_action, source_type, is_ai_generated ----------------------------------------------


@pytest.mark.parametrize(
    ("found", "action"),
    [
        pytest.param(report(), None, id="no-actions"),
        pytest.param(with_actions(created("x")), created("x"), id="created"),
        pytest.param(
            with_actions(created("x", action="c2pa.opened")),
            created("x", action="c2pa.opened"),
            id="opened",
        ),
        pytest.param(
            with_actions(created("a", action="c2pa.edited"), created("b")),
            created("b"),
            id="first-creating-action",
        ),
        pytest.param(
            with_actions(created("b"), created("c", action="c2pa.opened")),
            created("b"),
            id="first-of-two",
        ),
        pytest.param(with_actions(created("a", action="c2pa.edited")), None, id="only-edited"),
        pytest.param(with_actions(created("x"), label="c2pa.actions"), created("x"), id="v1-label"),
    ],
)
def test_creating_action(found: ManifestReport, action: dict[str, Any] | None) -> None:
    assert checks.creating_action(found) == action


@pytest.mark.parametrize(
    ("found", "kind", "ai"),
    [
        pytest.param(report(), None, False, id="no-action"),
        pytest.param(with_actions(created()), None, False, id="no-source-type"),
        pytest.param(with_actions(created(7)), None, False, id="not-text"),  # type: ignore[arg-type]
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia")),
            "trainedAlgorithmicMedia",
            True,
            id="generated",
        ),
        pytest.param(
            with_actions(created("trainedAlgorithmicMedia")),
            "trainedAlgorithmicMedia",
            True,
            id="bare-term",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia")),
            "compositeWithTrainedAlgorithmicMedia",
            True,
            id="composite",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "compositeSynthetic")),
            "compositeSynthetic",
            True,
            id="composite-synthetic",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "digitalCapture")),
            "digitalCapture",
            False,
            id="camera",
        ),
        pytest.param(
            with_actions(created("trainedAlgorithmicMedia/" + IPTC_SOURCE_TYPE)),
            "trainedAlgorithmicMedia/" + IPTC_SOURCE_TYPE,
            False,
            id="prefix-only-at-start",
        ),
        pytest.param(
            with_actions(
                created(IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia", action="c2pa.edited")
            ),
            None,
            False,
            id="edit-does-not-count",
        ),
    ],
)
def test_source_type_and_is_ai_generated(found: ManifestReport, kind: str | None, ai: bool) -> None:
    assert checks.source_type(found) == kind
    assert checks.is_ai_generated(found) is ai


# ai_label ---------------------------------------------------------------------------------


def _ai(status: str, code: str, message: str) -> Check:
    return Check(check="ai_label", status=status, code=code, message=message)  # type: ignore[arg-type]


GENERATED = _ai("pass", "ai_label.generated", "The file declares that it was generated by AI.")
COMPOSITE = _ai(
    "pass", "ai_label.composite", "The file declares that it was partly generated by AI."
)
MISSING_LABEL = _ai(
    "warn",
    "ai_label.missing",
    "The manifest does not say the file is AI-generated, but the registry knows it as "
    "generated media.",
)
NOT_DECLARED = _ai(
    "not_applicable", "ai_label.not_declared", "The manifest does not declare AI generation."
)


@pytest.mark.parametrize(
    ("found", "known", "recovered", "expected"),
    [
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia")),
            False,
            False,
            GENERATED,
            id="generated",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia")),
            True,
            False,
            GENERATED,
            id="generated-known",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia")),
            False,
            False,
            COMPOSITE,
            id="composite-with-trained",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "compositeSynthetic")),
            True,
            False,
            COMPOSITE,
            id="composite-synthetic",
        ),
        pytest.param(
            NO_MANIFEST,
            True,
            True,
            _ai(
                "warn",
                "ai_label.stripped",
                "The AI label was removed; the registry knows this file as AI-generated.",
            ),
            id="stripped",
        ),
        pytest.param(
            NO_MANIFEST,
            True,
            False,
            _ai("fail", "manifest.missing", "The file carries no AI label."),
            id="no-manifest-known",
        ),
        pytest.param(
            NO_MANIFEST,
            False,
            False,
            _ai("fail", "manifest.missing", "The file carries no AI label."),
            id="no-manifest",
        ),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "digitalCapture")),
            True,
            False,
            MISSING_LABEL,
            id="known-but-not-declared",
        ),
        pytest.param(report(), True, False, MISSING_LABEL, id="known-no-actions"),
        pytest.param(report(), True, True, MISSING_LABEL, id="known-recovered-with-manifest"),
        pytest.param(
            with_actions(created(IPTC_SOURCE_TYPE + "digitalCapture")),
            False,
            False,
            NOT_DECLARED,
            id="camera",
        ),
        pytest.param(report(), False, False, NOT_DECLARED, id="not-declared"),
    ],
)
def test_ai_label(found: ManifestReport, known: bool, recovered: bool, expected: Check) -> None:
    assert checks.ai_label(found, known_generated=known, recovered=recovered) == expected


# training_mining --------------------------------------------------------------------------


def _training(code: str, wording: str) -> Check:
    return Check(
        check="training_mining",
        status="pass",
        code=code,
        message=f"The file {wording} AI training and data mining.",
    )


TRAINING_NOT_DECLARED = Check(
    check="training_mining",
    status="not_applicable",
    code="training.not_declared",
    message="The file states no preference on AI training and data mining.",
)
NOT_ALLOWED = {"use": "notAllowed"}
ALLOWED = {"use": "allowed"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(None, TRAINING_NOT_DECLARED, id="absent"),
        pytest.param(["cawg.ai_training"], TRAINING_NOT_DECLARED, id="data-not-a-mapping"),
        pytest.param({}, TRAINING_NOT_DECLARED, id="no-entries"),
        pytest.param({"entries": {}}, TRAINING_NOT_DECLARED, id="empty-entries"),
        pytest.param({"entries": [NOT_ALLOWED]}, TRAINING_NOT_DECLARED, id="entries-a-list"),
        pytest.param({"entries": "notAllowed"}, TRAINING_NOT_DECLARED, id="entries-text"),
        pytest.param(
            {"entries": {"cawg.ai_training": NOT_ALLOWED, "cawg.data_mining": NOT_ALLOWED}},
            _training("training.notAllowed", "does not allow"),
            id="not-allowed",
        ),
        pytest.param(
            {"entries": {"cawg.ai_training": ALLOWED}},
            _training("training.allowed", "allows"),
            id="allowed",
        ),
        pytest.param(
            {"entries": {"cawg.ai_training": ALLOWED, "cawg.data_mining": NOT_ALLOWED}},
            _training("training.mixed", "sets conditions on"),
            id="mixed",
        ),
        pytest.param(
            {"entries": {"cawg.ai_training": {"use": "constrained"}}},
            _training("training.mixed", "sets conditions on"),
            id="constrained",
        ),
        pytest.param(
            {"entries": {"cawg.ai_training": {"constraint_info": "x"}}},
            _training("training.mixed", "sets conditions on"),
            id="entry-without-use",
        ),
        pytest.param(
            {"entries": {"cawg.ai_training": NOT_ALLOWED, "cawg.data_mining": "allowed"}},
            _training("training.notAllowed", "does not allow"),
            id="malformed-entry-ignored",
        ),
    ],
)
def test_training_mining(data: Any, expected: Check) -> None:
    found = report(assertions={} if data is None else {TRAINING_LABEL: data})

    assert checks.training_mining(found) == expected


# Regulation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ai", "expected"),
    [
        pytest.param(
            True,
            Check(
                check="regulatory_eu",
                status="pass",
                code="regulatory.eu.marked",
                message="Machine-readable AI marking is present (EU AI Act, Art. 50(2)).",
            ),
            id="marked",
        ),
        pytest.param(
            False,
            Check(
                check="regulatory_eu",
                status="not_applicable",
                code="regulatory.eu.na",
                message="No AI label to assess against the EU AI Act.",
            ),
            id="na",
        ),
    ],
)
def test_regulatory_eu(ai: bool, expected: Check) -> None:
    assert checks.regulatory_eu(ai=ai) == expected


CN_COMPLETE = {"Label": "1", "ContentProducer": "Northwind", "ProduceID": "NW-1"}
CN = "GB 45438 implicit-label"


@pytest.mark.parametrize(
    ("disclosure", "ai", "status", "code", "message"),
    [
        pytest.param(
            {"gb45438": {"AIGC": CN_COMPLETE}},
            False,
            "not_applicable",
            "regulatory.cn.na",
            f"No AI label to assess against {CN}.",
            id="na",
        ),
        pytest.param(
            {"gb45438": {"AIGC": CN_COMPLETE}},
            True,
            "pass",
            "regulatory.cn.complete",
            f"{CN} fields are present.",
            id="complete",
        ),
        pytest.param(
            {"gb45438": {"AIGC": {**CN_COMPLETE, "ContentProducer": ""}}},
            True,
            "warn",
            "regulatory.cn.incomplete",
            f"{CN} fields missing: ContentProducer.",
            id="empty-field",
        ),
        pytest.param(
            {"gb45438": {"AIGC": {"ProduceID": "NW-1"}}},
            True,
            "warn",
            "regulatory.cn.incomplete",
            f"{CN} fields missing: Label, ContentProducer.",
            id="two-missing-in-order",
        ),
        pytest.param(
            {"gb45438": {"AIGC": None}},
            True,
            "warn",
            "regulatory.cn.incomplete",
            f"{CN} fields missing: Label, ContentProducer, ProduceID.",
            id="null-aigc",
        ),
        pytest.param(
            {"gb45438": None},
            True,
            "warn",
            "regulatory.cn.incomplete",
            f"{CN} fields missing: Label, ContentProducer, ProduceID.",
            id="null-gb45438",
        ),
        pytest.param(
            None,
            True,
            "warn",
            "regulatory.cn.incomplete",
            f"{CN} fields missing: Label, ContentProducer, ProduceID.",
            id="no-disclosure",
        ),
        pytest.param(
            ["gb45438"],
            True,
            "warn",
            "regulatory.cn.incomplete",
            f"{CN} fields missing: Label, ContentProducer, ProduceID.",
            id="disclosure-not-a-mapping",
        ),
    ],
)
def test_regulatory_cn(disclosure: Any, ai: bool, status: str, code: str, message: str) -> None:
    found = report(assertions={} if disclosure is None else {DISCLOSURE_LABEL: disclosure})

    assert checks.regulatory_cn(found, ai=ai) == Check(
        check="regulatory_cn",
        status=status,  # type: ignore[arg-type]
        code=code,
        message=message,
    )


SB942_COMPLETE = {
    "provider": "Northwind",
    "system_name": "VoiceGen",
    "system_version": "3",
    "created_at": "2026-05-01T00:00:00Z",
    "content_id": "urn:c2pa:1",
}
CA = "SB 942 latent-disclosure"


@pytest.mark.parametrize(
    ("disclosure", "ai", "status", "code", "message"),
    [
        pytest.param(
            {"sb942": SB942_COMPLETE},
            False,
            "not_applicable",
            "regulatory.ca.na",
            f"No AI label to assess against {CA}.",
            id="na",
        ),
        pytest.param(
            {"sb942": SB942_COMPLETE},
            True,
            "pass",
            "regulatory.ca.complete",
            f"{CA} fields are present.",
            id="complete",
        ),
        pytest.param(
            {"sb942": {**SB942_COMPLETE, "system_version": None, "content_id": ""}},
            True,
            "warn",
            "regulatory.ca.incomplete",
            f"{CA} fields missing: system_version, content_id.",
            id="incomplete",
        ),
        pytest.param(
            {"sb942": None},
            True,
            "warn",
            "regulatory.ca.incomplete",
            f"{CA} fields missing: provider, system_name, system_version, created_at, content_id.",
            id="null",
        ),
        pytest.param(
            {},
            True,
            "warn",
            "regulatory.ca.incomplete",
            f"{CA} fields missing: provider, system_name, system_version, created_at, content_id.",
            id="absent",
        ),
    ],
)
def test_regulatory_ca_sb942(
    disclosure: Any, ai: bool, status: str, code: str, message: str
) -> None:
    found = report(assertions={DISCLOSURE_LABEL: disclosure})

    assert checks.regulatory_ca_sb942(found, ai=ai) == Check(
        check="regulatory_ca_sb942",
        status=status,  # type: ignore[arg-type]
        code=code,
        message=message,
    )


# grant_citations --------------------------------------------------------------------------

CITATION = {"grant_id": "g1", "sha256": "a" * 64}


@pytest.mark.parametrize(
    ("assertions", "citations"),
    [
        pytest.param({}, None, id="no-consent-assertion"),
        pytest.param({CONSENT_LABEL: None}, None, id="null"),
        pytest.param({CONSENT_LABEL: [CITATION]}, None, id="not-a-mapping"),
        pytest.param({CONSENT_LABEL: {}}, [], id="no-grants"),
        pytest.param({CONSENT_LABEL: {"grants": CITATION}}, [], id="grants-not-a-list"),
        pytest.param({CONSENT_LABEL: {"grants": []}}, [], id="empty"),
        pytest.param({CONSENT_LABEL: {"grants": [CITATION]}}, [CITATION], id="one"),
        pytest.param(
            {CONSENT_LABEL: {"grants": ["g1", CITATION, None, 3, {}]}},
            [CITATION, {}],
            id="non-mappings-dropped",
        ),
    ],
)
def test_grant_citations(
    assertions: dict[str, Any], citations: list[dict[str, Any]] | None
) -> None:
    assert checks.grant_citations(report(assertions=assertions)) == citations


# summarize --------------------------------------------------------------------------------


def _check(name: str, status: str = "pass", code: str = "x.ok", message: str = "") -> Check:
    return Check(check=name, status=status, code=code, message=message or f"{name} note.")  # type: ignore[arg-type]


NAMES = (
    "manifest_present",
    "integrity",
    "signer_trusted",
    "ai_label",
    "training_mining",
    "consent",
    "regulatory_eu",
    "regulatory_cn",
    "regulatory_ca_sb942",
)


def results(**changed: Check) -> list[Check]:
    return [changed.get(name, _check(name)) for name in NAMES]


def summary_of(generator: str | None) -> ManifestSummary:
    return ManifestSummary(
        active_manifest="urn:c2pa:1",
        signer="Northwind Signer",
        signer_issuer="Northwind CA",
        signed_at=None,
        generator=generator,
        digital_source_type="trainedAlgorithmicMedia",
        claim_generator=None,
        title=None,
    )


REVOKED = _check(
    "consent", "fail", "consent.revoked", "The consent this file cites has been revoked."
)
NOT_CLAIMED = _check("consent", "warn", "consent.not_claimed", "No consent.")
TAMPERED = (
    "This file's label has been tampered with: the content no longer matches what was signed."
)
GEN = summary_of("VoiceGen 3")


@pytest.mark.parametrize(
    ("verdict", "found", "manifest", "ai", "sentence"),
    [
        pytest.param(
            "fail",
            results(integrity=_check("integrity", "fail"), consent=REVOKED),
            GEN,
            True,
            TAMPERED,
            id="tampered-first",
        ),
        pytest.param(
            "fail",
            results(consent=REVOKED, signer_trusted=_check("signer_trusted", "fail")),
            GEN,
            True,
            "The consent the file cites has been revoked.",
            id="consent-failure",
        ),
        pytest.param(
            "pass",
            results(consent=REVOKED),
            GEN,
            True,
            "This file is labelled as AI-generated by VoiceGen 3; the label is intact, signed "
            "by a trusted signer, and the consent it cites is in force.",
            id="consent-failure-needs-a-fail-verdict",
        ),
        pytest.param(
            "warn",
            results(
                manifest_present=_check("manifest_present", "warn", "manifest.stripped"),
                consent=_check("consent", "pass", "consent.in_force"),
            ),
            None,
            True,
            "The AI label was removed from this file, but the registry recognises it as "
            "AI-generated media it signed.",
            id="stripped",
        ),
        pytest.param(
            "fail",
            results(
                manifest_present=_check("manifest_present", "fail", "manifest.missing"),
                consent=_check("consent", "not_applicable", "consent.not_claimed"),
            ),
            None,
            False,
            "This file carries no content credentials, "
            "so it cannot be shown to be labelled as AI-generated.",
            id="no-manifest",
        ),
        pytest.param(
            "fail",
            results(signer_trusted=_check("signer_trusted", "fail", "signer.invalid")),
            GEN,
            True,
            "This file's signature cannot be validated.",
            id="signature-invalid",
        ),
        pytest.param(
            "pass",
            results(),
            GEN,
            False,
            "This file's content credentials are intact, but they do not say that it was "
            "generated by AI.",
            id="not-ai",
        ),
        pytest.param(
            "warn",
            results(signer_trusted=_check("signer_trusted", "warn", "signer.untrusted")),
            GEN,
            True,
            "This file is labelled as AI-generated by VoiceGen 3, but the label is signed by a "
            "signer this registry does not trust.",
            id="untrusted-signer",
        ),
        pytest.param(
            "warn",
            results(consent=NOT_CLAIMED),
            GEN,
            True,
            "This file is labelled as AI-generated by VoiceGen 3, but it cites no consent.",
            id="no-consent",
        ),
        pytest.param(
            "pass",
            results(),
            summary_of(None),
            True,
            "This file is labelled as AI-generated; the label is intact, signed by a trusted "
            "signer, and the consent it cites is in force.",
            id="pass-no-generator",
        ),
        pytest.param(
            "pass",
            results(),
            summary_of(""),
            True,
            "This file is labelled as AI-generated; the label is intact, signed by a trusted "
            "signer, and the consent it cites is in force.",
            id="pass-empty-generator",
        ),
        pytest.param(
            "pass",
            results(),
            None,
            True,
            "This file is labelled as AI-generated; the label is intact, signed by a trusted "
            "signer, and the consent it cites is in force.",
            id="pass-no-manifest-summary",
        ),
        pytest.param(
            "warn",
            results(
                training_mining=_check("training_mining", "warn", "x.w", "Training caveat."),
                regulatory_cn=_check("regulatory_cn", "warn", "x.w", "CN caveat."),
            ),
            GEN,
            True,
            "This file is labelled as AI-generated by VoiceGen 3, with a caveat: Training caveat.",
            id="caveat-first-warning",
        ),
        pytest.param(
            "fail",
            results(
                ai_label=_check("ai_label", "fail", "x.f", "Label caveat."),
                consent=_check("consent", "warn", "consent.superseded", "Superseded."),
            ),
            GEN,
            True,
            "This file is labelled as AI-generated by VoiceGen 3, with a caveat: Label caveat.",
            id="caveat-fail-verdict-consent-warn",
        ),
        pytest.param(
            "warn",
            results(
                training_mining=_check("training_mining", "not_applicable", "x.n", "N/A."),
                consent=_check("consent", "warn", "consent.superseded", "Superseded."),
            ),
            GEN,
            True,
            "This file is labelled as AI-generated by VoiceGen 3, with a caveat: Superseded.",
            id="caveat-skips-not-applicable",
        ),
    ],
)
def test_summarize(
    verdict: str, found: list[Check], manifest: ManifestSummary | None, ai: bool, sentence: str
) -> None:
    assert summarize(verdict, found, manifest, ai=ai) == sentence
