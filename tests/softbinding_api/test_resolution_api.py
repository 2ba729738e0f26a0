"""The Soft Binding Resolution API through the real app: algorithms, matches by binding and by
content, manifest stores; every refusal with its status and type, and nothing written."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.provenance.fingerprints import ALG, WATERMARK_ALG, fingerprint
from tests.factories import Studio, assert_problem
from tests.softbinding_api.conftest import (
    Registered,
    post_file,
    reencoded,
    register_picture,
    unrelated,
)

ISCC = ALG


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def whole_code(path: Path) -> str:
    """The base64 ISCC image unit of the whole picture (the first, non-variant code)."""
    return fingerprint(path, "image")[0].to_b64()


def by_binding(client: FlaskClient, alg: str, value: str, **params: Any):  # type: ignore[no-untyped-def]
    headers = params.pop("headers", {})
    return client.get(
        "/matches/byBinding", query_string={"alg": alg, "value": value, **params}, headers=headers
    )


def manifest_ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [m["manifestId"] for m in response.json["matches"]]


# --- supported algorithms -----------------------------------------------------------------


def test_supported_algorithms_are_public(settings: Any, client: FlaskClient) -> None:
    response = client.get("/services/supportedAlgorithms")
    assert response.status_code == 200
    assert response.json == {
        "watermarks": [{"alg": WATERMARK_ALG}],
        "fingerprints": [{"alg": "io.iscc.v0"}],
    }


def test_supported_algorithms_need_no_token_even_when_anonymous_is_off(settings: Any) -> None:
    from registry import create_app
    from registry.state import state_of

    settings.public_verify = False
    app = create_app(settings)
    assert app.test_client().get("/services/supportedAlgorithms").status_code == 200
    state_of(app).database.dispose()


# --- by binding ---------------------------------------------------------------------------


def test_a_watermark_key_finds_its_manifest_exactly(
    client: FlaskClient, registered: Registered, unmarked: Registered
) -> None:
    assert registered.key is not None
    response = by_binding(client, WATERMARK_ALG, b64(registered.key))
    assert response.json == {
        "matches": [{"manifestId": registered.manifest_id, "similarityScore": 100}]
    }
    assert response.headers["Cache-Control"] == "no-store"
    # A key nobody registered matches nothing.
    assert manifest_ids(by_binding(client, WATERMARK_ALG, b64(b"\x00" * 8))) == []


def test_an_iscc_code_finds_the_picture_and_its_reencoded_copy(
    client: FlaskClient, registered: Registered, unmarked: Registered, work: Path
) -> None:
    exact = by_binding(client, ISCC, whole_code(registered.path))
    assert exact.json["matches"][0] == {
        "manifestId": registered.manifest_id,
        "similarityScore": 100,
    }
    copy = by_binding(client, ISCC, whole_code(reencoded(unmarked.path, work)))
    found = copy.json["matches"]
    assert found[0]["manifestId"] == unmarked.manifest_id
    assert 87 <= found[0]["similarityScore"] <= 100  # within 8 of 64 bits
    assert registered.manifest_id not in manifest_ids(copy)
    assert manifest_ids(by_binding(client, ISCC, whole_code(unrelated(work)))) == []


def test_post_by_binding_takes_the_value_in_a_json_body(
    client: FlaskClient, registered: Registered
) -> None:
    assert registered.key is not None
    response = client.post(
        "/matches/byBinding?maxResults=5", json={"alg": WATERMARK_ALG, "value": b64(registered.key)}
    )
    assert manifest_ids(response) == [registered.manifest_id]


def test_max_results_bounds(
    app: Flask, client: FlaskClient, studio: Studio, work: Path, snapshot: Callable[[], Any]
) -> None:
    # The same picture registered twice: two manifests match one code.
    first = register_picture(app, studio, work, seed=21, marked=False)
    second = register_picture(app, studio, work, seed=21, marked=False)
    code = whole_code(first.path)
    assert sorted(manifest_ids(by_binding(client, ISCC, code))) == sorted(
        [first.manifest_id, second.manifest_id]
    )
    assert len(manifest_ids(by_binding(client, ISCC, code, maxResults=1))) == 1
    assert len(manifest_ids(by_binding(client, ISCC, code, maxResults=100))) == 2
    before = snapshot()
    for bad in ("0", "101", "-1", "ten", ""):
        body = assert_problem(
            by_binding(client, ISCC, code, maxResults=bad), 422, "validation-error"
        )
        assert body["errors"][0]["loc"] == "query.maxResults"
    assert snapshot() == before


def test_an_unsupported_algorithm_is_refused(
    client: FlaskClient, registered: Registered, work: Path, snapshot: Callable[[], Any]
) -> None:
    before = snapshot()
    for alg in ("com.adobe.trustmark.P", "io.iscc.v1", "IO.ISCC.V0"):
        body = assert_problem(
            by_binding(client, alg, whole_code(registered.path)),
            422,
            "soft-binding-alg-unsupported",
        )
        assert body["supported"] == sorted([ISCC, WATERMARK_ALG])
        posted = client.post("/matches/byBinding", json={"alg": alg, "value": "AAAA"})
        assert_problem(posted, 422, "soft-binding-alg-unsupported")
        content = post_file(client, f"/matches/byContent?alg={alg}", registered.path)
        assert_problem(content, 422, "soft-binding-alg-unsupported")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("alg", "value"),
    [
        (ISCC, "not base64!"),
        (ISCC, "AAA"),  # bad padding
        (ISCC, "-_-_"),  # the URL-safe alphabet
        (ISCC, b64(b"\x00\x01")),  # no ISCC unit
        (ISCC, b64(bytes.fromhex("0010") + b"\x00" * 8)),  # an ISCC Meta-Code, not content
        (ISCC, b64(bytes.fromhex("2101") + b"\x00" * 7)),  # an image unit cut short
        (ISCC, b64(bytes.fromhex("2101") + b"\x00" * 9)),  # ... or too long
        (WATERMARK_ALG, b64(b"\x00" * 7)),
        (WATERMARK_ALG, b64(b"\x00" * 9)),
    ],
)
def test_an_invalid_value_is_refused(
    client: FlaskClient, alg: str, value: str, snapshot: Callable[[], Any]
) -> None:
    before = snapshot()
    assert_problem(by_binding(client, alg, value), 422, "soft-binding-value-invalid")
    assert snapshot() == before


def test_a_missing_or_extra_parameter_is_a_validation_error(client: FlaskClient) -> None:
    missing = client.get("/matches/byBinding", query_string={"alg": ISCC})
    assert assert_problem(missing, 422, "validation-error")["errors"][0]["loc"] == "query.value"
    extra = by_binding(client, ISCC, "AAAA", colour="red")
    assert_problem(extra, 422, "validation-error")
    not_json = client.post("/matches/byBinding", data="alg=x", content_type="text/plain")
    assert_problem(not_json, 415, "unsupported-media-type")
    wrong_type = client.post("/matches/byBinding", json={"alg": ISCC, "value": 7})
    assert_problem(wrong_type, 422, "validation-error")


# --- by content ---------------------------------------------------------------------------


def test_content_finds_the_registered_manifest_by_watermark_or_fingerprint(
    client: FlaskClient, registered: Registered, unmarked: Registered, work: Path
) -> None:
    marked_copy = reencoded(registered.path, work)
    assert manifest_ids(post_file(client, "/matches/byContent", marked_copy))[0] == (
        registered.manifest_id
    )
    by_mark = post_file(client, f"/matches/byContent?alg={WATERMARK_ALG}", marked_copy)
    assert by_mark.json["matches"] == [
        {"manifestId": registered.manifest_id, "similarityScore": 100}
    ]
    plain_copy = reencoded(unmarked.path, work)
    assert manifest_ids(post_file(client, f"/matches/byContent?alg={ISCC}", plain_copy))[0] == (
        unmarked.manifest_id
    )
    # The unmarked picture has no watermark to find; an unrelated one matches nothing.
    assert (
        manifest_ids(post_file(client, f"/matches/byContent?alg={WATERMARK_ALG}", plain_copy)) == []
    )
    assert manifest_ids(post_file(client, "/matches/byContent", unrelated(work))) == []


def test_content_as_multipart_and_max_results(
    client: FlaskClient, registered: Registered, work: Path
) -> None:
    copy = reencoded(registered.path, work)
    with copy.open("rb") as handle:
        response = client.post(
            "/matches/byContent?maxResults=1",
            data={"file": (handle, "copy.jpg")},
            content_type="multipart/form-data",
        )
    assert manifest_ids(response) == [registered.manifest_id]
    assert_problem(
        post_file(client, "/matches/byContent?maxResults=0", copy), 422, "validation-error"
    )


def test_content_refusals_write_nothing(
    client: FlaskClient, work: Path, snapshot: Callable[[], Any]
) -> None:
    before = snapshot()
    text = work / "notes.txt"
    text.write_bytes(b"just some words, not media")
    assert_problem(
        client.post(
            "/matches/byContent", data=text.read_bytes(), content_type="application/octet-stream"
        ),
        415,
        "unsupported-media-type",
    )
    assert_problem(
        client.post("/matches/byContent", data=b"", content_type="image/jpeg"),
        422,
        "malformed-media",
    )
    broken = work / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    response = post_file(client, "/matches/byContent", broken)
    assert response.status_code == 422
    assert snapshot() == before


# --- manifests ----------------------------------------------------------------------------


def test_the_manifest_store_is_served_as_application_c2pa(
    client: FlaskClient, registered: Registered, other_studio: Studio
) -> None:
    response = client.get(f"/manifests/{registered.manifest_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/c2pa"
    with c2pa.Reader("application/c2pa", io.BytesIO(response.get_data())) as reader:
        store = json.loads(reader.json())
    assert store["active_manifest"] == registered.manifest_id
    active = store["manifests"][registered.manifest_id]
    assert any(a["label"] == "org.consentregistry.consent" for a in active["assertions"])
    # Public by design (it is in every copy of the file): another organization's token too.
    again = client.get(
        f"/manifests/{registered.manifest_id}?returnActiveManifest=true",
        headers=other_studio.headers,
    )
    assert again.status_code == 200 and again.get_data() == response.get_data()


def test_an_unknown_manifest_is_not_found(
    client: FlaskClient, registered: Registered, snapshot: Callable[[], Any]
) -> None:
    before = snapshot()
    for manifest_id in ("urn:c2pa:00000000-0000-4000-8000-000000000000", "x" * 300, "nothing"):
        assert_problem(client.get(f"/manifests/{manifest_id}"), 404, "manifest-not-found")
    assert_problem(
        client.get(f"/manifests/{registered.manifest_id}?returnActiveManifest=maybe"),
        422,
        "validation-error",
    )
    assert snapshot() == before
