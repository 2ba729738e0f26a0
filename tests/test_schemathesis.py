"""Schemathesis against the committed OpenAPI document, on every test database (issue #10).

Every operation of ``openapi/openapi.json`` is a test, run on each database against a fresh app
through the in-process WSGI transport, with the coverage phase's deterministic boundary cases
(positive and negative) and ``MAX_EXAMPLES`` fuzzed ones. Each case is sent twice:

- with the bearer token of a studio holding every scope, and judged by schemathesis' checks:
  no 5xx; only documented status codes and content types; bodies and headers as documented;
  invalid data rejected; a missing required header refused; other methods answered 405 with
  an Allow header; no success that a request without a token, or with a wrong one, also gets;
- anonymously, and judged the same way; an operation that declares security must answer with
  the documented 401 problem.

Generated data reaches past validation through schemathesis dictionaries: the studio's real
subject, grant and media ids, object keys, list cursors, client credentials and media files,
and terms that pass policy, are drawn for the fields that need them, with a probability, so
that generated values are still tried. The ids only exist once the app under test has made
them, after collection, so the dictionaries hold placeholders that ``resolved`` swaps for the
current app's values just before a case is sent.

The run is reproducible: a fixed seed, derandomized, and no example database (nothing is
written into the tree). With ``-s`` it prints each operation's statuses and its share of
answers that were not a 4xx.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import Case, GenerationMode
from schemathesis.generation.meta import TestPhase

from registry.errors import PROBLEM_CONTENT_TYPE
from registry.hygiene import _FORBIDDEN as REFUSED_TEXT
from registry.provenance.fingerprints import WATERMARK_ALG
from registry.state import state_of
from tests.factories import GENERATOR, Studio, grant_body
from tests.media import assets

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"

# Hypothesis keeps caches (Unicode tables, constants found in the code under test) in
# .hypothesis/ under the working directory, example database or not: not in the tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "consent-registry-hypothesis")

# Fuzzed cases per operation, besides the coverage phase's 3 to 430 (about 2,100 cases per
# database in all, some 45 s of CPU). Raise it for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("REGISTRY_SCHEMATHESIS_EXAMPLES", "30"))
SEED = 20260110


def _source_sha256() -> str:
    """The SHA-256 of the seeded image's source (deterministic), to watch by hash."""
    with tempfile.TemporaryDirectory() as tmp:
        return hashlib.sha256(assets.make_png(Path(tmp)).read_bytes()).hexdigest()


SOURCE_SHA256 = _source_sha256()

# Every response check but positive_data_acceptance, which expects a 2xx for each
# schema-valid request: the registry refuses some by rule (policy, ISO codes, opaque cursors,
# control characters), each with a documented problem. The stateful checks need the stateful
# phase.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
)

NEGATIVE_REFUSALS = [400, 401, 403, 404, 405, 406, 409, 415, 422, 428, 429, "5xx"]

# Placeholders for the values that only the app under test can make (see the docstring).
LISTS = ("/v1/subjects", "/v1/grants", "/v1/audit/events")
SUBJECTS = [f"seed-subject-{n}" for n in range(2)]
GRANTS = [f"seed-grant-{n}" for n in range(7)]
ACTIVE_GRANTS = [GRANTS[n] for n in (0, 4, 5, 6)]  # see ``seed``
LATEST = "seed-grant-latest"  # the newest version of the first grant (superseding makes one)
MEDIA = ["seed-media-0"]
# The studio's approved generator (signing cites it), and a pending one to approve, change, retire.
GENERATORS = ["seed-generator-0", "seed-generator-1"]
MANIFESTS = ["seed-manifest-0"]  # the signed image's manifest id, to watch
KEYS = [f"seed-key-{n}" for n in range(2)]
FILES = [f"seed-file-{n}" for n in range(2)]
CURSORS = {path: f"seed-cursor-{n}" for n, path in enumerate(LISTS)}
CLIENT_ID, CLIENT_SECRET = "seed-client-id", "seed-client-secret"
SEEDED_PATH_PARAMETERS = {"subject_id", "grant_id", "media_id", "generator_id"}
BINDING_VALUE = base64.b64encode(bytes(8)).decode()


