"""OpenTelemetry tracing: off unless the standard ``OTEL_*`` variables configure an exporter.

On (``OTEL_TRACES_EXPORTER=otlp`` or an ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, and ``OTEL_SDK_DISABLED`` not ``true``), each request
is a trace: Flask's server span, and beneath it the SQL statements (SQLAlchemy), the S3 calls
(botocore; boto3's transfer threads carry the context) and outgoing HTTP (httpx: JWKS
fetches, webhook deliveries). Spans go to the OTLP exporter (HTTP/protobuf) in batches.
``OTEL_SERVICE_NAME`` (default ``consent-registry``), ``OTEL_RESOURCE_ATTRIBUTES`` and the
sampler variables are read by the SDK itself.

SQL spans carry the statement text with its parameters left out (SQLAlchemy binds them), so
no value a request sent reaches the collector.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from registry.db import Database

SERVICE_NAME = "consent-registry"
_EXPORTER_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


def configured(environ: dict[str, str] | None = None) -> bool:
    """Whether the environment asks for traces."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "")
    if exporter == "none":
        return False
    return exporter == "otlp" or any(env.get(name) for name in _EXPORTER_VARIABLES)


def exporting_provider() -> TracerProvider:
    """A tracer provider that sends spans in batches to the OTLP (HTTP) exporter."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def instrument(app: Flask, database: Database, provider: TracerProvider) -> None:
    """Trace ``app``'s requests, ``database``'s statements, S3 and httpx under ``provider``."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor

    FlaskInstrumentor().instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics"
    )
    # The instrumentors are process-wide singletons: one app (and engine) per process in
    # production; a second instrument() replaces the first's engine listeners.
    sqlalchemy = SQLAlchemyInstrumentor()
    if sqlalchemy.is_instrumented_by_opentelemetry:
        sqlalchemy.uninstrument()
    # Database.read's raw psycopg reads (the public status path) are not traced.
    # Its declared range stops below SQLAlchemy 2.1 (its engine events are the same there:
    # tests/ops/test_tracing_and_ids.py sees the statements), hence skip_dep_check.
    sqlalchemy.instrument(
        engine=database.engine,
        tracer_provider=provider,
        enable_commenter=False,
        skip_dep_check=True,
    )
    # Process-wide patches (botocore, httpx): applied once, whatever the number of apps.
    botocore = BotocoreInstrumentor()
    if not botocore.is_instrumented_by_opentelemetry:
        botocore.instrument(tracer_provider=provider)
    # boto3's transfers (uploads, downloads) run on a thread pool: its threads carry the
    # request's trace context along.
    threads = ThreadingInstrumentor()
    if not threads.is_instrumented_by_opentelemetry:
        threads.instrument(tracer_provider=provider)
    httpx = HTTPXClientInstrumentor()
    if not httpx.is_instrumented_by_opentelemetry:
        httpx.instrument(tracer_provider=provider)


def init_app(app: Flask, database: Database) -> None:
    if configured():
        instrument(app, database, exporting_provider())
