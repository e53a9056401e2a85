"""Group commit of public submissions: one writer thread per web process stores the waiting submissions in one
transaction, and each submission is acknowledged only after that transaction committed.

Why: on SQLite one connection writes at a time, so forty request threads each opening their own transaction queue
on the write lock (with the busy handler's sleeps) and each pays its own commit; on PostgreSQL each commit is a
round trip and a WAL flush. Here the request (an async endpoint) checks the input and the rate limits, hands a
prepared row to :class:`SubmissionWriter` and awaits its future; the writer takes everything that queued up while
the previous batch was committing (no added wait at low load: a lone submission is written at once), and per batch:

* resolves the door plates in one query (an unknown or revoked code fails that submission only);
* detects duplicates (same plate, similar text, within the window) against the database through the
  ``(plate_id, created_at)`` index and against the earlier submissions of the same batch;
* inserts the reports and their first history rows with two multi-row Core INSERTs (no ORM unit of work) and
  commits; on SQLite the transaction starts with ``BEGIN IMMEDIATE`` so it waits for the write lock (busy timeout)
  instead of failing on a stale read snapshot.

A crash before the commit loses only submissions that were never acknowledged (their clients get no 201); a failed
batch is retried one submission at a time so one bad row cannot fail the others. Routing is not done here: the
reports are stored ``pending`` and the routing pump (or the worker) routes them in batches, as before.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select

from anju.ops.models import Community, DoorPlate, ReportEvent, ResidentReport
from anju.ops.resident_trace import TRACE
from anju.resident import orders as O
from anju.resident.abuse import InputError, clean_text, find_duplicate, moderation_reasons
from anju.text.mask import mask_one

if TYPE_CHECKING:
    from anju.ops.resident import ResidentDesk

__all__ = ["PlateGone", "Submission", "SubmissionWriter", "prepare_submission"]

log = logging.getLogger("anju.resident")


class PlateGone(InputError):
    """The submission names a plate code that is unknown or revoked (nothing stored)."""


@dataclass
class Submission:
    """A checked public submission waiting to be stored: the report's column values (without id and plate-derived
    fields), the plate code if it came from a plate, and the future its request awaits (the receipt)."""

    row: dict[str, Any]
    plate_code: str | None = None
    future: Future[str] = field(default_factory=Future)
    times: list[float] = field(default_factory=lambda: [time.perf_counter()])
    """Monotonic times: prepared (≈ the endpoint began), queued, batch began, lock held, commit began, committed
    (appended as it goes; written to the trace when enabled)."""
    batch_size: int = 0


def prepare_submission(desk: ResidentDesk, *, kind: str, text: str | None, phone: str | None = None,
                       plate_code: str | None = None, address: str = "", lon: float | None = None,
                       lat: float | None = None, client_ip: str | None = None, source: str = "open311",
                       partner_id: int | None = None, now: datetime | None = None) -> Submission | None:
    """The checked row of a public submission for :class:`SubmissionWriter`, or None when it must be routed at once
    (urgent words, or a kind that fixes the matter: the caller stores it with :func:`~anju.ops.resident.submit_report`).

    The checks are those of ``submit_report`` (:func:`~anju.ops.resident.check_submission`); raises
    :class:`~anju.resident.abuse.InputError`. The SLA starts now (``created_at``) whenever routing happens.
    """
    from anju.ops.resident import PENDING, _receipt, check_submission, deferrable

    body, phone_clean = check_submission(desk, kind, text, phone)
    if not deferrable(desk, kind, body):
        return None
    now = now or datetime.now(UTC)
    rules = desk.rules
    moderation = list(moderation_reasons(body))
    row = {"receipt": _receipt(), "source": source, "address": clean_text(address, max_chars=300, required=False),
           "lon": lon, "lat": lat, "kind": kind, "text": body, "phone": phone_clean,
           "phone_masked": mask_one(phone_clean) if phone_clean else None, "client_key": desk.client_key(client_ip),
           "partner_id": partner_id, "matter": "", "department": rules.routing.dispatcher,
           "org_code": rules.departments()[rules.routing.dispatcher].org, "confidence": 0.0,
           "route_method": PENDING, "suggestions": [], "moderation": moderation,
           "status": O.Status.MODERATION.value if moderation else O.Status.NEW.value, "created_at": now,
           "updated_at": now}
    return Submission(row, plate_code)


class SubmissionWriter:
    """The one writer thread of a web process for deferred public submissions (see the module docstring).

    ``duplicate_hours`` / ``duplicate_similarity`` come from the resident rules; ``on_commit`` runs after every
    committed batch (the web app kicks its routing pump there).
    """

    def __init__(self, engine: Engine, *, duplicate_hours: float, duplicate_similarity: float,
                 on_commit: Callable[[], None] | None = None, max_batch: int = 256) -> None:
        self.engine = engine
        self.window = timedelta(hours=duplicate_hours)
        self.similarity = duplicate_similarity
        self.on_commit = on_commit
        self.max_batch = max_batch
        self.batches = 0
        self.written = 0
        self._q: queue.Queue[Submission | None] = queue.Queue()
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # the thread and direct write_batch callers share the connection
        self._thread = threading.Thread(target=self._run, name="resident-intake", daemon=True)
        self._thread.start()

    def submit(self, sub: Submission) -> Future[str]:
        """Queue a submission; the future gives its receipt once committed (or the error)."""
        if not self._thread.is_alive():
            raise RuntimeError("the submission writer has stopped")
        sub.times.append(time.perf_counter())
        self._q.put(sub)
        return sub.future

    def resumed(self, sub: Submission) -> None:
        """The endpoint resumed after the acknowledgement: trace the submission's timings (when tracing)."""
        if TRACE.enabled and len(sub.times) == 6:
            TRACE.add("s", *sub.times, time.perf_counter(), sub.batch_size)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self._q.put(None)
        self._thread.join(timeout)

    # ------------------------------------------------------------------------------------------------ the thread
    @contextmanager
    def _held(self) -> Iterator[Connection]:
        """The writer's own connection, kept from batch to batch: no pool check-out per batch (on PostgreSQL that
        saves the pre-ping and the reset-on-return round trips, two of the five a batch made). After a failure it
        is closed (rolling back what the batch began) and the next batch opens a fresh one."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        try:
            yield self._conn
        except BaseException:
            self._close()
            raise

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a broken connection: the pool discards it
                log.exception("closing the submission writer's connection failed")

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            with self._lock:
                self._close()

    def _loop(self) -> None:
        while True:
            try:
                first = self._q.get(timeout=1.0)
            except queue.Empty:
                TRACE.flush()  # idle: write out the last second's timings (when tracing)
                continue
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._write_batch(batch)
            if stop:
                return

    def write_batch(self, batch: list[Submission]) -> None:
        """Store ``batch`` in one transaction and settle each future (what the thread does with what queued up;
        callers holding several submissions at once, and the tests, may call it directly)."""
        self._write_batch(batch)

    def _write_batch(self, batch: list[Submission]) -> None:
        try:
            done = self._store(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("storing a public submission failed")
                if not batch[0].future.done():
                    batch[0].future.set_exception(RuntimeError("the submission could not be stored"))
                return
            for sub in batch:  # one at a time, so one bad row fails alone
                self._write_batch([sub])
            return
        self.batches += 1
        self.written += len(done)
        for sub, receipt in done:
            sub.future.set_result(receipt)
        if done and self.on_commit is not None:
            try:
                self.on_commit()
            except Exception:  # the worker routes what the pump misses
                log.exception("after-commit hook failed")

    def _store(self, batch: list[Submission]) -> list[tuple[Submission, str]]:
        """Store a batch in one transaction; returns the (submission, receipt) pairs acknowledged after commit.
        Submissions refused here (unknown plate) get their exception at once and are left out."""
        rt = cast(Table, ResidentReport.__table__)
        et = cast(Table, ReportEvent.__table__)
        t_start = time.perf_counter()
        with self._lock, self._held() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            t_locked = time.perf_counter()
            codes = {s.plate_code for s in batch if s.plate_code}
            plates: dict[str, Any] = {}
            if codes:
                plates = {p.code: p for p in conn.execute(
                    select(DoorPlate.id, DoorPlate.code, DoorPlate.community_id, DoorPlate.building, DoorPlate.unit,
                           DoorPlate.door, DoorPlate.lon, DoorPlate.lat, Community.name.label("community_name"))
                    .join(Community, Community.id == DoorPlate.community_id)
                    .where(DoorPlate.code.in_(codes), DoorPlate.active.is_(True)))}
            keep: list[Submission] = []
            for s in batch:
                if s.plate_code and s.plate_code not in plates:
                    s.future.set_exception(PlateGone("门牌码无效或已停用 / unknown or revoked plate"))
                    continue
                if s.plate_code:
                    p = plates[s.plate_code]
                    addr = s.row.get("address") or f"{p.community_name} {p.building} {p.unit} {p.door}".strip()
                    s.row.update(plate_id=p.id, community_id=p.community_id, lon=p.lon, lat=p.lat,
                                 address=addr[:300])
                keep.append(s)
            # duplicates: the same plate within the window, similar text (database rows, then this batch's rows)
            recent: dict[int, list[tuple[str, str, int | None]]] = {}
            plate_ids = {s.row["plate_id"] for s in keep if s.row.get("plate_id") is not None}
            if plate_ids:
                since = min(s.row["created_at"] for s in keep) - self.window
                for r in conn.execute(select(ResidentReport.receipt, ResidentReport.text, ResidentReport.id,
                                             ResidentReport.plate_id)
                                      .where(ResidentReport.plate_id.in_(plate_ids),
                                             ResidentReport.created_at >= since,
                                             ResidentReport.status != O.Status.DUPLICATE.value)
                                      .order_by(ResidentReport.created_at.desc())):
                    lst = recent.setdefault(r.plate_id, [])
                    if len(lst) < 50:
                        lst.append((r.receipt, r.text, r.id))
            first: list[Submission] = []  # stored first (originals), then the duplicates of this batch's rows
            dup_of_batch: list[tuple[Submission, Submission]] = []
            events: dict[int, dict[str, Any]] = {}
            for s in keep:
                row = s.row
                pid = row.get("plate_id")
                if pid is None:
                    first.append(s)
                    events[id(s)] = _first_event(row)
                    continue
                cands = recent.setdefault(pid, [])
                found = find_duplicate(row["text"], [(c[0], c[1]) for c in cands], threshold=self.similarity)
                if found is not None:
                    orig = next(c for c in cands if c[0] == found)
                    row["status"] = O.Status.DUPLICATE.value
                    events[id(s)] = _dup_event(row, found)
                    if orig[2] is None:  # an earlier submission of this batch: its id comes with its insert
                        dup_of_batch.append((s, next(x for x in first if x.row["receipt"] == found)))
                        continue
                    row["duplicate_of_id"] = orig[2]
                else:
                    events[id(s)] = _first_event(row)
                    cands.insert(0, (row["receipt"], row["text"], None))
                first.append(s)
            for group in (first, [s for s, _ in dup_of_batch]):
                if not group:
                    continue
                if group is not first:
                    ids_by_receipt = {s.row["receipt"]: s.row["id"] for s in first}
                    for s, orig_sub in dup_of_batch:
                        s.row["duplicate_of_id"] = ids_by_receipt[orig_sub.row["receipt"]]
                rows = [_full_row(s.row) for s in group]
                got = conn.execute(insert(rt).returning(rt.c.id, sort_by_parameter_order=True), rows).scalars().all()
                for s, rid in zip(group, got, strict=True):
                    s.row["id"] = rid
                conn.execute(insert(et), [{**events[id(s)], "report_id": s.row["id"]} for s in group])
            t_commit = time.perf_counter()
            conn.commit()
        t_done = time.perf_counter()
        stored = first + [s for s, _ in dup_of_batch]
        for s in stored:
            del s.times[2:]  # a retried submission keeps the timings of the batch that stored it
            s.times += (t_start, t_locked, t_commit, t_done)
            s.batch_size = len(batch)
        return [(s, s.row["receipt"]) for s in stored]


_COLUMNS = ("receipt", "source", "plate_id", "community_id", "address", "lon", "lat", "kind", "text", "phone",
            "phone_masked", "photo", "client_key", "partner_id", "matter", "department", "org_code", "confidence",
            "route_method", "suggestions", "moderation", "status", "resolution", "deadline", "created_at",
            "updated_at", "signed_at", "closed_at", "reopened", "escalated", "extensions", "duplicate_of_id",
            "satisfied", "sitting_date", "mediation_outcome")
_DEFAULTS: dict[str, Any] = {"source": "plate", "address": "", "matter": "", "confidence": 0.0, "route_method": "",
                             "suggestions": [], "moderation": [], "reopened": 0, "escalated": False,
                             "extensions": 0}


def _full_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every column (a multi-row INSERT needs the same keys in each row)."""
    return {c: row.get(c, _DEFAULTS.get(c)) for c in _COLUMNS}


