"""Who may ask about a file, and what an anonymous caller may spend: shared by every service
that answers questions about an uploaded file (``/v1/verify``, ``/v1/screen``, the Soft
Binding Resolution API's ``/matches``). One rate limit and one set of budgets for all of them:
an address spends the same allowance whichever it calls.

HTTP edge code (reads the request and ``app_state()``); views import it, services never do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import request

from registry.api import parse_body, require_scopes
from registry.auth.principal import bearer_token
from registry.c2pa.budget import metered
from registry.intake.receiver import is_raw_body
from registry.intake.spool import SpooledFile
from registry.state import app_state
from registry.verification.errors import VerificationNeedsLogin
from registry.verification.schemas import VerifyObjectRequest

SCOPE = "verify"  # what a token needs for each of these services


def authorize_caller() -> str | None:
    """The caller's organization, or None for an anonymous caller (when allowed), counted
    against the anonymous rate limit of its address."""
    if bearer_token() is not None:
        return require_scopes([SCOPE]).org_id
    state = app_state()
    if not state.settings.public_verify:
        raise VerificationNeedsLogin(f"send an access token with the {SCOPE} scope")
    state.anonymous_verify_limit.hit(request.remote_addr or "")
    return None


@contextmanager
def received_file(org_id: str | None) -> Iterator[SpooledFile]:
    """The file asked about, spooled and hashed in a private directory that is then removed:
    a raw body, the multipart ``file`` part, or (with a token) JSON ``{key}`` of an object."""
    intake = app_state().intake
    with intake.workdir() as directory:
        if is_raw_body(request.mimetype):
            yield intake.receive_body(directory)
        elif request.mimetype == "application/json":
            if org_id is None:
                raise VerificationNeedsLogin("verifying a stored object needs an access token")
            body, _ = parse_body(VerifyObjectRequest)
            assert isinstance(body, VerifyObjectRequest)  # noqa: S101 - narrows the type
            yield intake.fetch_object(org_id=org_id, key=body.key, directory=directory)
        else:
            yield intake.receive_upload(directory, metadata_model=None)[0]


class Received:
    """How many bytes the body turned out to have (charged after the fact when undeclared)."""

    size = 0


@contextmanager
def anonymous_spending(org_id: str | None) -> Iterator[Received]:
    """What an anonymous call spends besides its request: one of the worker's few slots for
    them, and bytes and c2pa time, checked before the body is read (a declared length is
    charged then) and charged when the work is done, failed or not."""
    received = Received()
    if org_id is not None:
        yield received
        return
    cost = app_state().anonymous_verify_cost
    address = request.remote_addr or ""
    with cost.slot(), metered() as meter:
        declared = cost.admit(address, content_length=request.content_length)
        try:
            yield received
        finally:
            cost.charge(
                address,
                upload_bytes=0 if declared else received.size,
                c2pa_seconds=meter.seconds,
            )


@contextmanager
def file_asked_about() -> Iterator[tuple[str | None, SpooledFile]]:
    """Authorize the caller once, then receive the file within the anonymous budgets: the
    caller's organization (None: anonymous) and the spooled file."""
    org_id = authorize_caller()
    with anonymous_spending(org_id) as received, received_file(org_id) as source:
        received.size = source.size
        yield org_id, source
