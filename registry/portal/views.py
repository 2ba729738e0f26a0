"""The portal's pages (server-rendered) and the passkey endpoints their script calls.

Every POST carries a CSRF token (Flask-WTF: the form field ``csrf_token`` or the header
``X-CSRFToken``), checked before the view runs. The session cookie holds only the account id
(signed; HttpOnly, SameSite=Lax, Secure in production). Errors render as an HTML page for a
browser and as application/problem+json otherwise; a page that needs a session sends a browser
to sign in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.wrappers import Response as BaseResponse
from wtforms import ValidationError

from registry.api import bounded_body, json_response
from registry.consent.models import ConsentGrant
from registry.consent.vocabulary import DECLARATIONS, PENDING_CONFIRMATION
from registry.db import commit_request, get_session, utcnow
from registry.errors import RegistryError, ValidationFailed
from registry.http_errors import problem_response
from registry.portal import accounts, actions, invitations, plain_words
from registry.portal.errors import CsrfRejected, NotSignedIn, PasskeyRejected
from registry.portal.models import Person
from registry.portal.passkeys import base64url_to_bytes, bytes_to_base64url
from registry.state import app_state
from registry.verification.consent_checks import recorded_consent

bp = Blueprint("portal", __name__, template_folder="templates")
PERSON = "person"  # the session key of the signed-in account
EPOCH = "epoch"  # and the account's session epoch when they signed in
MAX_REASON = 1000
MAX_JSON_BYTES = 64 * 1024


def _address() -> str:
    return request.remote_addr or ""


@bp.before_request
def _check_csrf() -> None:
    if request.method != "POST":
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CsrfRejected(f"the CSRF token is missing or not valid ({exc})") from exc


@bp.errorhandler(RegistryError)
def _error(error: RegistryError) -> BaseResponse | tuple[str, int]:
    wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wants_html != "text/html" or request.path.startswith("/portal/passkeys/"):
        return problem_response(error)
    if isinstance(error, NotSignedIn):
        return redirect(url_for("portal.signin"))
    return _render("error.html", error=error), error.status


def _render(template: str, **context: Any) -> str:
    return render_template(
        f"portal/{template}",
        csrf_token=generate_csrf(),
        signed_in=PERSON in session,
        words=plain_words,
        **context,
    )


def _person() -> str:
    """The signed-in account, whose session has not been ended by signing out."""
    person_id, epoch = session.get(PERSON), session.get(EPOCH)
    person = get_session().get(Person, person_id) if isinstance(person_id, str) else None
    if person is None or person.session_epoch != epoch:
        raise NotSignedIn("sign in with your passkey to see this page")
    return person.id


def _sign_in(person: Person) -> None:
    session.clear()  # nothing from before the sign-in carries over (a new CSRF token too)
    session[PERSON] = person.id
    session[EPOCH] = person.session_epoch
    session.permanent = True


def _json_body() -> dict[str, Any]:
    """A passkey call's JSON (a few kilobytes at most): a longer body, chunked or not, is
    refused (413) before its end is read."""
    body = bounded_body(MAX_JSON_BYTES)
    try:
        data = json.loads(body) if request.is_json else None
    except ValueError:  # UnicodeDecodeError too
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed("send a JSON object")
    return data


def _no_store(view: Callable[..., Any]) -> Callable[..., Any]:
    """Personal pages are never cached."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        if isinstance(response, str):
            response = Response(response, mimetype="text/html")
        if isinstance(response, BaseResponse):
            response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


# --- signing in -------------------------------------------------------------------------


@bp.get("/portal")
def home() -> BaseResponse:
    return redirect(url_for("portal.grants" if PERSON in session else "portal.signin"))


@bp.get("/portal/signin")
@_no_store
def signin() -> str:
    return _render("signin.html")


@bp.post("/portal/passkeys/signin/options")
def signin_options() -> Response:
    portal = app_state().portal
    portal.signin_limit.hit(_address())
    options, challenge = portal.relying_party.authentication_options()
    session["signin_challenge"] = bytes_to_base64url(challenge)
    return Response(options, mimetype="application/json")


