"""The tables. Rules that must never break live here as constraints, not only in code."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.db import UTCDateTime


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled: Slack retries the same event_id, maybe to another replica."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
