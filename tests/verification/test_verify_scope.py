"""Verification reports a use the cited grant does not cover (the one scope rule of signing).

Each file here is a PNG whose manifest, signed by the registry's own credential, cites a real
grant with its real token hash; only the claimed use differs from what the grant allows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.factories import Studio, iso
from tests.verification.conftest import checks_of, manifest_definition, sign_png, verify


def _citation(grant: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    cited = {
        "grant_id": grant["id"],
        "sha256": grant["token_sha256"],
        "modalities": ["voice"],
        "purpose": "advertising",
        "territory": "US",
    }
    cited.update(overrides)
    return {k: v for k, v in cited.items() if v is not None}


def _verify_citing(
    client: FlaskClient, work: Path, credential: Any, cited: dict[str, Any]
) -> dict[str, Any]:
    definition = manifest_definition(source_type="trainedAlgorithmicMedia", consent_grants=[cited])
    response = verify(client, sign_png(work, credential, definition, "cited.png"))
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def test_a_use_inside_the_grant_passes(
    client: FlaskClient,
    studio: Studio,
    work: Path,
    our_credential: Any,
) -> None:
    grant = studio.grant(media_types=["image"])

    result = _verify_citing(client, work, our_credential, _citation(grant))

    assert checks_of(result)["consent"]["code"] == "consent.in_force"
    assert result["grants"][0]["in_scope"] is True
    assert result["grants"][0]["scope_gap"] is None


@pytest.mark.parametrize(
    ("grant_terms", "claimed", "gap"),
    [
        pytest.param({"media_types": ["audio"]}, {}, "media_type", id="image-under-an-audio-grant"),
        pytest.param(
            {"media_types": ["image"], "operations": ["alter"]},
            {},
            "operation",
            id="generated-under-an-alter-only-grant",
        ),
        pytest.param(
            {
                "media_types": ["image"],
                "purposes": [
                    {
                        "category": "advertising",
                        "description": "Radio spots for the Northwind spring 2027 campaign",
                    }
                ],
            },
            {"purpose": None},
            "purpose",
            id="no-purpose-claimed-under-a-purpose-without-project-ref",
        ),
        pytest.param({"media_types": ["image"]}, {"purpose": "film"}, "purpose", id="film"),
        pytest.param(
            {"media_types": ["image"]}, {"modalities": ["likeness"]}, "modality", id="likeness"
        ),
        pytest.param({"media_types": ["image"]}, {"territory": "FR"}, "territory", id="FR"),
    ],
)
def test_a_use_outside_the_grant_fails_out_of_scope(
    client: FlaskClient,
    studio: Studio,
    work: Path,
    our_credential: Any,
    grant_terms: dict[str, Any],
    claimed: dict[str, Any],
    gap: str,
) -> None:
    grant = studio.grant(**grant_terms)

    result = _verify_citing(client, work, our_credential, _citation(grant, **claimed))

    assert result["verdict"] == "fail"
    assert checks_of(result)["consent"]["code"] == "consent.out_of_scope"
    assert result["grants"][0]["in_scope"] is False
    assert result["grants"][0]["scope_gap"] == gap
    assert result["grants"][0]["token_matches"] is True


def test_a_file_signed_before_the_grant_starts_is_out_of_scope(
    client: FlaskClient,
    studio: Studio,
    work: Path,
    our_credential: Any,
) -> None:
    now = datetime.now(UTC)
    grant = studio.grant(
        media_types=["image"],
        valid_from=iso(now + timedelta(days=1)),
        valid_until=iso(now + timedelta(days=30)),
    )

    result = _verify_citing(client, work, our_credential, _citation(grant))

    assert checks_of(result)["consent"]["code"] == "consent.out_of_scope"
    assert result["grants"][0]["status_at_signing"] == "not_yet_valid"
    assert result["grants"][0]["scope_gap"] == "not_yet_valid"