@bp.post("/portal/passkeys/signin")
def signin_finish() -> Response:
    portal = app_state().portal
    portal.signin_limit.hit(_address())
    credential = _json_body()
    challenge = session.pop("signin_challenge", None)
    if not challenge:
        raise PasskeyRejected("ask for a new challenge first")
    db = get_session()
    passkey = accounts.find_passkey(db, str(credential.get("id", "")))
    if passkey is None:
        raise PasskeyRejected("this passkey is not registered here")
    passkey.sign_count = portal.relying_party.verify_authentication(
        credential,
        base64url_to_bytes(challenge),
        public_key=passkey.public_key,
        sign_count=passkey.sign_count,
    )
    passkey.last_used_at = utcnow()
    person = db.get(Person, passkey.person_id)
    assert person is not None  # noqa: S101 - a foreign key
    _sign_in(person)
    return json_response({"redirect": url_for("portal.grants")})


@bp.post("/portal/signout")
def signout() -> BaseResponse:
    """End the session here and every session of the account (any copy of its cookie)."""
    try:
        person_id = _person()
    except NotSignedIn:
        person_id = None
    if person_id is not None:
        person = get_session().get(Person, person_id, with_for_update=True)
        if person is not None:
            person.session_epoch += 1
    session.clear()
    return redirect(url_for("portal.signin"))


# --- invitations and new accounts ------------------------------------------------------


@bp.get("/portal/invitations/<secret>")
@_no_store
def invitation(secret: str) -> str:
    app_state().portal.invitation_limit.hit(_address())
    db = get_session()
    found = invitations.open_invitation(db, secret)
    studio = accounts.studio_name(db, found.org_id)
    return _render("invitation.html", secret=secret, studio=studio, invitation=found)


@bp.post("/portal/invitations/<secret>/link")
def link_invitation(secret: str) -> BaseResponse:
    """A signed-in person adds the invited profile to their account."""
    app_state().portal.invitation_limit.hit(_address())
    person_id = _person()
    db = get_session()
    found = invitations.open_invitation(db, secret, lock=True)
    invitations.redeem(db, found, person_id=person_id)
    return redirect(url_for("portal.grants"), code=303)


@bp.post("/portal/passkeys/register/options")
def register_options() -> Response:
    portal = app_state().portal
    portal.invitation_limit.hit(_address())
    secret = str(_json_body().get("invitation", ""))
    found = invitations.open_invitation(get_session(), secret)
    handle = bytes.fromhex(accounts.new_user_handle())
    options, challenge = portal.relying_party.registration_options(
        user_handle=handle, label=f"Consent Registry ({found.created_at:%Y-%m-%d})"
    )
    session["registration"] = {
        "challenge": bytes_to_base64url(challenge),
        "user_handle": handle.hex(),
        "invitation": invitations.secret_sha256(secret),
    }
    return Response(options, mimetype="application/json")


@bp.post("/portal/passkeys/register")
def register_finish() -> Response:
    portal = app_state().portal
    portal.invitation_limit.hit(_address())
    body = _json_body()
    pending = session.pop("registration", None)
    if not isinstance(pending, dict):
        raise PasskeyRejected("ask for new registration options first")
    secret = str(body.get("invitation", ""))
    if invitations.secret_sha256(secret) != pending.get("invitation"):
        raise PasskeyRejected("the registration was started for another invitation")
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise ValidationFailed("credential must be the passkey's JSON")
    db = get_session()
    found = invitations.open_invitation(db, secret, lock=True)
    new = portal.relying_party.verify_registration(
        credential, base64url_to_bytes(pending["challenge"])
    )
    person = accounts.create_person(db, user_handle=str(pending["user_handle"]))
    accounts.add_passkey(db, person, new)
    invitations.redeem(db, found, person_id=person.id)
    commit_request()
    _sign_in(person)
    return json_response({"redirect": url_for("portal.grants")}, status=201)


# --- grants -----------------------------------------------------------------------------