def _drawn(dictionary: str, probability: float = 0.8) -> dict[str, Any]:
    return {"dictionary": dictionary, "probability": probability}


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            **{name: {"enabled": True} for name in CHECKS},
            # Schemathesis' refusals, and 413: an upload of more than 16 parts is refused
            # before its parts are read (werkzeug's max_form_parts).
            "negative_data_rejection": {"expected-statuses": [*NEGATIVE_REFUSALS, 413]},
        },
        "dictionaries": {
            "subjects": {"values": SUBJECTS},
            "grants": {"values": GRANTS},
            "active_grants": {"values": ACTIVE_GRANTS},
            "suspended_grants": {"values": [GRANTS[1]]},
            "latest": {"values": [LATEST]},
            "media": {"values": MEDIA},
            "approved_generators": {"values": [GENERATORS[0]]},
            "pending_generators": {"values": [GENERATORS[1]]},
            "manifests": {"values": MANIFESTS},
            "hashes": {"values": [SOURCE_SHA256]},
            "urls": {"values": ["https://hooks.example.test/consent"]},
            "keys": {"values": KEYS},
            "files": {"values": FILES},
            "client_ids": {"values": [CLIENT_ID]},
            "client_secrets": {"values": [CLIENT_SECRET]},
            "scopes": {"values": ["grants:read", "grants:read grants:write", "media:sign verify"]},
            # Terms that pass policy (a generated string is not a territory, a currency or a
            # specific description), and the uses the seeded grants cover.
            "countries": {"values": ["US", "CA", "DE", "JP"]},
            "currencies": {"values": ["USD", "EUR"]},
            "descriptions": {"values": [grant_body("")["purposes"][0]["description"]]},
            "roles": {"values": ["subject", "authorized_representative"]},
            "training": {"values": ["allowed", "constrained"]},
            "starts": {"values": ["2026-01-01T00:00:00Z"]},
            "ends": {"values": ["2099-01-01T00:00:00Z"]},
            "purposes": {"values": ["advertising", "NW-2027-COFFEE"]},
            "actions": {"values": ["grant.issued", "grant.suspended", "media.signed"]},
            # A soft-binding algorithm of the registry and a value of its shape (8 bytes).
            "algs": {"values": [WATERMARK_ALG]},
            "binding_values": {"values": [BINDING_VALUE]},
            **{f"cursor{path}": {"values": [cursor]} for path, cursor in CURSORS.items()},
        },
        "parameters": {
            "path.subject_id": _drawn("subjects"),
            "query.subject_id": _drawn("subjects", 0.5),
            "body.subject_id": _drawn("subjects"),
            "path.grant_id": _drawn("grants"),
            "path.media_id": _drawn("media"),
            "path.generator_id": _drawn("pending_generators"),
            "body.generator_id": _drawn("approved_generators", 0.9),
            "body.manifest_id": _drawn("manifests", 0.5),
            "body.sha256": _drawn("hashes", 0.5),
            "body.url": _drawn("urls"),
            "body.territories[*]": _drawn("countries", 0.9),
            "body.jurisdictions[*]": _drawn("countries", 0.9),
            "body.compensation.currency": _drawn("currencies"),
            "body.purposes[*].description": _drawn("descriptions"),
            "body.granted_by.role": _drawn("roles"),
            "body.training": _drawn("training"),
            "body.valid_from": _drawn("starts"),
            "body.valid_until": _drawn("ends"),
            "body.grants[*].grant_id": _drawn("active_grants", 0.9),
            "body.grants[*].purpose": _drawn("purposes", 0.9),
            "body.grants[*].territory": _drawn("countries", 0.9),
            "body.key": _drawn("keys"),
            "body.file": _drawn("files"),
            "body.client_id": _drawn("client_ids"),
            "body.client_secret": _drawn("client_secrets"),
            "body.scope": _drawn("scopes"),
            "query.action": _drawn("actions", 0.5),
            "query.alg": _drawn("algs"),
            "query.value": _drawn("binding_values"),
            "body.alg": _drawn("algs"),
            "body.value": _drawn("binding_values"),
        },
        "operations": [
            {
                "include-path": path,
                "include-method": "GET",
                "parameters": {"query.cursor": _drawn(f"cursor{path}")},
            }
            for path in CURSORS
        ]
        + [
            {
                "include-path": "/v1/grants/{grant_id}/resume",
                "parameters": {"path.grant_id": _drawn("suspended_grants")},
            },
            {
                "include-path": "/v1/grants/{grant_id}/supersede",
                "parameters": {"path.grant_id": _drawn("latest", 0.5)},
            },
        ],
    }
)
schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()), config=CONFIG)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """A raw body to verify: often one of the seeded files instead of random bytes."""
    operation = context.operation
    if operation is not None and operation.label == "POST /v1/verify" and isinstance(body, bytes):
        return st.one_of(st.just(body), st.sampled_from(FILES))
    return st.just(body)


def _cleaned(value: Any) -> Any:
    """A copy of ``value`` without the characters the registry refuses in any text."""
    if isinstance(value, str):
        return REFUSED_TEXT.sub("x", value)
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


