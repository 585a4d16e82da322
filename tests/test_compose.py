"""docker-compose.yml, the Dockerfile and deploy/prometheus.yml, read as files (no Docker engine
needed): a service per worker that can be scaled, the services around them, only real settings,
the topics in the image, Prometheus scraping the gateway."""

from __future__ import annotations

import importlib
import re
import shlex
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from pipeline.cli.stages import WORKERS, stage_spec
from pipeline.config import Settings
from pipeline.gateway.options import GatewayOptions
from pipeline.runtime.topics import PROJECT_TOPICS_FILE

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
# Services built from the project image (every process of ours).
OURS = [*WORKERS, "topics", "gateway", "monitor"]


@cache
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # merge keys (<<) resolved
    return document


def service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    found: dict[str, Any] = services[name]
    return found


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment", {})
    if isinstance(env, list):  # the KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


# ---------------------------------------------------------------- the settings there are


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def setting_models() -> list[type[BaseSettings]]:
    """Settings, every worker's options, the gateway's and the monitor's (once it exists),
    and any other settings model of ours those modules load (the directory files...)."""
    models: list[type[BaseSettings]] = [Settings, GatewayOptions]
    models += [o for o in (stage_spec(name).options for name in WORKERS) if o is not None]
    try:
        monitor = importlib.import_module("pipeline.monitor.options")
    except ModuleNotFoundError as error:
        if error.name not in ("pipeline.monitor", "pipeline.monitor.options"):
            raise  # the module is there and broken: that is a failure
    else:
        models.append(monitor.MonitorOptions)
    ours = [
        m for m in _subclasses(BaseSettings) if m.__module__.startswith(("pipeline.", "agents."))
    ]
    return list(dict.fromkeys([*models, *ours]))


def env_name(model: type[BaseSettings], field: str) -> str:
    return (str(model.model_config.get("env_prefix", "")) + field).upper()


@cache
def setting_names() -> frozenset[str]:
    return frozenset(
        env_name(model, field) for model in setting_models() for field in model.model_fields
    )


def test_the_settings_models_are_all_found() -> None:
    names = setting_names()
    for known in ("HOTLINE_BOOTSTRAP", "HOTLINE_GATEWAY_HOST", "HOTLINE_SMTP_HOST"):
        assert known in names
    assert "HOTLINE_DUPLICATE_WINDOW_HOURS" in names  # a stage's own option
    assert "HOTLINE_DOMESTIC_DIRECTORY" in names  # a model no stage declares as its options


# ---------------------------------------------------------------- services


@pytest.mark.parametrize("name", list(WORKERS))
def test_every_worker_has_a_scalable_service_running_it(name: str) -> None:
    worker = service(name)
    assert worker["command"] == ["hotline", "stage", "run", name]
    # `docker compose up --scale NAME=4` needs neither a fixed name nor a fixed host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker.get("build") == "." and worker.get("image")


def test_the_services_around_the_workers_are_there() -> None:
    for name in ("gateway", "monitor", "ledger", "topics", "kafka", "postgres", "prometheus"):
        service(name)
    assert service("gateway")["command"] == ["hotline", "gateway"]
    assert service("monitor")["command"] == ["hotline", "monitor"]
    assert "8080:8080" in [str(p) for p in service("gateway")["ports"]]
    gateway_env = environment("gateway")
    assert gateway_env["HOTLINE_GATEWAY_HOST"] == "0.0.0.0"
    assert gateway_env["HOTLINE_GATEWAY_PORT"] == "8080"
    assert not any("container_name" in s for s in compose()["services"].values())


def test_kafka_is_one_kraft_node_with_its_log_on_a_volume() -> None:
    kafka = service("kafka")
    assert kafka["image"] == "apache/kafka:4.1.1"
    env = environment("kafka")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    volume = next(v for v in kafka["volumes"] if v.split(":")[1] == env["KAFKA_LOG_DIRS"])
    assert volume.split(":")[0] in compose()["volumes"]  # named: it outlives the container
    assert kafka["healthcheck"]["test"]