@bp.get("/portal/grants")
@_no_store
def grants() -> str:
    person_id = _person()
    db = get_session()
    profiles = accounts.profiles(db, person_id)
    mine = accounts.person_grants(db, profiles)
    now = utcnow()
    return _render(
        "grants.html",
        grants=mine,
        now=now,
        profiles=profiles,
        declared=accounts.declared(db, profiles),
        pending=[pg for pg in mine if pg.grant.effective_status(now) == PENDING_CONFIRMATION],
    )


@bp.get("/portal/grants/<grant_id>")
@_no_store
def grant(grant_id: str) -> str:
    person_id = _person()
    db = get_session()
    pg = accounts.person_grant(db, person_id, grant_id)
    return _render(
        "grant.html",
        pg=pg,
        status=pg.grant.effective_status(utcnow()),
        media=accounts.media_of(db, pg.grant),
    )


def _reason(default: str) -> str:
    reason = " ".join(request.form.get("reason", "").split())[:MAX_REASON]
    return reason or default


def _after(grant: ConsentGrant) -> BaseResponse:
    return redirect(url_for("portal.grant", grant_id=grant.id), code=303)


@bp.post("/portal/grants/<grant_id>/confirm")
def confirm(grant_id: str) -> BaseResponse:
    person_id = _person()
    db = get_session()
    pg = accounts.person_grant(db, person_id, grant_id)
    signer = app_state().consent_signer
    return _after(actions.confirm(db, pg, person_id=person_id, signer=signer))


@bp.post("/portal/grants/<grant_id>/decline")
def decline(grant_id: str) -> BaseResponse:
    db = get_session()
    pg = accounts.person_grant(db, _person(), grant_id)
    return _after(actions.decline(db, pg, reason=_reason("declined by the person")))


@bp.post("/portal/grants/<grant_id>/revoke")
def revoke(grant_id: str) -> BaseResponse:
    db = get_session()
    pg = accounts.person_grant(db, _person(), grant_id)
    unpublish = request.form.get("unpublish") == "yes"
    reason = _reason("withdrawn by the person")
    return _after(actions.revoke(db, pg, reason=reason, unpublish=unpublish))


@bp.post("/portal/grants/<grant_id>/suspend")
def suspend(grant_id: str) -> BaseResponse:
    db = get_session()
    pg = accounts.person_grant(db, _person(), grant_id)
    return _after(actions.suspend(db, pg, reason=_reason("suspended by the person")))


@bp.get("/portal/media/<media_id>")
@_no_store
def media(media_id: str) -> str:
    """A file signed citing the person's grants, and the consent check verification makes of
    it now (from what signing recorded)."""
    db = get_session()
    asset, cited = accounts.person_media(db, _person(), media_id)
    check, _ = recorded_consent(db, asset, now=utcnow())
    return _render("media.html", asset=asset, cited=cited, check=check)


# --- declarations and data --------------------------------------------------------------


def _wanted() -> set[str]:
    return {kind for kind in DECLARATIONS if request.form.get(kind) == "yes"}


@bp.get("/portal/declarations")
@_no_store
def declarations_page() -> str:
    db = get_session()
    declared = accounts.declared(db, accounts.profiles(db, _person()))
    return _render("declarations.html", declared=declared, wanted=None, effects=None)


@bp.post("/portal/declarations")
def declarations_change() -> BaseResponse | str:
    person_id = _person()
    db = get_session()
    wanted = _wanted()
    if request.form.get("action") != "save":
        profiles = accounts.profiles(db, person_id)
        declared = accounts.declared(db, profiles)
        effects = actions.effects(db, profiles, have=declared, wanted=wanted)
        return _render("declarations.html", declared=declared, wanted=wanted, effects=effects)
    actions.declare(db, person_id, wanted)
    return redirect(url_for("portal.declarations_page"), code=303)


@bp.get("/portal/data.json")
def export() -> Response:
    data = accounts.export(get_session(), _person())
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-consent-registry-data.json"',
            "Cache-Control": "no-store",
        },
    )
