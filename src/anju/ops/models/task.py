"""Tasks (任务交办): work assigned to an organisation (and optionally one of its users), with a due date, a status
and a thread of replies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anju.ops.models.base import Base, UTCDateTime, utcnow
from anju.ops.models.community import Community
from anju.ops.models.organisation import Organisation
from anju.ops.models.user import User

__all__ = ["TASK_STATUSES", "Task", "TaskReply"]

TASK_STATUSES = ("open", "in_progress", "done", "cancelled")
"""A task's life: 待办 → 办理中 → 已办结 (or 已撤销)."""

_STATUS_SQL = ", ".join(f"'{s}'" for s in TASK_STATUSES)


class Task(Base):
    """A task assigned to ``assignee_org`` (and optionally ``assignee_user``), possibly about one community."""

    __tablename__ = "task"
    __table_args__ = (CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"), index=True)
    assignee_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    community: Mapped[Community | None] = relationship()
    assignee_org: Mapped[Organisation] = relationship()
    assignee_user: Mapped[User | None] = relationship(foreign_keys=[assignee_user_id])
    creator: Mapped[User | None] = relationship(foreign_keys=[created_by])
    replies: Mapped[list[TaskReply]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                    order_by="TaskReply.id")


class TaskReply(Base):
    """A reply in a task's thread; ``status_to`` records a status change made with it."""

    __tablename__ = "task_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status_to: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    task: Mapped[Task] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship()
