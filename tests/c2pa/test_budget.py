"""The budget around every c2pa call: helper processes, killed and replaced when a call runs
over its time or memory, and a 422 problem of its own for the caller (never a 500)."""

from __future__ import annotations

import os
import signal
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.c2pa import budget
from registry.c2pa.adapter import read_manifest, sign_file
from registry.c2pa.errors import ManifestUnreadable, MediaOverBudget
from registry.errors import problem_type
from registry.intake.structure import BMFF_BOXES
from registry.keys.c2pa_credential import DevCredential, create_dev_credential
from tests.c2pa.test_adapter import representative_manifest
from tests.media import assets


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> DevCredential:
    return create_dev_credential(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def restore_budget() -> Iterator[None]:
    """Tests here change the process's budget; the next test gets the one before back."""
    before = budget.current_budget()
    yield
    budget.configure(before)


def _costly_mp4(directory: Path) -> Path:
    """An MP4 just inside the structural limit: c2pa takes ~0.1-0.2 s on it (a real file of
    its size, 40 KB, takes 1 ms)."""
    path = directory / "costly.mp4"
    clip = (assets.ASSETS / "clip.mp4").read_bytes()
    path.write_bytes(clip + struct.pack(">I4s", 8, b"free") * (BMFF_BOXES.base - 100))
    return path


def _sign(source: Path, dest: Path, dev: DevCredential, mime_type: str = "video/mp4") -> None:
    sign_file(
        source=source,
        dest=dest,
        mime_type=mime_type,
        manifest=representative_manifest(),
        credential=dev.credential,
    )


def test_the_budget_grows_with_the_file() -> None:
    small, large = budget.Budget().for_size(1000), budget.Budget().for_size(1024**3)
    assert small[0] == pytest.approx(5.0, abs=0.01) and small[1] >= 512 * 1024 * 1024
    assert large[0] == pytest.approx(65.0) and large[1] >= 8 * 1024**3


@pytest.mark.usefixtures("restore_budget")
def test_a_read_over_its_time_budget_is_refused_and_the_helper_replaced(
    tmp_path: Path, dev: DevCredential
) -> None:
    path = _costly_mp4(tmp_path)
    read_manifest(path=path, mime_type="video/mp4", trust_anchors_pem=dev.ca_pem)  # warm helpers
    budget.configure(budget.Budget(seconds=0.02, seconds_per_gib=0))
    started = time.monotonic()
    with pytest.raises(MediaOverBudget) as caught:
        read_manifest(path=path, mime_type="video/mp4", trust_anchors_pem=dev.ca_pem)
    assert time.monotonic() - started < 1.0
    problem = caught.value.to_problem()
    assert (problem["status"], problem["type"]) == (422, problem_type("media-over-budget"))
    assert problem["limit"] == "time"
    # The helper that overran was killed; the next call gets a working one.
    budget.configure(budget.Budget())
    report = read_manifest(path=path, mime_type="video/mp4", trust_anchors_pem=dev.ca_pem)
    assert not report.has_manifest


@pytest.mark.usefixtures("restore_budget")
def test_a_signing_over_its_time_budget_writes_nothing(tmp_path: Path, dev: DevCredential) -> None:
    budget.configure(budget.Budget(seconds=0.02, seconds_per_gib=0))
    dest = tmp_path / "signed.mp4"
    with pytest.raises(MediaOverBudget):
        _sign(_costly_mp4(tmp_path), dest, dev)
    assert not dest.exists()


@pytest.mark.usefixtures("restore_budget")
def test_a_read_over_its_memory_budget_is_refused(tmp_path: Path, dev: DevCredential) -> None:
    source = assets.make_large_mp4(tmp_path, megabytes=16)
    signed = tmp_path / "signed.mp4"
    _sign(source, signed, dev)
    # c2pa reads the 16 MB it hashes in one piece: 4 MB of address space is not enough. The
    # budget bounds growth, so a helper that signed before may hold freed heap the read can
    # reuse; a pool of another size starts fresh helpers (without, it failed a CI run).
    budget.configure(budget.Budget(memory_bytes=4 * 1024 * 1024, memory_per_byte=0, workers=1))
    with pytest.raises(MediaOverBudget) as caught:
        read_manifest(path=signed, mime_type="video/mp4", trust_anchors_pem=dev.ca_pem)
    assert caught.value.extensions["limit"] == "memory"
    dest = tmp_path / "again.mp4"
    with pytest.raises(MediaOverBudget):
        _sign(source, dest, dev)
    assert not dest.exists()
    budget.configure(budget.Budget())
    report = read_manifest(path=signed, mime_type="video/mp4", trust_anchors_pem=dev.ca_pem)
    assert report.validation_state == "Trusted"


def test_a_helper_killed_while_idle_is_replaced(tmp_path: Path, dev: DevCredential) -> None:
    signed = tmp_path / "signed.jpg"
    _sign(assets.make_jpeg(tmp_path), signed, dev, "image/jpeg")
    pool = budget._current_pool()
    pool.start()
    for helper in list(pool._idle):
        os.kill(helper.process.pid, signal.SIGKILL)
        helper.process.wait()
    report = read_manifest(path=signed, mime_type="image/jpeg", trust_anchors_pem=dev.ca_pem)
    assert report.validation_state == "Trusted"


def test_c2pa_crashing_on_a_file_is_a_422(
    tmp_path: Path, dev: DevCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if c2pa crashed (SIGSEGV) on the file: the caller gets a 422, not a 500."""
    signed = tmp_path / "signed.jpg"
    _sign(assets.make_jpeg(tmp_path), signed, dev, "image/jpeg")
    receive = budget.Helper._receive

    def crash_first(self: budget.Helper, deadline: float):  # type: ignore[no-untyped-def]
        os.kill(self.process.pid, signal.SIGSEGV)
        return receive(self, deadline)

    monkeypatch.setattr(budget.Helper, "_receive", crash_first)
    with pytest.raises(ManifestUnreadable) as caught:
        read_manifest(path=signed, mime_type="image/jpeg", trust_anchors_pem=dev.ca_pem)
    assert caught.value.status == 422


def test_c2pa_seconds_are_metered(tmp_path: Path, dev: DevCredential) -> None:
    path = _costly_mp4(tmp_path)
    with budget.metered() as meter:
        read_manifest(path=path, mime_type="video/mp4", trust_anchors_pem=dev.ca_pem)
    assert meter.seconds > 0.005  # the helper's CPU time, reported with the answer
    with budget.metered() as untouched:
        pass
    assert untouched.seconds == 0


def test_helpers_hold_little_memory_when_idle() -> None:
    import psutil

    pool = budget._current_pool()
    pool.start()
    time.sleep(0.5)  # let them load c2pa
    for helper in pool._idle:
        memory = psutil.Process(helper.process.pid).memory_full_info()
        assert memory.uss < 64 * 1024 * 1024, memory


def test_provenance_calls_get_their_own_fixed_part() -> None:
    plain = budget.Budget(seconds=5.0, provenance_seconds=30.0)
    assert plain.for_size(1000)[0] == pytest.approx(5.0, abs=0.01)
    assert plain.for_size(1000, provenance=True)[0] == pytest.approx(30.0, abs=0.01)
    # The per-GiB part and the memory are the same for both kinds of call.
    assert plain.for_size(1024**3, provenance=True)[0] == pytest.approx(90.0)
    assert plain.for_size(10**6, provenance=True)[1] == plain.for_size(10**6)[1]


@pytest.mark.usefixtures("restore_budget")
@pytest.mark.parametrize(("provenance_seconds", "refused"), [(0.05, True), (60.0, False)])
def test_fingerprinting_runs_under_the_provenance_allowance_not_c2pas(
    tmp_path: Path, provenance_seconds: float, refused: bool
) -> None:
    from registry.provenance import jobs
    from tests.provenance.media import save, scene

    picture = save(scene(3), tmp_path / "scene.png")
    # c2pa's own fixed part is far too short for fingerprinting; only the allowance counts.
    budget.configure(budget.Budget(seconds=0.05, provenance_seconds=provenance_seconds))
    if refused:
        with pytest.raises(MediaOverBudget):
            jobs.probe(path=picture, kind="image")
    else:
        assert jobs.probe(path=picture, kind="image").fingerprints
