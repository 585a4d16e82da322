"""One settings object for the whole system, read from `HOTLINE_*` environment variables.

The defaults run the embedded demo on one machine: an embedded Apache Kafka under `.hotline/`.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

BrokerKind = Literal["kafka", "tansu"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    # Where the embedded broker keeps its log and where caches live.
    data_dir: Path = Path(".hotline")
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "hotline")

    # An existing Kafka (host:port[,host:port]); when unset, `hotline up` and the tests start
    # the embedded broker named by `broker`.
    bootstrap: str | None = None
    broker: BrokerKind = "kafka"
    kafka_version: str = "4.1.1"
    kafka_port: int = 0  # 0: a free port is picked and remembered in the data directory
    kafka_heap: str = "512m"

    topics_file: Path | None = None  # None: the topics.yaml at the project root
    replication_factor: int = 1

    # Stage runner.
    batch_size: int = 500  # events taken from the stream at once
    batch_within: float = 0.05  # seconds to wait for a batch to fill
    max_retries: int = 3  # attempts of a failing event before it is dead-lettered
    retry_backoff: float = 0.2  # seconds, doubled per attempt
    dedup_memory: int = 200_000  # event ids remembered per worker to drop redeliveries
    concurrency: int = 64  # events in flight per worker of a stage waiting on the network
    commit_interval: float = 0.5  # seconds between commits of finished input offsets
    # Seconds a rebalance waits for work of partitions taken away before cancelling it (the
    # new owner redoes it); short, since the whole group waits for this worker meanwhile.
    handover_grace: float = 2.0
    # The broker's message limit as the producer sees it (Kafka's default is 1 MiB): an output
    # above it is dead-lettered instead of failing to produce for ever.
    max_message_bytes: int = 1_000_000
    dead_letter_bytes_cap: int = 64 * 1024  # original bytes kept on a dead letter

    # Secret used to derive reporters' status tokens (HMAC of the case id). Change it in
    # production; the default only serves the demo.
    token_secret: SecretStr = SecretStr("hotline-demo-secret-change-me")

    # External lookups (url-verify, content-check). Every lookup has a timeout and a cache.
    dns_servers: str = ""  # comma-separated addresses; empty: the system's resolvers
    dns_port: int = 53
    dns_timeout: float = 3.0  # seconds for one name, all its tries included
    http_timeout: float = 10.0  # seconds for one HTTP request, body included
    max_redirects: int = 10
    lookup_cache_ttl: float = 300.0  # seconds a DNS answer or a link check is reused
    verify_attempts: int = 3  # tries of a transiently failing link before "unreachable"
    verify_backoff: float = 0.5  # seconds, doubled per try
    # Non-public networks the fetcher may still reach, comma-separated CIDRs: only for the
    # sandbox internet (127.1.0.0/16). Everything else private, loopback, link-local,
    # multicast or reserved is never fetched.
    fetch_allow_networks: str = ""

    # Who holds a network or a domain (the jurisdiction stage). RDAP for networks goes to the
    # RIR's server that Team Cymru's answer names, for domains to `rdap_url`; a set `rdap_url`
    # takes network lookups too (the sandbox's server in tests and the demo).
    rdap_url: str = ""
    rdap_domain_url: str = "https://rdap.org"  # redirects to each registry's own RDAP server
    kz_whois_server: str = "whois.nic.kz:43"  # .kz and .қаз publish whois, no RDAP
    rdap_timeout: float = 5.0  # seconds for one RDAP or whois answer

    # Content analysis (pipeline/content/). The content-check stage declares its own options.
    evidence_dir: Path | None = None  # content-addressed store; None: <data_dir>/evidence
    screenshots: bool = True  # render pages in headless Chromium when it is installed
    chromium_path: str = ""  # empty: `chromium` (or chromium-browser) on PATH
    screenshot_timeout: float = 15.0  # seconds to load and render one page
    screenshot_concurrency: int = 2  # pages rendered at once per worker (CPU-bound)

    # The case ledger (pipeline/ledger/): a SQLAlchemy URL, e.g.
    # postgresql+psycopg://user:pass@host/hotline; empty: a SQLite file in the data directory.
    database_url: str = ""

    log_level: str = "info"
    # auto: readable on a terminal, JSON lines otherwise (files, pipes, log collectors).
    log_format: Literal["auto", "json", "console"] = "auto"

    def dns_server_list(self) -> list[str]:
        return [s.strip() for s in self.dns_servers.split(",") if s.strip()]

    def ledger_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'ledger.db'}"

    def evidence_root(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    def allowed_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(n.strip()) for n in self.fetch_allow_networks.split(",") if n.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
