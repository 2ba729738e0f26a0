"""The deployable stack (infra/), checked statically: no container engine runs here.

The linters run as `make lint` does (hadolint, yamllint, Kubernetes' schemas bundled with
kubernetes-validate); the rest holds the files to the service they deploy: every REGISTRY_*
variable they set is a setting, the probes are routes, the migration runs before the service.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from registry.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BIN = Path(sys.executable).parent
# Read by infra/gunicorn.conf.py (the master), not by Settings.
GUNICORN_VARIABLES = {
    "REGISTRY_BIND",
    "REGISTRY_WORKERS",
    "REGISTRY_THREADS",
    "REGISTRY_WORKER_TIMEOUT",
    "REGISTRY_GRACEFUL_TIMEOUT",
    "REGISTRY_ACCESS_LOG",
    "REGISTRY_METRICS_BIND",
    "REGISTRY_GIL_SWITCH_INTERVAL",
}
MANIFESTS = sorted(p for p in (INFRA / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False, timeout=120)


def known(name: str) -> bool:
    field = name.removeprefix("REGISTRY_").lower()
    return name in GUNICORN_VARIABLES or field in Settings.model_fields


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_the_linters_pass() -> None:
    hadolint = run(str(BIN / "hadolint"), "infra/Containerfile")
    assert hadolint.returncode == 0, hadolint.stdout + hadolint.stderr
    yamllint = run(str(BIN / "yamllint"), "-c", "infra/yamllint.yaml", "infra")
    assert yamllint.returncode == 0, yamllint.stdout
    schemas = run(
        str(BIN / "kubernetes-validate"), "--strict", "-k", "1.30.0", *map(str, MANIFESTS)
    )
    assert schemas.returncode == 0, schemas.stdout + schemas.stderr
    assert schemas.stdout.count("passed") == len(MANIFESTS)


def test_the_image_is_multi_stage_non_root_and_checks_its_health() -> None:
    lines = [line.strip() for line in (INFRA / "Containerfile").read_text().splitlines()]
    stages = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(stages) == 2
    final = lines[stages[-1] :]
    assert any(line.startswith("USER 10001") for line in final)
    assert any(line.startswith("HEALTHCHECK") for line in final)
    assert any("COPY --from=build" in line for line in final)
    assert not any(word in " ".join(final) for word in ("gcc", "build-essential", "g++"))


def test_compose_runs_every_part_and_migrates_first() -> None:
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "s3", "migrate", "registry", "worker", "proxy"} <= set(services)
    assert services["migrate"]["command"] == ["registry", "db", "upgrade"]
    assert services["worker"]["command"] == ["registry", "worker"]
    for name in ("registry", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert "ports" not in services["registry"]  # reached through the proxy only
    for name, service in services.items():
        for variable in service.get("environment") or {}:
            if variable.startswith("REGISTRY_") and name != "proxy":
                assert known(variable), f"{name}: {variable} is not a setting"


def test_kubernetes_deploys_the_service_the_worker_and_the_migration() -> None:
    kustomization = yaml.safe_load((INFRA / "k8s/kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)
    docs = {(d["kind"], d["metadata"]["name"]): d for p in MANIFESTS for d in load_all(p)}
    assert {kind for kind, _ in docs} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    }
    config = docs[("ConfigMap", "registry-config")]["data"]
    for variable in config:
        if variable.startswith("REGISTRY_"):
            assert known(variable), f"{variable} is not a setting"

    api = docs[("Deployment", "registry")]["spec"]["template"]["spec"]
    [container] = api["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"configMapRef": {"name": "registry-config"}} in container["envFrom"]
    assert {"secretRef": {"name": "registry-secrets"}} in container["envFrom"]
    assert api["terminationGracePeriodSeconds"] > int(config["REGISTRY_GRACEFUL_TIMEOUT"]) + 5
    assert api["securityContext"]["runAsNonRoot"] is True
    worker = docs[("Deployment", "registry-worker")]["spec"]["template"]["spec"]
    assert worker["containers"][0]["command"] == ["registry", "worker"]
    job = docs[("Job", "registry-migrate")]["spec"]["template"]["spec"]
    assert job["containers"][0]["command"] == ["registry", "db", "upgrade"]
    hpa = docs[("HorizontalPodAutoscaler", "registry")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "registry" and hpa["minReplicas"] >= 2
    pdb = docs[("PodDisruptionBudget", "registry")]["spec"]
    assert (
        pdb["selector"]["matchLabels"]
        == docs[("Deployment", "registry")]["spec"]["selector"]["matchLabels"]
    )


def test_the_probed_routes_exist(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
