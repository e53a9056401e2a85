"""Tasks (任务交办): list and open those in scope, assign one, reply and change status.

Reads use :func:`anju.ops.scope.scope_tasks` / ``get_scoped``; writes use :func:`anju.ops.records.assign_task` and
``reply_task`` (permission, scope, audit in one place)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.errors import AccessDeniedError, DataNotFoundError
from anju.ops import records
from anju.ops.models import TASK_STATUSES, Community, Organisation, Task
from anju.ops.scope import get_scoped, scope_communities, scope_tasks
from anju.web.deps import DbSession, Viewer, ViewerDep, client_ip, require
from anju.web.pages import render
from anju.web.schemas import TaskIn, TaskOut, TaskReplyIn, TaskReplyOut
from anju.web.tables import Col, Page, TableQuery, page_select, table_query, xlsx_bytes

router = APIRouter(tags=["tasks"])
Assigner = Annotated[Viewer, Depends(require("assign_tasks"))]
Replier = Annotated[Viewer, Depends(require("reply_tasks"))]
TQ = Annotated[TableQuery, Depends(table_query)]

COLS = (Col("id", "编号", "Id"), Col("title", "标题", "Title", search=True), Col("status", "状态", "Status"),
        Col("due_date", "期限", "Due"), Col("created_at", "交办时间", "Assigned"))
_SORT = {"id": Task.id, "title": Task.title, "status": Task.status, "due_date": Task.due_date,
         "created_at": Task.created_at}
STATUS_LABELS = {"open": ("待办", "open"), "in_progress": ("办理中", "in progress"), "done": ("已办结", "done"),
                 "cancelled": ("已撤销", "cancelled")}


def _list(session: Session, viewer: Viewer, tq: TableQuery, status: str | None, *,
          paged: bool = True) -> tuple[list[Task], int]:
    stmt = scope_tasks(select(Task), viewer.user)
    if status in TASK_STATUSES:
        stmt = stmt.where(Task.status == status)
    return page_select(session, stmt, _SORT, [Task.title, Task.body], tq,
                       default_order=[Task.created_at.desc(), Task.id.desc()], paged=paged)


def _community_id(session: Session, viewer: Viewer, code: str | None) -> int | None:
    if not code:
        return None
    comm = session.scalars(scope_communities(select(Community).where(Community.code == code), viewer.user)).first()
    if comm is None:
        raise AccessDeniedError(f"community {code!r} does not exist or is outside your data scope")
    return comm.id


@router.get("/tasks", include_in_schema=False)
def tasks_page(request: Request, session: DbSession, viewer: ViewerDep, tq: TQ, status: str | None = None) -> Response:
    rows, total = _list(session, viewer, tq, status)
    orgs = session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.code)).all() \
        if viewer.can("assign_tasks") else []
    return render(request, "tasks.html", {"tasks": rows, "page": Page([], total, tq), "cols": COLS,
                                          "status": status, "statuses": STATUS_LABELS, "orgs": orgs,
                                          "can_assign": viewer.can("assign_tasks")})


@router.get("/tasks.xlsx", include_in_schema=False)
def tasks_xlsx(request: Request, session: DbSession, viewer: ViewerDep, tq: TQ, status: str | None = None) -> Response:
    from anju.web.i18n import request_lang

    rows, _ = _list(session, viewer, tq, status, paged=False)
    data = [{"id": t.id, "title": t.title, "status": t.status, "due_date": t.due_date.isoformat() if t.due_date
             else None, "created_at": t.created_at.strftime("%Y-%m-%d %H:%M")} for t in rows]
    return Response(xlsx_bytes("tasks", COLS, data, request_lang(request, viewer.user.lang)),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="tasks.xlsx"'})


@router.get("/tasks/{task_id}", include_in_schema=False)
def task_page(request: Request, session: DbSession, viewer: ViewerDep, task_id: int) -> Response:
    task = get_scoped(session, viewer.user, Task, task_id)
    return render(request, "task.html", {"task": task, "statuses": STATUS_LABELS,
                                         "can_reply": viewer.can("reply_tasks")})


def _parse_date(v: str) -> date | None:
    v = v.strip()
    if not v:
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        from anju.errors import OpsError

        raise OpsError(f"due date {v!r} is not a date (YYYY-MM-DD)") from None


@router.post("/tasks", include_in_schema=False)
def task_form(request: Request, session: DbSession, viewer: Assigner, title: Annotated[str, Form(max_length=200)],
              assignee_org_id: Annotated[int, Form()], body: Annotated[str, Form(max_length=20_000)] = "",
              community_code: Annotated[str, Form(max_length=64)] = "",
              due_date: Annotated[str, Form(max_length=10)] = "") -> Response:
    task = records.assign_task(session, viewer.user, title=title, body=body, assignee_org_id=assignee_org_id,
                               community_id=_community_id(session, viewer, community_code.strip() or None),
                               due_date=_parse_date(due_date), ip=client_ip(request))
    session.commit()
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


@router.post("/tasks/{task_id}/replies", include_in_schema=False)
def reply_form(request: Request, session: DbSession, viewer: Replier, task_id: int,
               body: Annotated[str, Form(max_length=20_000)], status_to: Annotated[str, Form(max_length=16)] = ""
               ) -> Response:
    records.reply_task(session, viewer.user, task_id, body=body, status_to=status_to or None, ip=client_ip(request))
    session.commit()
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.get("/api/v1/tasks")
def tasks_api(session: DbSession, viewer: ViewerDep, tq: TQ, status: str | None = None) -> dict[str, Any]:
    """Tasks the viewer may see (paged, sorted, filtered)."""
    rows, total = _list(session, viewer, tq, status)
    return {"data": [TaskOut.model_validate(t).model_dump(mode="json") for t in rows], "count": total}


@router.get("/api/v1/tasks/{task_id}", response_model=TaskOut)
def task_api(session: DbSession, viewer: ViewerDep, task_id: int) -> TaskOut:
    return TaskOut.model_validate(get_scoped(session, viewer.user, Task, task_id))


@router.post("/api/v1/tasks", response_model=TaskOut, status_code=201)
def task_create_api(request: Request, session: DbSession, viewer: Assigner, body: TaskIn) -> TaskOut:
    """Assign a task to an organisation, about a community in the viewer's scope."""
    if session.get(Organisation, body.assignee_org_id) is None:
        raise DataNotFoundError(f"no organisation {body.assignee_org_id}")
    task = records.assign_task(session, viewer.user, title=body.title, body=body.body,
                               assignee_org_id=body.assignee_org_id, assignee_user_id=body.assignee_user_id,
                               community_id=_community_id(session, viewer, body.community_code),
                               due_date=body.due_date, ip=client_ip(request))
    session.commit()
    return TaskOut.model_validate(task)


@router.post("/api/v1/tasks/{task_id}/replies", response_model=TaskReplyOut, status_code=201)
def reply_api(request: Request, session: DbSession, viewer: Replier, task_id: int, body: TaskReplyIn) -> TaskReplyOut:
    """Reply to a task (the assignee or creator may also change its status)."""
    reply = records.reply_task(session, viewer.user, task_id, body=body.body, status_to=body.status_to,
                               ip=client_ip(request))
    session.commit()
    return TaskReplyOut.model_validate(reply)