# The coverage phase draws nothing from the dictionaries: its positive cases get these values
# (by field name) so that each boundary value reaches the rules behind the lookups.
COVERAGE_FILL: dict[str, Any] = {
    "subject_id": SUBJECTS[0],
    "grant_id": ACTIVE_GRANTS[0],
    "generator_id": GENERATORS[0],
    "key": KEYS[0],
    "file": FILES[0],
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "territories": ["US"],
    "territory": "US",
    "jurisdictions": ["US"],
    "purpose": "advertising",
    "description": grant_body("")["purposes"][0]["description"],
    "currency": "USD",
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": "2099-01-01T00:00:00Z",
    "alg": WATERMARK_ALG,
    "value": BINDING_VALUE,
}
FILL_NULL = {"client_id", "client_secret"}  # both or neither: one without the other is a 401


def _filled(value: Any) -> Any:
    """A copy of ``value`` with the ``COVERAGE_FILL`` values."""
    if isinstance(value, dict):
        return {
            key: COVERAGE_FILL[key]
            if key in COVERAGE_FILL and (item is not None or key in FILL_NULL)
            else _filled(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_filled(item) for item in value]
    return value


def _replace(container: dict[str, Any] | list[Any], content: Any) -> None:
    """Change a case's container in place (see ``resolved``)."""
    if isinstance(container, dict):
        container.clear()
        container.update(content)
    else:
        container[:] = content


IDEMPOTENCY_KEY = "Idempotency-Key"
_coverage_keys = itertools.count()


@schema.hook
def map_case(context: schemathesis.HookContext, case: Case) -> Case:
    """Positive cases: without the control characters the registry refuses in any text (a rule
    of registry/hygiene.py the document does not state), and in the coverage phase with the
    seeded values and an Idempotency-Key of their own."""
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE:
        return case
    for container in (case.path_parameters, case.query, case.body):
        if isinstance(container, dict | list):
            _replace(container, _cleaned(container))
    if meta.phase.name is not TestPhase.COVERAGE or not isinstance(case.body, dict):
        return case
    _replace(case.body, _filled(case.body))
    if "generator_id" in case.path_parameters:
        case.path_parameters["generator_id"] = GENERATORS[1]
    if "grant_id" in case.path_parameters:
        supersede = case.operation.label == "POST /v1/grants/{grant_id}/supersede"
        case.path_parameters["grant_id"] = LATEST if supersede else ACTIVE_GRANTS[0]
    # The same key with another body is a 409 before anything else.
    key = case.headers.get(IDEMPOTENCY_KEY)
    if key is not None and getattr(meta.phase.data, "parameter", None) != IDEMPOTENCY_KEY:
        suffix = f"-{next(_coverage_keys)}"
        case.headers[IDEMPOTENCY_KEY] = key[: 200 - len(suffix)] + suffix
    return case


@dataclass
class Seed:
    """What the studio owns before the run: the values behind the placeholders."""

    studio: Studio
    subjects: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    generators: list[str] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    files: list[bytes] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    latest: str = ""

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            CLIENT_ID: self.studio.client_id,
            CLIENT_SECRET: self.studio.client_secret,
            LATEST: self.latest or self.grants[0],
        }
        for names, real in (
            (SUBJECTS, self.subjects),
            (GRANTS, self.grants),
            (MEDIA, self.media),
            (GENERATORS, self.generators),
            (MANIFESTS, self.manifests),
            (KEYS, self.keys),
            (FILES, self.files),
        ):
            values.update(zip(names, real, strict=True))
        values.update({CURSORS[path]: cursor for path, cursor in self.cursors.items()})
        return values


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.json  # type: ignore[no-any-return]


