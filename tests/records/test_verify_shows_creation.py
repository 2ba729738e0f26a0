"""Verification shows how a work was made: the generator's public inventory facts and the
people's contributions, in the API and on the /verify page (a real Chromium); never the risk
class, the approver, prompts or inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.factories import Studio
from tests.media import assets
from tests.records.test_creation_record import CUT, DIRECTION, PROMPT, sign_with_record
from tests.verification.conftest import verify
from tests.verification.test_verify_page import _verify_in_page

PUBLIC_TOOL = {
    "name": "VoiceForge",
    "version": "2.1",
    "provider": "VoiceForge Labs",
    "documentation_url": "https://voiceforge.example/model-card",
    "license": "commercial",
    "training_data": "licensed",
    "modalities": ["image", "audio", "video"],
}


@pytest.fixture
def signed(studio: Studio, work: Path) -> tuple[Path, Path]:
    grant = studio.grant(media_types=["image"])
    source = assets.make_jpeg(work)
    asset = sign_with_record(studio, source, grant["id"])
    path = work / "signed.jpg"
    path.write_bytes(studio.get(f"/v1/media/{asset['id']}/content").get_data())
    return path, source


def _private_absent(text: str) -> None:
    for private in ("risk_class", "approved_by", "zq-sentinel", "reference still", "c" * 64):
        assert private not in text


def test_the_api_reports_the_tool_and_the_people(
    client: FlaskClient, signed: tuple[Path, Path]
) -> None:
    path, source = signed
    result = verify(client, path).json
    assert result["verdict"] == "pass"
    assert result["creation"] == {
        "source": "manifest",
        "generator": PUBLIC_TOOL,
        "human": [CUT, DIRECTION],
    }
    _private_absent(json.dumps(result))
    # The label gone (the bytes as generated): what the registry recorded stands in.
    bare = verify(client, source).json
    assert bare["recovered_from"] == "source_hash"
    assert bare["creation"] == {**result["creation"], "source": "registry"}
    _private_absent(json.dumps(bare))


def test_a_file_of_another_tool_has_no_creation_facts(client: FlaskClient, work: Path) -> None:
    assert verify(client, assets.make_jpeg(work)).json["creation"] is None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    from tests.browser import start_chromium

    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def test_the_verify_page_shows_the_tool_and_the_people(
    browser: webdriver.Chrome, live_server: str, signed: tuple[Path, Path]
) -> None:
    path, _ = signed
    assert _verify_in_page(browser, live_server, path, "verify-creation.png") == "Pass"
    tool = browser.find_element(By.ID, "creation-tool").text
    assert tool == "VoiceForge 2.1, by VoiceForge Labs"
    assert browser.find_element(By.ID, "creation-training").text == "licensed"
    people = browser.find_element(By.ID, "creation-human").text
    assert "editor: editing — cut and color grade" in people
    assert "director: performance direction — chose the take" in people
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "https://voiceforge.example/model-card" in page
    assert PROMPT not in page and "Head of" not in page
    _private_absent(browser.page_source)
