"""The whole story in headless Chromium, with Chrome's virtual WebAuthn authenticator:

a studio creates a subject and a grant that needs confirmation → the invitation link → the
person creates a passkey → sees the grant in plain words → confirms → the pipeline signs a file
citing it → the person sees that media → revokes → the studio's webhook receiver (a real HTTP
server, fed by a real `registry worker`) gets grant.revoked and verification says
consent.revoked. Each main page is screenshotted (under the test's tmp dir, or
REGISTRY_PORTAL_SCREENSHOTS) once its key words are on it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import BaseWSGIServer, make_server

from registry.settings import Settings
from tests.browser import console_errors, start_chromium
from tests.factories import Studio, grant_body
from tests.media import assets
from tests.media.conftest import metadata, sign_upload
from tests.media.test_sign_api import download
from tests.webhooks.conftest import (  # noqa: F401 - fixtures
    Receiver,
    Workers,
    add_endpoint,
    receiver,
    receivers,
    workers,
)

PLAIN = "your voice, for advertising, in Spain and the US, until 30 Nov 2027, paid a flat fee"


@pytest.fixture
def http_server() -> Iterator[tuple[BaseWSGIServer, dict[str, Any]]]:
    """A loopback server whose port is known before the app is built (the passkeys' origin
    names it); the app is plugged in by ``portal_server``."""
    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    yield server, holder
    server.server_close()


@pytest.fixture
def settings(  # type: ignore[override]
    settings: Settings, http_server: tuple[BaseWSGIServer, dict[str, Any]]
) -> Settings:
    # WebAuthn needs a domain (not an IP address) in a secure context: localhost is both.
    settings.portal_origin = f"http://localhost:{http_server[0].server_port}"
    return settings


@pytest.fixture
def portal_server(
    app: Flask, settings: Settings, http_server: tuple[BaseWSGIServer, dict[str, Any]]
) -> Iterator[str]:
    server, holder = http_server
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield str(settings.portal_origin)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = start_chromium(tmp_path / "chromium-profile")
    options = VirtualAuthenticatorOptions()
    options.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
    options.transport = VirtualAuthenticatorOptions.Transport.INTERNAL
    options.has_resident_key = True
    options.has_user_verification = True
    options.is_user_verified = True
    options.is_user_consenting = True
    driver.add_virtual_authenticator(options)
    yield driver
    driver.quit()


class Shots:
    """Screenshots of the main pages, each taken once the page shows its key words."""

    def __init__(self, browser: webdriver.Chrome, directory: Path) -> None:
        self.browser, self.directory = browser, directory
        directory.mkdir(parents=True, exist_ok=True)

    def take(self, name: str, *words: str) -> Path:
        text = self.browser.find_element(By.TAG_NAME, "body").text
        for word in words:
            assert word in text, f"{name}: {word!r} is not on the page:\n{text}"
        path = self.directory / f"{name}.png"
        self.browser.save_screenshot(str(path))
        assert path.stat().st_size > 10_000  # a rendered page, not a blank one
        return path


def _wait_text(browser: webdriver.Chrome, element_id: str, text: str) -> None:
    WebDriverWait(browser, 20).until(
        expected_conditions.text_to_be_present_in_element((By.ID, element_id), text)
    )


def _click(browser: webdriver.Chrome, element_id: str) -> None:
    browser.find_element(By.ID, element_id).click()


def test_the_person_confirms_sees_the_media_and_revokes(
    app: Flask,
    studio: Studio,
    portal_server: str,
    browser: webdriver.Chrome,
    receiver: Receiver,  # noqa: F811 - the fixture
    workers: Workers,  # noqa: F811 - the fixture
    work: Path,
    tmp_path: Path,
) -> None:
    shots = Shots(browser, Path(os.environ.get("REGISTRY_PORTAL_SCREENSHOTS", tmp_path / "shots")))
    endpoint = add_endpoint(studio, receiver.url, event_types=["grant.revoked"])
    workers.start()

    # The studio registers the person and a grant that needs their confirmation.
    subject = studio.subject(display_name="Ada Example", jurisdictions=["US", "ES"])
    body = grant_body(
        subject["id"],
        territories=["US", "ES"],
        valid_until="2027-11-30T23:59:59Z",
        requires_confirmation=True,
    )
    grant = studio.post("/v1/grants", json=body).json
    assert grant["status"] == "pending_confirmation"
    invitation = studio.post(f"/v1/subjects/{subject['id']}/invitations", json={}).json
    assert invitation["url"].startswith(portal_server + "/portal/invitations/")

    # The person opens the link and creates a passkey (Chrome's virtual authenticator).
    browser.get(invitation["url"])
    shots.take("1-invitation", "Northwind Studios invites you", "Create a passkey")
    _click(browser, "register-button")
    WebDriverWait(browser, 20).until(expected_conditions.url_contains("/portal/grants"))
    shots.take("2-my-grants", "Northwind Studios may use " + PLAIN, "Waiting for your confirmation")

    # Confirms the grant on its page.
    browser.find_element(By.LINK_TEXT, "See details, media and choices").click()
    _wait_text(browser, "grant-status", "Waiting for your confirmation")
    shots.take("3-grant-to-confirm", PLAIN, "Is this what you agreed to?", "Yes, I confirm")
    _click(browser, "confirm-button")
    _wait_text(browser, "grant-status", "In force")
    assert studio.get(f"/v1/grants/{grant['id']}").json["confirmed_at"]

    # The pipeline signs a file citing it; the person sees that media and its check.
    signed = sign_upload(
        studio, assets.make_wav(work), metadata(grant["id"], title="Spring spot, take 1")
    )
    assert signed.status_code == 201, signed.json
    browser.refresh()
    _wait_text(browser, "grant-status", "In force")
    shots.take("4-grant-confirmed-with-media", "Spring spot, take 1", "Withdraw your consent")
    browser.find_element(By.LINK_TEXT, "Spring spot, take 1").click()
    _wait_text(browser, "consent-code", "consent.in_force")
    shots.take("5-media", "AI-generated by VoiceForge", "consent.in_force")

    # Revokes it, with a reason.
    browser.back()
    _wait_text(browser, "grant-status", "In force")
    browser.find_element(By.ID, "revoke-reason").send_keys("I no longer want ads in my voice")
    _click(browser, "revoke-button")
    WebDriverWait(browser, 10).until(expected_conditions.alert_is_present())
    browser.switch_to.alert.accept()
    _wait_text(browser, "grant-status", "Withdrawn")
    shots.take("6-grant-revoked", "Withdrawn", PLAIN)
    browser.find_element(By.LINK_TEXT, "Spring spot, take 1").click()
    _wait_text(browser, "consent-code", "consent.revoked")
    shots.take("7-media-revoked", "consent.revoked")

    # The declarations page shows the effect before saving.
    browser.get(portal_server + "/portal/declarations")
    _click(browser, "do_not_train")
    _click(browser, "preview-button")
    _wait_text(browser, "effects", "not allowed")
    shots.take("8-declarations-preview", "What this changes", "Save my declarations")
    assert console_errors(browser) == []

    # The studio's webhook receiver gets grant.revoked, signed with the endpoint's secret.
    [delivered] = receiver.wait("grant.revoked")
    payload = delivered.verify(endpoint["secret"])
    assert payload["data"]["grant_id"] == grant["id"] and payload["data"]["status"] == "revoked"

    # Verification of the signed file says consent.revoked.
    report = studio.client.post(
        "/v1/verify",
        data=download(studio, signed.json["id"]),
        headers={**studio.headers, "Content-Type": "application/octet-stream"},
    ).json
    consent = next(c for c in report["checks"] if c["check"] == "consent")
    assert consent["code"] == "consent.revoked" and report["verdict"] == "fail"

    if os.environ.get("REGISTRY_PORTAL_SCREENSHOTS"):
        return
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