def _event_row(action: str, to_status: str, note: str, at: datetime, detail: dict[str, Any]) -> dict[str, Any]:
    return {"action": action, "from_status": O.Status.NEW.value, "to_status": to_status, "note": note,
            "department": None, "actor_id": None, "actor_name": "system", "at": at, "detail": detail}


def _first_event(row: dict[str, Any]) -> dict[str, Any]:
    """The first history row of a stored report: held for moderation, or received and waiting for routing (the
    same rows :func:`anju.ops.resident.submit_report` writes)."""
    if row["status"] == O.Status.MODERATION.value:
        return _event_row("hold", O.Status.MODERATION.value, "待审核：" + "、".join(row["moderation"]),
                          row["created_at"], {"reasons": list(row["moderation"])})
    return _event_row("submit", O.Status.NEW.value, "已受理，等待分派", row["created_at"], {})


def _dup_event(row: dict[str, Any], original: str) -> dict[str, Any]:
    _, ev = O.apply(O.OrderState(O.Status.NEW, None, None), O.Action.MARK_DUPLICATE,
                    note=f"24小时内同一门牌的相似报告 {original}", at=row["created_at"], duplicate_of=original)
    return _event_row(ev.action.value, ev.to_status.value, ev.note, ev.at, dict(ev.detail))
