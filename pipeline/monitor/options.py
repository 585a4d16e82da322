"""The monitor's settings (HOTLINE_*): how often it looks, and over how many rounds it judges."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MonitorOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    monitor_interval: float = Field(default=5.0, gt=0)  # seconds between rounds
    monitor_window: int = Field(default=6, ge=1)  # rounds a status is judged over
    monitor_cluster_name: str = "hotline"  # `cluster_name` in the metrics
    # Event ids whose time is kept to measure the next stage's latency against (a few hundred
    # thousand cover the cases in flight through every stage).
    monitor_latency_memory: int = Field(default=200_000, ge=1)
    monitor_latency_reservoir: int = Field(default=4096, ge=1)  # latencies kept per stage
