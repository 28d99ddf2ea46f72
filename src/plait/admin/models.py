"""The change history of the admin: one ``plait_admin_log`` row per add, change or delete.

A row is written with the request's session, so it commits (or rolls back) together with the change
it describes. ``user_id`` is kept nullable with ``ON DELETE SET NULL``: deleting an account must not
erase what that account did (the username is copied into ``username`` for the same reason).

>>> LogEntry.__table__.name
'plait_admin_log'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from plait.db.models import Model, utcnow

__all__ = ["ADD", "CHANGE", "DELETE", "LOG_TABLE", "LogEntry"]

LOG_TABLE = "plait_admin_log"
ADD, CHANGE, DELETE = "add", "change", "delete"


class LogEntry(Model):
    """Who did what to which object, and when; ``changes`` maps a field to ``[old, new]`` (as text)."""

    __tablename__ = LOG_TABLE
    __table_args__ = (Index("ix_plait_admin_log_object", "model", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_time: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), default=None)
    username: Mapped[str] = mapped_column(String(150), default="")
    model: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(255))
    object_repr: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
