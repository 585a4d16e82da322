"""The gateway's own settings (HOTLINE_*): where it listens and how much it takes per minute."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewayOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    gateway_host: str = "127.0.0.1"  # behind a reverse proxy in production; never 0.0.0.0 alone
    gateway_port: int = 8080  # 0: a free port, printed at start
    # Reports per minute one intake API key may send (a token bucket: bursts up to this).
    gateway_rate_per_minute: int = Field(default=120, ge=1)
    # Public form posts (reports, appeals) per minute from one client address.
    gateway_form_rate_per_minute: int = Field(default=20, ge=1)
    # The address the public reaches the gateway at (https://hotline.example.kz); links in
    # receipts are built on it. Empty: from the request, as the client addressed it.
    gateway_public_url: str = ""