@pytest.fixture
def seed(app: Flask, studio: Studio, work: Path) -> Seed:
    """Subjects; grants active, suspended, revoked and superseded; a signed image; objects
    under the studio's prefix; a second page of every list."""
    seed = Seed(studio)
    pending = {
        "name": "SeedForge",
        "version": "1",
        "provider": "Seed Labs",
        "training_data": "unknown",
        "risk_class": "low",
        "modalities": ["image", "audio", "video"],
    }
    seed.generators = [studio.generator_id, _ok(studio.post("/v1/generators", json=pending))["id"]]
    for name in ("Ada Example", "Grace Example"):
        seed.subjects.append(studio.subject(display_name=name)["id"])
    # Broad terms, so that most generated uses are in scope.
    broad = {
        "modalities": ["voice", "likeness", "face", "body", "singing", "name"],
        "operations": ["generate", "alter", "dub_translate", "real_time"],
        "media_types": ["image", "audio", "video"],
        "territories": ["*"],
    }
    for subject in seed.subjects:
        for _ in range(3):
            seed.grants.append(
                _ok(studio.post("/v1/grants", json=grant_body(subject, **broad)))["id"]
            )
    active, suspended, revoked, superseded = seed.grants[:4]
    _ok(studio.post(f"/v1/grants/{suspended}/suspend", json={"reason": "paused by the studio"}))
    _ok(studio.post(f"/v1/grants/{revoked}/revoke", json={"reason": "withdrawn by the subject"}))
    terms = {k: v for k, v in grant_body(seed.subjects[0], **broad).items() if k != "subject_id"}
    successor = _ok(
        studio.post(f"/v1/grants/{superseded}/supersede", json={**terms, "reason": "new terms"})
    )
    seed.grants.append(successor["id"])

    source = assets.make_png(work)
    metadata = {
        "grants": [
            {
                "grant_id": active,
                "modalities": ["face"],
                "purpose": "advertising",
                "territory": "US",
            }
        ],
        "generator": GENERATOR,
    }
    with source.open("rb") as handle:
        asset = _ok(
            studio.client.post(
                "/v1/media",
                data={"file": (handle, source.name), "metadata": json.dumps(metadata)},
                headers=studio.headers,
                content_type="multipart/form-data",
            )
        )
    seed.media.append(asset["id"])
    seed.manifests.append(asset["manifest_id"])
    assert asset["source_sha256"] == SOURCE_SHA256
    signed = studio.get(f"/v1/media/{asset['id']}/content")
    assert signed.status_code == 200
    seed.files = [source.read_bytes(), signed.get_data()]

    storage = state_of(app).storage
    for name, data in zip(("render.png", "signed.png"), seed.files, strict=True):
        key = f"orgs/{studio.org_id}/seed/{name}"
        storage.put_bytes(key, data, "image/png")
        seed.keys.append(key)

    for path in LISTS:
        page = _ok(studio.get(path, query_string={"limit": 1}))
        assert page["next_cursor"], path
        seed.cursors[path] = page["next_cursor"]
    return seed


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    """A copy of ``value`` with the placeholders swapped."""
    if isinstance(value, str):
        return values.get(value, value)
    if isinstance(value, dict):
        return {key: _resolve(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, values) for item in value]
    return value


@contextmanager
def resolved(case: Case, seed: Seed) -> Iterator[None]:
    """The case with the current app's values for the placeholders, put back afterwards.

    The containers are changed in place: schemathesis re-judges a reassigned one against the
    schema and takes any body holding bytes (a file) for an invalid one, which would turn the
    case negative. Their nested values are replaced, never changed, and the containers are put
    back: the coverage phase's cases are made once, at collection, share nested values, and are
    sent again on the next database.
    """
    values = seed.values()
    containers: list[Any] = [
        c for c in (case.path_parameters, case.query, case.body) if isinstance(c, dict | list)
    ]
    originals = [copy.copy(c) for c in containers]
    body = case.body
    for container in containers:
        _replace(container, _resolve(container, values))
    if isinstance(body, str) and body in values:
        object.__setattr__(case, "body", values[body])  # a raw body: see above
    try:
        yield
    finally:
        object.__setattr__(case, "body", body)
        for container, original in zip(containers, originals, strict=True):
            _replace(container, original)


@dataclass
class Tally:
    """Statuses of the authenticated calls of the documented method, per operation."""

    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    # Operations whose path holds an id the seed has none of (they are 404 throughout).
    unseeded: set[str] = field(default_factory=set)

    def add(self, case: Case, status: int) -> None:
        label = case.operation.label
        self.statuses[label][status] += 1
        if set(case.path_parameters or ()) - SEEDED_PATH_PARAMETERS:
            self.unseeded.add(label)

    def unreached(self) -> list[str]:
        """Operations with seeded data of which no generated request succeeded."""
        return [
            label
            for label, counts in self.statuses.items()
            if label not in self.unseeded and not any(status < 400 for status in counts)
        ]

    def line(self, label: str) -> str:
        counts = self.statuses[label]
        total = sum(counts.values())
        passed = sum(n for status, n in counts.items() if not 400 <= status < 500)
        spread = " ".join(f"{status}:{n}" for status, n in sorted(counts.items()))
        return f"{label:<40} {total:>4} cases {passed / total:>4.0%} not 4xx  {spread}"


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    tally = Tally()
    yield tally
    for label in tally.statuses:
        print(f"\n{request.node.callspec.id:<10} {tally.line(label)}", end="")
    # The seeded data must still get generated requests past validation.
    assert not tally.unreached(), f"no generated request succeeded: {tally.unreached()}"


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests_get_documented_answers(
    case: Case, app: Flask, seed: Seed, tally: Tally
) -> None:
    with resolved(case, seed):
        response = case.call_and_validate(app=app, headers=seed.studio.headers)
        # The coverage phase also sends other methods (405 to anyone): not this operation's.
        if case.method != case.operation.method.upper():
            return
        tally.add(case, response.status_code)
        if response.status_code == 201 and case.operation.path.endswith("/supersede"):
            seed.latest = response.json()["id"]
        anonymous = case.call(app=app)
        case.validate_response(anonymous)
    if case.operation.definition.raw.get("security"):
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["content-type"] == [PROBLEM_CONTENT_TYPE]