def test_postgres_holds_the_ledger_of_the_ledger_gateway_and_monitor() -> None:
    postgres = service("postgres")
    assert postgres["image"].startswith("postgres:")
    assert any(v.split(":")[0] in compose()["volumes"] for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    for name in ("ledger", "gateway", "monitor"):
        url = environment(name)["HOTLINE_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
        assert service(name)["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_process_of_ours_shares_the_common_environment() -> None:
    for name in OURS:
        env = environment(name)
        assert env["HOTLINE_BOOTSTRAP"] == "kafka:9092", name
        assert env["HOTLINE_LOG_FORMAT"] == "json", name
        # No default for a secret: compose refuses to start without it.
        assert env["HOTLINE_TOKEN_SECRET"].startswith("${HOTLINE_TOKEN_SECRET:?"), name
        assert env["HOTLINE_WEBHOOK_SECRET"].startswith("${HOTLINE_WEBHOOK_SECRET:?"), name
        assert env["HOTLINE_SMTP_HOST"].startswith("${HOTLINE_SMTP_HOST"), name
        if name != "topics":
            assert service(name)["depends_on"]["topics"] == {
                "condition": "service_completed_successfully"
            }


def test_every_hotline_variable_named_is_a_real_setting() -> None:
    named = set(re.findall(r"HOTLINE_[A-Z0-9_]+", COMPOSE.read_text()))
    named |= set(re.findall(r"HOTLINE_[A-Z0-9_]+", DOCKERFILE.read_text()))
    assert "HOTLINE_BOOTSTRAP" in named
    assert named - setting_names() == set()


# ---------------------------------------------------------------- topics and the image


def dockerfile_final_stage() -> tuple[dict[str, str], list[tuple[str, PurePosixPath]]]:
    """The image's environment and what it copies from the project (source, destination), in
    the stage that makes the image."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    copies: list[tuple[str, PurePosixPath]] = []
    workdir = PurePosixPath("/")
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        instruction, args = words[0].upper(), words[1:]
        if instruction == "FROM":
            env, copies, workdir = {}, [], PurePosixPath("/")
        elif instruction == "WORKDIR":
            workdir = workdir / args[0]
        elif instruction == "ENV":
            env |= dict(arg.split("=", 1) for arg in args)
        elif instruction == "COPY" and not any(a.startswith("--from") for a in args):
            *sources, dest = [a for a in args if not a.startswith("--")]
            target = workdir / dest
            copies += [
                (s.rstrip("/"), target / s if dest.endswith("/") else target) for s in sources
            ]
    return env, copies


def image_path(project_file: Path) -> PurePosixPath | None:
    """Where a file of the project is in the image, if the Dockerfile copies it."""
    relative = project_file.relative_to(ROOT).as_posix()
    for source, dest in dockerfile_final_stage()[1]:
        if relative == source:
            return dest
        if relative.startswith(source + "/"):
            return dest / relative[len(source) + 1 :]
    return None


def test_the_topics_job_creates_the_topics_of_the_topics_file_in_the_image() -> None:
    topics = service("topics")
    assert topics["command"] == ["hotline", "topics", "create"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics.get("restart") == "no"  # one shot
    # The installed package looks for topics.yaml beside site-packages: the image has it
    # elsewhere and says where.
    env, _ = dockerfile_final_stage()
    in_image = image_path(PROJECT_TOPICS_FILE)
    assert in_image is not None, "the Dockerfile does not copy topics.yaml"
    told = environment("topics").get("HOTLINE_TOPICS_FILE") or env.get("HOTLINE_TOPICS_FILE")
    assert told == str(in_image)


def test_every_data_file_a_setting_names_by_default_is_in_the_image_and_named() -> None:
    """A default under the project root (rules/...) resolves beside site-packages once the
    package is installed: the image must copy it and point the setting at the copy."""
    env, _ = dockerfile_final_stage()
    checked = []
    for model in setting_models():
        for field, info in model.model_fields.items():
            default = info.get_default(call_default_factory=True)
            if isinstance(default, Path) and default.is_relative_to(ROOT):
                assert default.exists(), default
                in_image = image_path(default)
                assert in_image is not None, f"the Dockerfile does not copy {default}"
                assert env.get(env_name(model, field)) == str(in_image), env_name(model, field)
                checked.append(field)
    assert {"categorize_rules", "routing_rules", "domestic_directory"} <= set(checked)


def test_the_image_is_slim_python_not_root_with_chromium() -> None:
    text = DOCKERFILE.read_text()
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE)[-1] == "python:3.11-slim"
    assert "chromium" in text and "pip install" in text
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    needed = {"pipeline", "agents", "schemas", "rules", "topics.yaml", "pyproject.toml"}
    assert needed | {"README.md"} <= {p.name for p in ROOT.iterdir()}
    assert not needed & ignored and "README.md" not in ignored  # pyproject's readme


# ---------------------------------------------------------------- metrics


def test_prometheus_scrapes_the_gateways_metrics_every_15_seconds() -> None:
    mounts = service("prometheus")["volumes"]
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = [
        job
        for job in config["scrape_configs"]
        if any("gateway:8080" in c["targets"] for c in job.get("static_configs", []))
    ]
    assert jobs, "no scrape job for gateway:8080"
    [job] = jobs
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert job.get("scrape_interval", config["global"]["scrape_interval"]) == "15s"


def test_prometheus_scrapes_with_an_operator_key() -> None:
    """/metrics answers only an operator's key (the gateway's auth table says so)."""
    config = yaml.safe_load(PROMETHEUS.read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "hotline-gateway"]
    key_file = job["authorization"]["credentials_file"]
    assert job["authorization"]["type"] == "Bearer"
    assert any(m.endswith(f":{key_file}:ro") for m in service("prometheus")["volumes"])
