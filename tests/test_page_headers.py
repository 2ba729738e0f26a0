"""Security headers: every response is nosniff and sends no referrer; pages cannot be framed
and run only this origin's scripts, and they still work in a real browser under that policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import console_errors, start_chromium


@pytest.mark.parametrize("path", ["/verify", "/docs", "/portal/signin"])
def test_pages_send_a_content_security_policy(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "script-src" not in policy  # scripts fall back to default-src 'self': none inline
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/v1/grants", "/nowhere"])
def test_api_responses_are_nosniff_without_a_page_policy(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" not in response.headers


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def test_the_api_viewer_renders_under_its_policy(
    browser: webdriver.Chrome, live_server: str
) -> None:
    browser.get(f"{live_server}/docs")

    WebDriverWait(browser, 20).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary"))
    )
    assert "Issue a consent grant" in browser.find_element(By.TAG_NAME, "body").text
    assert [m for m in console_errors(browser) if "Content Security Policy" in m] == []


def test_the_verify_page_runs_its_script_under_its_policy(
    browser: webdriver.Chrome, live_server: str
) -> None:
    browser.get(f"{live_server}/verify")

    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "verify-form"))
    )
    assert [m for m in console_errors(browser) if "Content Security Policy" in m] == []
