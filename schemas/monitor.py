"""What the lag monitor sees each round, on `hotline.monitor`: every consumer group of the
pipeline, per partition, with a status in the style of Burrow's evaluation, and the queues
operations watch (review, dead letters, overdue notices)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# OK: keeping up. WARN: lag grew over the whole window. STALL: members, lag, and the committed
# offset did not move over the window. STOP: lag and nobody consuming (no members, no commits).
# REWIND: a committed offset went back (a replay, or a reset).
GroupStatus = Literal["OK", "WARN", "STALL", "STOP", "REWIND"]
STATUS_ORDER: tuple[GroupStatus, ...] = ("OK", "WARN", "REWIND", "STALL", "STOP")


class PartitionLag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str
    partition: int
    earliest_offset: int
    latest_offset: int = Field(description="The end offset: the next offset to be written.")
    committed_offset: int | None = Field(description="The group's; None: never committed.")
    lag: int = Field(ge=0, description="Messages not yet consumed.")
    lag_seconds: float = Field(ge=0, description="Age of the oldest unconsumed message.")
    status: GroupStatus


class GroupLag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(description="The consumer group, `hotline-<stage>`.")
    stage: str = Field(description="The stage or service it runs (received … ledger).")
    topics: list[str]
    members: int = Field(ge=0, description="Workers in the group now.")
    lag: int = Field(ge=0, description="Sum over its partitions.")
    max_lag: int = Field(ge=0)
    max_lag_seconds: float = Field(ge=0)
    rate_per_s: float = Field(ge=0, description="Messages consumed per second over the window.")
    status: GroupStatus = Field(description="The worst of its partitions'.")
    partitions: list[PartitionLag]


class LatencyHistogram(BaseModel):
    """A stage's latencies since the monitor started, as Prometheus histogram buckets: what
    `/metrics` renders in another process than the monitor's, so it travels in the snapshot."""

    model_config = ConfigDict(extra="forbid")

    bounds_s: list[float] = Field(description="Upper bounds, ascending; +Inf is implied.")
    cumulative: list[int] = Field(description="Events at or under each bound.")
    count: int = Field(ge=0, description="Every event measured (the +Inf bucket).")
    sum_s: float = Field(ge=0)


class StageCounts(BaseModel):
    """What a stage put out since the monitor started, read from its output topics."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    processed: int = Field(ge=0, description="Events the stage emitted (any outcome).")
    terminated: int = Field(ge=0)
    review: int = Field(ge=0)
    rejected: int = Field(default=0, ge=0, description="Reports refused (the received stage).")
    outcomes: dict[str, int] = Field(
        default_factory=dict,
        description="Events by outcome: continue, terminated, review, rejected; for delivery "
        "the receipts by status.",
    )
    dead_lettered: int = Field(ge=0, description="Messages on its dead-letter topic, in all.")
    latency_p50_s: float | None = Field(
        default=None, description="From the event that caused it to the stage's event."
    )
    latency_p90_s: float | None = None
    latency: LatencyHistogram | None = None


class QueueFigures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_waiting: int = Field(ge=0)
    review_oldest_age_s: float | None = None
    notices_overdue: int = Field(ge=0, description="Past their deadline, unconfirmed.")


class LagSnapshot(BaseModel):
    """One evaluation round of the lag monitor."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": "https://hotline.example/schemas/lag-snapshot.json"},
    )

    at: AwareDatetime
    cluster_name: str = Field(
        default="hotline", description="The Kafka cluster's name in metrics (`cluster_name`)."
    )
    interval_s: float = Field(gt=0, description="Seconds between rounds.")
    window: int = Field(ge=1, description="Rounds the statuses are judged over.")
    round_ms: float = Field(ge=0, description="What the round took.")
    groups: list[GroupLag]
    stages: list[StageCounts]
    queues: QueueFigures
