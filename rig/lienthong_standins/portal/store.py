"""The portal stand-in's state: dossiers, files and access tokens in one SQLite file (WAL).

Dossiers are kept as the columns searches filter and sort on plus the iGate JSON as a blob.
Every change stamps ``updated_ms`` strictly above any earlier stamp, so a client paging by
``updatedDate`` (then ``id``) never misses a change, even while the clock is frozen.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)

from lienthong_standins.behaviour import Behaviour
from lienthong_standins.clock import SimClock
from lienthong_standins.district import AGENCY_BY_CODE, PARENT, PROCEDURE_BY_CODE
from lienthong_standins.portal import files as pdf
from lienthong_standins.portal.desk import apply_due, receiver_for, return_plan
from lienthong_standins.portal.dossiers import (
    fmt_date,
    to_ms,
    with_attachment,
    with_extension,
    with_status,
    with_step,
)
from lienthong_standins.portal.lifecycle import allowed

metadata = MetaData()

dossiers = Table(
    "dossiers",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("status", Integer, nullable=False),
    Column("agency_id", String(24), nullable=False),
    Column("agency_code", String(20), nullable=False),
    Column("ancestor_id", String(24), nullable=False),
    Column("procedure_id", String(24), nullable=False),
    Column("procedure_code", String(20), nullable=False),
    Column("result_kind", String(10), nullable=False),
    Column("must_attach", Integer, nullable=False),
    Column("accepted_ms", Integer, nullable=False),
    Column("updated_ms", Integer, nullable=False),
    Column("result_count", Integer, nullable=False, default=0),
    Column("desk_due_ms", Integer),
    Column("desk_plan", Text),
    Column("doc", Text, nullable=False),
    Index("ix_dossiers_updated", "updated_ms", "id"),
    Index("ix_dossiers_accepted", "accepted_ms"),
    Index("ix_dossiers_status", "status"),
    Index("ix_dossiers_desk", "desk_due_ms"),
    Index("ix_dossiers_agency", "agency_id"),
    Index("ix_dossiers_procedure", "procedure_code"),
)

files = Table(
    "files",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("filename", Text, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary),  # uploaded bytes; NULL for generated forms (see recipe)
    Column("recipe", Text),
    Column("dossier_id", String(24)),
    Column("attached_to", String(24)),  # dossier id once attached as a result
    Column("created_ms", Integer, nullable=False),
)

attach_log = Table(  # real (wall-clock) time of each attachment, for the latency benchmark
    "attach_log",
    metadata,
    Column("file_id", String(24), primary_key=True),
    Column("dossier_id", String(24), nullable=False),
    Column("attached_real", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("client_id", String(100), nullable=False),
    Column("expires_at", Float, nullable=False),  # real (wall-clock) epoch seconds
)


class NotFound(Exception):
    pass


class Conflict(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class SearchFilters:
    code: str | None = None
    statuses: tuple[int, ...] = ()
    procedure_id: str | None = None
    procedure_code: str | None = None
    agency_id: str | None = None
    agency_code: str | None = None
    ancestor_agency_id: str | None = None
    accepted_from: int | None = None
    accepted_to: int | None = None
    updated_from: int | None = None
    updated_to: int | None = None


def new_id() -> str:
    return secrets.token_hex(12)


class PortalStore:
    def __init__(self, path: Path, clock: SimClock):
        self.path = path
        self.clock = clock
        self.behaviour = Behaviour()
        self.engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(self.engine, "connect")
        def _pragmas(conn, _record):  # noqa: ANN001
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        metadata.create_all(self.engine)
        self._lock = threading.RLock()
        with self.engine.connect() as c:
            self._last_stamp = self._latest_visible_stamp(c)
            self._next_due = c.execute(select(func.min(dossiers.c.desk_due_ms))).scalar()

    # ------------------------------------------------------------------ time
    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def _latest_visible_stamp(self, c) -> int:  # noqa: ANN001
        """The newest change stamp already visible. Dossiers not yet accepted must not count: their
        future acceptance times would push every change stamp ahead of the clock, and a client
        paging on ``updatedDate`` would then jump past dossiers still to come."""
        now_ms = self.now_ms()
        return (
            c.execute(
                select(func.max(dossiers.c.updated_ms)).where(
                    dossiers.c.accepted_ms <= now_ms, dossiers.c.updated_ms <= now_ms
                )
            ).scalar()
            or 0
        )

    def _stamp(self, at_ms: int) -> int:
        """A change stamp >= ``at_ms`` and strictly above every earlier one."""
        self._last_stamp = max(at_ms, self._last_stamp + 1)
        return self._last_stamp

    # ------------------------------------------------------------------ loading
    def is_empty(self) -> bool:
        with self.engine.connect() as c:
            return c.execute(select(dossiers.c.id).limit(1)).first() is None

    def insert_dossiers(
        self, items: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]], chunk: int = 5000
    ) -> int:
        """Bulk insert (executemany, in chunks) of prepared dossier rows, each with its form-file
        rows."""
        n = 0
        with self._lock, self.engine.begin() as c:
            batch: list[dict[str, Any]] = []
            fbatch: list[dict[str, Any]] = []
            for row, form_files in items:
                batch.append(row)
                fbatch.extend(form_files)
                if len(batch) >= chunk:
                    n += self._flush(c, batch, fbatch)
                    batch, fbatch = [], []
            n += self._flush(c, batch, fbatch)
            self._last_stamp = max(self._last_stamp, self._latest_visible_stamp(c))
            self._next_due = c.execute(select(func.min(dossiers.c.desk_due_ms))).scalar()
        return n

    @staticmethod
    def _flush(c, batch: list[dict[str, Any]], fbatch: list[dict[str, Any]]) -> int:  # noqa: ANN001
        if batch:
            c.execute(insert(dossiers), batch)
        if fbatch:
            c.execute(insert(files), fbatch)
        return len(batch)

    # ------------------------------------------------------------------ the desk
    def run_desk(self, now_ms: int | None = None) -> int:
        """Perform the one-stop desk's moves that fell due; returns how many dossiers moved."""
        now_ms = self.now_ms() if now_ms is None else now_ms
        if self._next_due is None or self._next_due > now_ms:
            return 0
        moved = 0
        with self._lock, self.engine.begin() as c:
            rows = c.execute(
                select(dossiers.c.id, dossiers.c.doc, dossiers.c.desk_plan)
                .where(dossiers.c.desk_due_ms <= now_ms)
                .order_by(dossiers.c.desk_due_ms, dossiers.c.id)
            ).all()
            updates = []
            for row in rows:
                plan = [tuple(p) for p in json.loads(row.desk_plan or "[]")]
                doc, rest, changed = apply_due(json.loads(row.doc), plan, now_ms, self._stamp)  # type: ignore[arg-type]
                updates.append(
                    {
                        "b_id": row.id,
                        "doc": json.dumps(doc, ensure_ascii=False),
                        "status": doc["dossierStatus"]["id"],
                        "updated_ms": self._last_stamp if changed else to_ms_from_doc(doc),
                        "desk_due_ms": rest[0][0] if rest else None,
                        "desk_plan": json.dumps(rest) if rest else None,
                    }
                )
                moved += changed
            if updates:
                c.execute(
                    update(dossiers)
                    .where(dossiers.c.id == bindparam("b_id"))
                    .values(
                        doc=bindparam("doc"),
                        status=bindparam("status"),
                        updated_ms=bindparam("updated_ms"),
                        desk_due_ms=bindparam("desk_due_ms"),
                        desk_plan=bindparam("desk_plan"),
                    ),
                    updates,
                )
            self._next_due = c.execute(select(func.min(dossiers.c.desk_due_ms))).scalar()
        return moved

    # ------------------------------------------------------------------ reading
    def search(
        self, f: SearchFilters, page: int, size: int, descending: bool
    ) -> tuple[list[dict[str, Any]], int]:
        now_ms = self.now_ms()
        self.run_desk(now_ms)
        d = dossiers.c
        conds = [d.accepted_ms <= now_ms]
        if f.code:
            conds.append(d.code == f.code)
        if f.statuses:
            conds.append(d.status.in_(f.statuses))
        if f.procedure_id:
            conds.append(d.procedure_id == f.procedure_id)
        if f.procedure_code:
            conds.append(d.procedure_code == f.procedure_code)
        if f.agency_id:
            conds.append(d.agency_id == f.agency_id)
        if f.agency_code:
            conds.append(d.agency_code == f.agency_code)
        if f.ancestor_agency_id:
            conds.append(
                or_(d.ancestor_id == f.ancestor_agency_id, d.agency_id == f.ancestor_agency_id)
            )
        if f.accepted_from is not None:
            conds.append(d.accepted_ms >= f.accepted_from)
        if f.accepted_to is not None:
            conds.append(d.accepted_ms < f.accepted_to)
        tie = self.behaviour.tie_ms
        updated = (
            (d.updated_ms // tie) * tie if tie > 1 else d.updated_ms
        )  # integer division: the served resolution
        if f.updated_from is not None:
            conds.append(updated >= f.updated_from)
        if f.updated_to is not None:
            conds.append(updated < f.updated_to)
        if self.behaviour.shuffle_ties:  # no order among ties, and a new one on every call
            order = (updated.desc() if descending else updated.asc(), func.random())
        else:
            order = (updated.desc(), d.id.desc()) if descending else (updated.asc(), d.id.asc())
        with self.engine.connect() as c:
            total = (
                c.execute(select(func.count()).select_from(dossiers).where(*conds)).scalar() or 0
            )
            rows = c.execute(
                select(d.doc).where(*conds).order_by(*order).limit(size).offset(page * size)
            ).all()
        return [self._served(json.loads(r.doc)) for r in rows], total

    def _served(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The dossier with ``updatedDate`` at the served resolution."""
        tie = self.behaviour.tie_ms
        if tie > 1 and doc.get("updatedDate"):
            doc["updatedDate"] = fmt_date(to_ms_from_doc(doc) // tie * tie)
        return doc

    def get(self, dossier_id: str) -> dict[str, Any]:
        now_ms = self.now_ms()
        self.run_desk(now_ms)
        with self.engine.connect() as c:
            row = c.execute(
                select(dossiers.c.doc).where(
                    dossiers.c.id == dossier_id, dossiers.c.accepted_ms <= now_ms
                )
            ).first()
        if row is None:
            raise NotFound("dossier")
        return self._served(json.loads(row.doc))

    # ------------------------------------------------------------------ changes
    def _load_for_change(self, c, dossier_id: str):  # noqa: ANN001
        row = c.execute(
            select(dossiers).where(
                dossiers.c.id == dossier_id, dossiers.c.accepted_ms <= self.now_ms()
            )
        ).first()
        if row is None:
            raise NotFound("dossier")
        return row

    def _save(self, c, dossier_id: str, doc: dict[str, Any], stamp: int, **extra: Any) -> None:  # noqa: ANN001
        c.execute(
            update(dossiers)
            .where(dossiers.c.id == dossier_id)
            .values(
                doc=json.dumps(doc, ensure_ascii=False),
                status=doc["dossierStatus"]["id"],
                updated_ms=stamp,
                **extra,
            )
        )

    def add_step(self, dossier_id: str, step: dict[str, Any]) -> dict[str, Any]:
        self.run_desk()
        with self._lock, self.engine.begin() as c:
            row = self._load_for_change(c, dossier_id)
            stamp = self._stamp(self.now_ms())
            doc = with_step(json.loads(row.doc), step, stamp)
            self._save(c, dossier_id, doc, stamp)
        return doc

    def extend(self, code: str, new_due_ms: int, reason: str) -> dict[str, Any]:
        """The one-stop desk extends a dossier's deadline (gia hạn): a new appointment date with
        its reason, as a step. Any date is taken, an earlier one too (a bad input to test)."""
        self.run_desk()
        with self._lock, self.engine.begin() as c:
            row = c.execute(select(dossiers).where(dossiers.c.code == code)).first()
            if row is None or row.accepted_ms > self.now_ms():
                raise NotFound("dossier")
            now = self.now_ms()
            stamp = self._stamp(now)
            official = receiver_for(AGENCY_BY_CODE[row.agency_code])
            doc = with_extension(json.loads(row.doc), official, new_due_ms, reason, now, stamp)
            self._save(c, row.id, doc, stamp)
        return doc

    def set_status(
        self, dossier_id: str, status: int, step: dict[str, Any] | None
    ) -> dict[str, Any]:
        self.run_desk()
        with self._lock, self.engine.begin() as c:
            row = self._load_for_change(c, dossier_id)
            if not allowed(row.status, status) and not (
                self.behaviour.permissive and row.status == status
            ):
                raise Conflict(
                    "ILLEGAL_TRANSITION",
                    f"Không thể chuyển hồ sơ từ trạng thái {row.status} sang {status}",
                )
            if status == 10 and row.must_attach and row.result_count == 0:
                raise Conflict(
                    "RESULT_REQUIRED", "Hồ sơ phải được đính kèm kết quả trước khi trả cho công dân"
                )
            now = self.now_ms()
            stamp = self._stamp(now)
            doc = with_status(json.loads(row.doc), status, now, stamp, bool(row.must_attach), step)
            # The link (or an operator) took the dossier over: the desk's own plan no longer
            # applies, except that a finished dossier is handed back to the citizen by the desk.
            plan = return_plan(dossier_id, now) if status == 9 else []
            self._save(
                c,
                dossier_id,
                doc,
                stamp,
                desk_due_ms=plan[0][0] if plan else None,
                desk_plan=json.dumps(plan) if plan else None,
            )
            if plan and (self._next_due is None or plan[0][0] < self._next_due):
                self._next_due = plan[0][0]
        return doc

    def attach_result(
        self, dossier_id: str, file_id: str, filename: str | None, document: dict[str, Any]
    ) -> dict[str, Any]:
        self.run_desk()
        with self._lock, self.engine.begin() as c:
            row = self._load_for_change(c, dossier_id)
            frow = c.execute(
                select(files.c.id, files.c.filename, files.c.size, files.c.attached_to).where(
                    files.c.id == file_id
                )
            ).first()
            if frow is None:
                raise NotFound("file")
            doc = json.loads(row.doc)
            if not self.behaviour.permissive and (
                frow.attached_to is not None
                or any(a.get("id") == file_id for a in doc["attachment"])
            ):
                raise Conflict("ALREADY_ATTACHED", "Tệp kết quả này đã được đính kèm")
            stamp = self._stamp(self.now_ms())
            doc = with_attachment(
                doc,
                {
                    "id": file_id,
                    "filename": filename or frow.filename,
                    "size": frow.size,
                    "document": document,
                },
                stamp,
            )
            self._save(c, dossier_id, doc, stamp, result_count=row.result_count + 1)
            c.execute(update(files).where(files.c.id == file_id).values(attached_to=dossier_id))
            c.execute(
                insert(attach_log)
                .prefix_with("OR REPLACE")
                .values(  # permissive: the same file again
                    file_id=file_id, dossier_id=dossier_id, attached_real=time.time()
                )
            )
        return doc

    def withdraw_result(self, dossier_id: str, file_id: str) -> dict[str, Any]:
        """Take a result file off the dossier (a revoked or replaced decision); 404 when it is not
        attached there (a repeat)."""
        self.run_desk()
        with self._lock, self.engine.begin() as c:
            row = self._load_for_change(c, dossier_id)
            doc = json.loads(row.doc)
            kept = [a for a in doc["attachment"] if a.get("id") != file_id]
            if len(kept) == len(doc["attachment"]):
                raise NotFound("attachment")
            stamp = self._stamp(self.now_ms())
            doc["attachment"], doc["updatedDate"] = kept, fmt_date(stamp)
            self._save(c, dossier_id, doc, stamp, result_count=max(row.result_count - 1, 0))
            c.execute(update(files).where(files.c.id == file_id).values(attached_to=None))
        return doc

    def results_view(self) -> list[dict[str, Any]]:
        """[own, admin] every decision/certificate dossier with its status, its attached results
        (file digest, number/notation, real attach time) and its steps (content, time)."""
        d = dossiers.c
        with self.engine.connect() as c:
            rows = c.execute(
                select(d.id, d.code, d.status, d.doc)
                .where(d.must_attach == 1)
                .where(d.accepted_ms <= self.now_ms())
                .order_by(d.accepted_ms, d.id)
            ).all()
            digests = dict(
                c.execute(
                    select(files.c.id, files.c.sha256).where(files.c.attached_to.is_not(None))
                ).all()
            )
            stamps = dict(c.execute(select(attach_log.c.file_id, attach_log.c.attached_real)).all())
        out = []
        for r in rows:
            attachments = [
                {
                    "fileId": a["id"],
                    "sha256": digests.get(a["id"]),
                    "codeNotation": (a.get("document") or {}).get("codeNotation"),
                    "attached_real": stamps.get(a["id"]),
                }
                for a in json.loads(r.doc).get("attachment") or []
            ]
            steps = [
                [t.get("NoiDungXuLy"), t.get("ThoiDiemXuLy")]
                for t in json.loads(r.doc).get("task") or []
                if "NoiDungXuLy" in t
            ]
            out.append(
                {
                    "id": r.id,
                    "code": r.code,
                    "status": r.status,
                    "attachments": attachments,
                    "steps": steps,
                }
            )
        return out

    # ------------------------------------------------------------------ files
    def add_file(self, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
        size, sha = pdf.describe(data)
        fid = new_id()
        with self._lock, self.engine.begin() as c:
            c.execute(
                insert(files).values(
                    id=fid,
                    filename=filename,
                    content_type=content_type,
                    size=size,
                    sha256=sha,
                    data=data,
                    created_ms=self.now_ms(),
                )
            )
        return {
            "id": fid,
            "filename": filename,
            "size": size,
            "contentType": content_type,
            "sha256": sha,
        }

    def get_file(self, file_id: str) -> tuple[str, str, bytes]:
        with self.engine.connect() as c:
            row = c.execute(select(files).where(files.c.id == file_id)).first()
        if row is None:
            raise NotFound("file")
        data = row.data if row.data is not None else pdf.recipe_bytes(row.recipe)
        return row.filename, row.content_type, data

    def delete_file(self, file_id: str) -> None:
        with self._lock, self.engine.begin() as c:
            if c.execute(delete(files).where(files.c.id == file_id)).rowcount == 0:
                raise NotFound("file")

    # ------------------------------------------------------------------ tokens
    def issue_token(self, client_id: str, ttl: int) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock, self.engine.begin() as c:
            c.execute(delete(tokens).where(tokens.c.expires_at < now - 3600))
            c.execute(insert(tokens).values(token=token, client_id=client_id, expires_at=now + ttl))
        return token

    def token_valid(self, token: str) -> bool:
        with self.engine.connect() as c:
            exp = c.execute(select(tokens.c.expires_at).where(tokens.c.token == token)).scalar()
        return exp is not None and exp > time.time()

    # ------------------------------------------------------------------ stats
    def stats(self) -> dict[str, Any]:
        now_ms = self.now_ms()
        self.run_desk(now_ms)
        d = dossiers.c
        with self.engine.connect() as c:
            by_status = {
                str(s): n
                for s, n in c.execute(
                    select(d.status, func.count()).where(d.accepted_ms <= now_ms).group_by(d.status)
                ).all()
            }
            by_kind = {
                k: n
                for k, n in c.execute(
                    select(d.result_kind, func.count())
                    .where(d.accepted_ms <= now_ms)
                    .group_by(d.result_kind)
                ).all()
            }
            total = c.execute(select(func.count()).select_from(dossiers)).scalar()
            visible = c.execute(
                select(func.count()).select_from(dossiers).where(d.accepted_ms <= now_ms)
            ).scalar()
            n_files = c.execute(select(func.count()).select_from(files)).scalar()
            uploaded = c.execute(
                select(func.count()).select_from(files).where(files.c.data.is_not(None))
            ).scalar()
            attachments = c.execute(select(func.coalesce(func.sum(d.result_count), 0))).scalar()
            pending = c.execute(
                select(func.count()).select_from(dossiers).where(d.desk_due_ms.is_not(None))
            ).scalar()
        return {
            "dossiers": {
                "total": total,
                "visible": visible,
                "by_status": by_status,
                "by_result_kind": by_kind,
                "desk_pending": pending,
            },
            "files": {"total": n_files, "uploaded": uploaded},
            "attachments": attachments,
        }


def to_ms_from_doc(doc: dict[str, Any]) -> int:
    return to_ms(datetime.fromisoformat(doc["updatedDate"].replace("+0700", "+07:00")))


def dossier_row(
    doc: dict[str, Any], *, accepted_ms: int, plan: Sequence[tuple[int, int]]
) -> dict[str, Any]:
    """The stored row for a generated dossier document."""
    proc = PROCEDURE_BY_CODE[doc["procedure"]["code"]]
    return {
        "id": doc["id"],
        "code": doc["code"],
        "status": doc["dossierStatus"]["id"],
        "agency_id": doc["agency"]["id"],
        "agency_code": doc["agency"]["code"],
        "ancestor_id": AGENCY_BY_CODE[PARENT[doc["agency"]["code"]]].id,
        "procedure_id": doc["procedure"]["id"],
        "procedure_code": doc["procedure"]["code"],
        "result_kind": proc.result_kind,
        "must_attach": int(proc.result_kind == "decision"),
        "accepted_ms": accepted_ms,
        "updated_ms": to_ms_from_doc(doc),
        "result_count": 0,
        "desk_due_ms": plan[0][0] if plan else None,
        "desk_plan": json.dumps(list(plan)) if plan else None,
        "doc": json.dumps(doc, ensure_ascii=False),
    }
