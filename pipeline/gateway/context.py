"""What every route of one gateway shares: settings, the ledger, the producer, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request

from pipeline.config import Settings
from pipeline.gateway.forms import FormTokens
from pipeline.gateway.options import GatewayOptions
from pipeline.gateway.publish import Publisher, Unavailable
from pipeline.gateway.ratelimit import TokenBuckets
from pipeline.ledger.store import Ledger
from schemas.monitor import LagSnapshot


class LagSource(Protocol):
    """Where the dashboard and /metrics read the lag monitor's rounds (`SnapshotFeed`)."""

    @property
    def latest(self) -> LagSnapshot | None: ...

    def history(self) -> list[LagSnapshot]: ...


class NoSnapshots:
    """A gateway without a broker to follow (embedded in a test): no rounds."""

    latest: LagSnapshot | None = None

    def history(self) -> list[LagSnapshot]:
        return []


class _NotStarted:
    """Until the app's lifespan has started the producer, nothing is published."""

    async def publish(self, topic: str, value: bytes, key: bytes) -> None:
        raise Unavailable("the gateway's producer is not started")


@dataclass
class Gateway:
    settings: Settings
    ledger: Ledger
    options: GatewayOptions
    forms: FormTokens
    intake_limit: TokenBuckets  # per intake API key
    report_form_limit: TokenBuckets  # per client address
    appeal_limit: TokenBuckets  # per client address
    login_limit: TokenBuckets  # per client address: keys are not guessed, but try they may
    publisher: Publisher = field(default_factory=_NotStarted)
    lag: LagSource = field(default_factory=NoSnapshots)

    @classmethod
    def create(cls, settings: Settings, ledger: Ledger, options: GatewayOptions) -> Gateway:
        return cls(
            settings=settings,
            ledger=ledger,
            options=options,
            forms=FormTokens(settings.token_secret.get_secret_value()),
            intake_limit=TokenBuckets(options.gateway_rate_per_minute),
            report_form_limit=TokenBuckets(options.gateway_form_rate_per_minute),
            appeal_limit=TokenBuckets(options.gateway_form_rate_per_minute),
            login_limit=TokenBuckets(options.gateway_form_rate_per_minute),
        )

    @property
    def token_secret(self) -> str:
        return self.settings.token_secret.get_secret_value()


def gateway(request: Request) -> Gateway:
    """The route's gateway (a FastAPI dependency)."""
    found: Gateway = request.app.state.gateway
    return found


def client_address(request: Request) -> str:
    """Who posts, for the per-address limits: the peer (uvicorn puts the forwarded address
    there only for proxies it trusts, `--forwarded-allow-ips`)."""
    return request.client.host if request.client else "unknown"
