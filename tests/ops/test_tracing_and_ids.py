"""Tracing (in-memory exporter), request ids and the /metrics guard, in process (issue #14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from registry import create_app, request_ids, tracing
from registry.settings import Settings
from registry.state import state_of
from tests.factories import Studio
from tests.media.conftest import metadata, sign_upload
from tests.s3server import use_s3

AUDIO = Path(__file__).resolve().parents[1] / "assets" / "tone.mp3"


@pytest.fixture
def s3_settings(
    settings: Settings, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    server = request.getfixturevalue("s3_server")
    return use_s3(settings, monkeypatch, server.endpoint_url, request.getfixturevalue("s3_bucket"))


# botocore's, httpx's and the threads' instrumentations patch the process once, with the
# first provider they are given: one provider and exporter for every test here.
EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def provider() -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    yield provider
    # The rest of the run goes untraced, as production does without OTEL_* settings.
    for instrumentor in (
        BotocoreInstrumentor(),
        HTTPXClientInstrumentor(),
        SQLAlchemyInstrumentor(),
        ThreadingInstrumentor(),
    ):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


@pytest.fixture
def traced(
    s3_settings: Settings, provider: TracerProvider
) -> Iterator[tuple[Flask, InMemorySpanExporter]]:
    exporter = EXPORTER
    app = create_app(s3_settings)
    tracing.instrument(app, state_of(app).database, provider)
    yield app, exporter
    state_of(app).database.dispose()


def test_one_trace_runs_from_the_request_to_the_database_and_s3(
    traced: tuple[Flask, InMemorySpanExporter],
) -> None:
    app, exporter = traced
    client = app.test_client()
    studio = Studio.create(app, client, name="Traced Studio")
    grant = studio.grant(media_types=["audio"], modalities=["voice"], operations=["generate"])
    exporter.clear()

    response = sign_upload(studio, AUDIO, metadata(grant["id"]))

    assert response.status_code == 201, response.json
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.name == "POST /v1/media"]
    assert len(server) == 1, [s.name for s in spans]
    trace_id = server[0].context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    systems = {
        s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in in_trace
    }
    assert systems & {"sqlite", "postgresql"}, systems
    s3_calls = [s for s in in_trace if (s.attributes.get("rpc.service") == "S3")]
    assert any(s.attributes.get("rpc.method") == "PutObject" for s in s3_calls), [
        s.name for s in in_trace
    ]
    # Nothing the client sent as a value reaches a span: SQL is sent with its parameters apart.
    for span in in_trace:
        statement = str(
            span.attributes.get("db.statement") or span.attributes.get("db.query.text") or ""
        )
        assert "Ada Example" not in statement


def test_tracing_is_off_unless_configured() -> None:
    assert not tracing.configured({})
    assert not tracing.configured({"OTEL_SERVICE_NAME": "x"})
    assert tracing.configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.configured({"OTEL_TRACES_EXPORTER": "otlp"})
    assert not tracing.configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert not tracing.configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("a", True),
        ("A" * request_ids.MAX_LENGTH, True),
        ("A" * (request_ids.MAX_LENGTH + 1), False),
        ("0f8a-tenant.eu:req/42+x=y@lb", True),
        ("", False),
        ("has space", False),
        ('quote"', False),
        ("new\nline", False),
        ("ünicode", False),
    ],
)
def test_a_client_request_id_is_kept_only_when_sane(sent: str, kept: bool) -> None:
    accepted = request_ids.accept(sent)
    assert (accepted == sent) is kept
    if not kept:
        assert len(accepted) == 32 and int(accepted, 16) >= 0


def test_every_problem_and_response_carries_the_request_id(client, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/grants/nope", headers={**studio.headers, "X-Request-ID": "r-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "r-1"
    assert response.json["request_id"] == "r-1"
    unrouted = client.get("/no/such/route")
    assert unrouted.json["request_id"] == unrouted.headers["X-Request-ID"]
    assert client.get("/healthz").headers["X-Request-ID"]


def test_metrics_need_their_token_when_one_is_set(settings: Settings) -> None:
    settings.metrics_token = "a-metrics-token-of-enough-length-0123456789"
    app = create_app(settings)
    client = app.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json["type"].endswith("/unauthorized")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    good = client.get("/metrics", headers={"Authorization": f"Bearer {settings.metrics_token}"})
    assert good.status_code == 200
    assert b"registry_http_requests_total" in good.data
    assert b"registry_outbox_depth 0.0" in good.data
    state_of(app).database.dispose()


def test_metrics_are_open_in_development_without_a_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
