"""Pydantic schemas at the edge of the API (lists are ``{data, count}``, as in FastAPI's full-stack template)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ColumnOut",
    "CommunityOut",
    "JobOut",
    "Listing",
    "LoginIn",
    "MeOut",
    "NoticeIn",
    "NoticeOut",
    "OverviewOut",
    "ProfileIn",
    "ProfileOut",
    "ReleaseOut",
    "TableOut",
    "TaskIn",
    "TaskOut",
    "TaskReplyIn",
    "TaskReplyOut",
    "TaskStatusIn",
    "UserIn",
    "UserOut",
]


class ColumnOut(BaseModel):
    key: str
    label: str
    kind: str = "text"


class TableOut(BaseModel):
    """A release table (or a page of one) with its column labels."""

    key: str
    title: str
    columns: list[ColumnOut]
    data: list[dict[str, Any]]
    count: int


class OverviewOut(BaseModel):
    district: str
    period: str
    period_label: str
    compare_label: str | None
    whole_district: bool
    headline: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    index: list[dict[str, Any]]
    problems: list[dict[str, Any]]


class Listing(BaseModel):
    data: list[Any]
    count: int


class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class MeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    lang: str
    csrf_token: str


class ProfileIn(BaseModel):
    effective_date: date
    households: int | None = Field(None, ge=0)
    residents: int | None = Field(None, ge=0)
    floating_share: float | None = Field(None, ge=0, le=1)
    rental_rate: float | None = Field(None, ge=0, le=1)
    fee_collection_rate: float | None = Field(None, ge=0, le=1)
    guards: int | None = Field(None, ge=0)
    cameras: int | None = Field(None, ge=0)
    cameras_faulty: int | None = Field(None, ge=0)
    has_owners_committee: bool | None = None
    note: str | None = Field(None, max_length=2000)


class ProfileOut(ProfileIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    recorded_at: datetime
    author_id: int | None
    source: str


class CommunityOut(BaseModel):
    code: str
    name: str
    street_code: str | None = None
    station_code: str | None = None
    index: float | None = None
    rank: int | None = None
    grade: str | None = None
    count: int | None = None
    profile: dict[str, Any] | None = None
    rankings: list[dict[str, Any]] = []
    monthly: list[dict[str, Any]] = []
    profiles: list[ProfileOut] = []


class NoticeIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=20_000)
    area_level: str = Field("district", max_length=32)
    area_code: str | None = Field(None, max_length=64)


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    body: str
    area_level: str
    area_code: str | None
    author_id: int | None
    published_at: datetime


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=20_000)
    community_code: str | None = Field(None, max_length=64)
    assignee_org_id: int
    assignee_user_id: int | None = None
    due_date: date | None = None


class TaskReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=20_000)
    status_to: str | None = Field(None, max_length=16)


class TaskStatusIn(BaseModel):
    status: str = Field(max_length=16)


class TaskReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_id: int | None
    body: str
    status_to: str | None
    created_at: datetime


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    body: str
    community_id: int | None
    assignee_org_id: int
    assignee_user_id: int | None
    created_by: int | None
    due_date: date | None
    status: str
    created_at: datetime
    replies: list[TaskReplyOut] = []


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=12, max_length=256)
    role: str = Field(max_length=32)
    organisation_id: int | None = None
    scopes: list[tuple[str, str]] = []
    lang: str = Field("zh", pattern="^(zh|en)$")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    active: bool
    lang: str
    locked_until: datetime | None


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ReleaseOut(BaseModel):
    name: str
    period: str | None
    files: list[str]
    modified: datetime
