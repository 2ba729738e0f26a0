"""The generator inventory over HTTP: parse, call one service, render."""

from __future__ import annotations

from flask import Blueprint

from registry.api import Rendered, operation
from registry.auth.principal import Principal
from registry.db import get_session
from registry.generators import services
from registry.generators.schemas import (
    GeneratorApprove,
    GeneratorCreate,
    GeneratorList,
    GeneratorListQuery,
    GeneratorPublic,
    GeneratorRetire,
    GeneratorUpdate,
)

bp = Blueprint("generators", __name__)
# Pipelines read the inventory to cite it; changing it takes the `generators` scope.
READ_SCOPES = ["media:sign"]
WRITE_SCOPES = ["generators"]
READ_ERRORS = (401, 403, 404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)


@bp.post("/v1/generators")
@operation(
    summary="Add a generator (an AI tool) to the organization's inventory (pending approval)",
    tags=["generators"],
    body=GeneratorCreate,
    response=GeneratorPublic,
    status=201,
    scopes=WRITE_SCOPES,
    errors=WRITE_ERRORS,
)
def create_generator(principal: Principal, body: GeneratorCreate) -> Rendered:
    entry = services.create_generator(
        get_session(), org_id=principal.org_id, body=body, actor=principal.actor
    )
    return Rendered(
        services.public_entry(entry), headers={"Location": f"/v1/generators/{entry.id}"}
    )


@bp.get("/v1/generators")
@operation(
    summary="List the organization's generators",
    tags=["generators"],
    query=GeneratorListQuery,
    response=GeneratorList,
    scopes=READ_SCOPES,
    errors=READ_ERRORS,
)
def list_generators(principal: Principal, query: GeneratorListQuery) -> GeneratorList:
    page = services.list_generators(
        get_session(),
        org_id=principal.org_id,
        state=query.state,
        cursor=query.cursor,
        limit=query.limit,
    )
    return GeneratorList(
        items=[services.public_entry(g) for g in page.items], next_cursor=page.next_cursor
    )


@bp.get("/v1/generators/<generator_id>")
@operation(
    summary="Read a generator",
    tags=["generators"],
    response=GeneratorPublic,
    scopes=READ_SCOPES,
    errors=READ_ERRORS,
)
def get_generator(principal: Principal, generator_id: str) -> GeneratorPublic:
    return services.public_entry(
        services.get_generator(get_session(), org_id=principal.org_id, generator_id=generator_id)
    )


@bp.patch("/v1/generators/<generator_id>")
@operation(
    summary="Change a generator's facts (an approved one returns to pending)",
    tags=["generators"],
    body=GeneratorUpdate,
    response=GeneratorPublic,
    scopes=WRITE_SCOPES,
    errors=WRITE_ERRORS,
)
def update_generator(
    principal: Principal, generator_id: str, body: GeneratorUpdate
) -> GeneratorPublic:
    entry = services.update_generator(
        get_session(),
        org_id=principal.org_id,
        generator_id=generator_id,
        body=body,
        actor=principal.actor,
    )
    return services.public_entry(entry)


@bp.post("/v1/generators/<generator_id>/approve")
@operation(
    summary="Approve a generator: signing may cite it from now on",
    tags=["generators"],
    body=GeneratorApprove,
    response=GeneratorPublic,
    scopes=WRITE_SCOPES,
    errors=WRITE_ERRORS,
)
def approve_generator(
    principal: Principal, generator_id: str, body: GeneratorApprove
) -> GeneratorPublic:
    entry = services.approve_generator(
        get_session(),
        org_id=principal.org_id,
        generator_id=generator_id,
        actor=principal.actor,
        approver=body.approver,
    )
    return services.public_entry(entry)


@bp.post("/v1/generators/<generator_id>/retire")
@operation(
    summary="Retire a generator for good: signing refuses it; records keep citing it",
    tags=["generators"],
    body=GeneratorRetire,
    response=GeneratorPublic,
    scopes=WRITE_SCOPES,
    errors=WRITE_ERRORS,
)
def retire_generator(
    principal: Principal, generator_id: str, body: GeneratorRetire
) -> GeneratorPublic:
    entry = services.retire_generator(
        get_session(),
        org_id=principal.org_id,
        generator_id=generator_id,
        actor=principal.actor,
        reason=body.reason,
    )
    return services.public_entry(entry)
