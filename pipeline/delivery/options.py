"""The delivery worker's settings (HOTLINE_*): the mail relay, the webhook secret, retries."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeliveryOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "notices@hotline.kz.test"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False  # STARTTLS after connecting (a relay on the network needs it)
    smtp_timeout: float = 30.0
    # Secret shared with webhook recipients; set it in production.
    webhook_secret: SecretStr = SecretStr("hotline-demo-webhook-secret-change-me")
    webhook_timeout: float = 15.0
    delivery_attempts: int = 5  # tries of a notice before it is dead-lettered
    delivery_backoff: float = 1.0  # seconds before the second try, doubled after
    delivery_hold_check: float = 5.0  # seconds between looks at held notices that fell due
