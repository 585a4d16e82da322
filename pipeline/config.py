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

    # received stage.
    duplicate_window_hours: float = 72.0
    rejected_bytes_cap: int = 4096  # original bytes kept on a rejection record

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

    # content-check stage.
    content_max_bytes: int = 5 * 1024 * 1024  # bytes read of a page or file; the rest is cut
    # Content types fetched and analysed (a trailing /* takes a whole family); others end the
    # case as "not text or media" without their body being read.
    content_types: str = (
        "text/html,application/xhtml+xml,text/plain,application/pdf,image/*,video/*,audio/*"
    )
    content_text_chars: int = 20_000  # visible text kept on the case for categorisation
    # Known-content hash banks: comma-separated `*.hashes` files or directories of them
    # (format in README). Empty: no bank is matched.
    hash_banks: str = ""
    pdq_match_distance: int = 31  # Hamming distance at or below which PDQ hashes match
    pdq_min_quality: int = 50  # PDQ hashes of flatter images are too unreliable to match
    evidence_dir: Path | None = None  # content-addressed store; None: <data_dir>/evidence
    keep_evidence: bool = True  # keep page bytes and screenshots (never for csam)
    screenshots: bool = True  # render pages in headless Chromium when it is installed
    chromium_path: str = ""  # empty: `chromium` (or chromium-browser) on PATH
    screenshot_timeout: float = 15.0  # seconds to load and render one page
    screenshot_concurrency: int = 2  # pages rendered at once per worker (CPU-bound)

    log_level: str = "info"

    def dns_server_list(self) -> list[str]:
        return [s.strip() for s in self.dns_servers.split(",") if s.strip()]

    def content_type_list(self) -> list[str]:
        return [t.strip().lower() for t in self.content_types.split(",") if t.strip()]

    def hash_bank_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.hash_banks.split(",") if p.strip()]

    def evidence_root(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    def allowed_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(n.strip()) for n in self.fetch_allow_networks.split(",") if n.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
