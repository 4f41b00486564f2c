"""Persistent state of the iOffice stand-in: documents, their packages, number books.

One SQLite file (WAL) so a restart keeps everything. The office's plan for a document
is drawn once, at reception, and stored; :meth:`IOfficeStore.materialize` later turns
the planned events whose time has passed into state changes and packages, in time
order, so numbers are given in the order documents were actually issued.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    deferred,
    mapped_column,
    sessionmaker,
    undefer,
)

from lienthong_standins.behaviour import Behaviour
from lienthong_standins.clock import VN_TZ
from lienthong_standins.ioffice.ca import TrustedCA, load_or_create_cas
from lienthong_standins.ioffice.office import Plan, plan_document
from lienthong_standins.ioffice.pdf import Decision, render_decision_pdf, sign_pdf

# LoaiKetQua codes (interfaces.md §3).
ISSUED, SIGNED_NOT_ISSUED, REJECTED = "01", "02", "03"
# Not in the public sources (interfaces.md lists 01-04): the stand-in's revocation outcome, modelled
# on edXML's revocation messages; a replacement is an issued package naming the document it
# replaces (edXML ReplacementInfo). Both shapes live in the link's iOffice adapter only.
REVOKED = "07"

STATE_NAMES = {
    "received": "Chuyên viên đang soạn thảo",
    "drafted": "Đã soạn thảo, chờ trình ký",
    "submitted": "Đã trình lãnh đạo",
    "signed": "Lãnh đạo đã ký, chờ ban hành",
    "issued": "Đã ban hành",
    "rejected": "Lãnh đạo trả lại",
}


class VNDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as ISO text in Asia/Ho_Chi_Minh (sortable, no tz loss)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(VN_TZ).isoformat(timespec="seconds")

    def process_result_value(self, value: str | None, dialect) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value).astimezone(VN_TZ)


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "documents"

    ma_van_ban: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    ma_ho_so: Mapped[str | None] = mapped_column(
        String(80), index=True
    )  # None: never from the portal; one document each unless permissive
    id_ho_so: Mapped[str] = mapped_column(String(80), default="")
    unit_code: Mapped[str] = mapped_column(String(60), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text, default="{}")  # the push, as JSON
    tham_so_an: Mapped[str] = mapped_column(Text, default="")
    document_type: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(Text)
    applicant: Mapped[str] = mapped_column(String(200), default="")
    procedure: Mapped[str] = mapped_column(String(300), default="")
    signer_name: Mapped[str] = mapped_column(String(100))
    signer_account: Mapped[str] = mapped_column(String(100), default="")
    signer_title: Mapped[str] = mapped_column(String(100))
    drafter: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(VNDateTime)
    # The plan (drawn at reception).
    outcome: Mapped[str] = mapped_column(String(20))
    drafted_at: Mapped[datetime] = mapped_column(VNDateTime)
    submitted_at: Mapped[datetime] = mapped_column(VNDateTime)
    decided_at: Mapped[datetime] = mapped_column(VNDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(VNDateTime)
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    # What has happened so far.
    state: Mapped[str] = mapped_column(String(20), default="received", index=True)
    next_event_at: Mapped[datetime | None] = mapped_column(VNDateTime, index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    code_notation: Mapped[str] = mapped_column(String(60), default="")
    promulgation_date: Mapped[date | None] = mapped_column(Date, index=True)
    pdf_unsigned: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_signed: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # Corrections after issuance: the document this one replaces, and a revocation.
    replaces: Mapped[str | None] = mapped_column(String(40))
    change_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None] = mapped_column(VNDateTime)

    @property
    def push(self) -> dict[str, Any]:
        return json.loads(self.payload)

    def plan_steps(self) -> list[tuple[str, datetime]]:
        """(state reached, when) for every planned step, in order."""
        decided = "rejected" if self.outcome == "rejected" else "signed"
        steps = [
            ("drafted", self.drafted_at),
            ("submitted", self.submitted_at),
            (decided, self.decided_at),
        ]
        if self.issued_at is not None:
            steps.append(("issued", self.issued_at))
        return steps

    def remaining_steps(self) -> list[tuple[str, datetime]]:
        names = ["received"] + [s for s, _ in self.plan_steps()]
        return self.plan_steps()[names.index(self.state) :]

    def history(self) -> list[tuple[str, datetime]]:
        """Steps already done, oldest first (reception included)."""
        done = self.plan_steps()[: len(self.plan_steps()) - len(self.remaining_steps())]
        return [("received", self.created_at), *done]


class Package(Base):
    """An outcome offered to the link; at most one ``pending`` per document."""

    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ma_van_ban: Mapped[str] = mapped_column(ForeignKey("documents.ma_van_ban"), index=True)
    loai_ket_qua: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(
        String(12), default="pending", index=True
    )  # pending|acked|superseded
    created_at: Mapped[datetime] = mapped_column(VNDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(VNDateTime)
    ack_status: Mapped[str | None] = mapped_column(String(2))
    relisted: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # 'duplicate' fault re-listed it once


class PackageTiming(Base):
    """Real (wall-clock) moments of a package: offered, first listed. The latency benchmark
    measures the link against these; a real iOffice keeps no such thing."""

    __tablename__ = "package_timing"

    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    offered_real: Mapped[float] = mapped_column(Float)
    first_listed_real: Mapped[float | None] = mapped_column(Float)


class NumberBook(Base):
    """The issuing clerk's register: last number given per unit and year."""

    __tablename__ = "number_books"

    unit_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class PackageView:
    package: Package
    document: Document


def unit_matches(parent: str | None, unit_code: str) -> bool:
    """Whether ``unit_code`` lies under ``parent``.

    Codes look like ``000.00.30.H36`` for a district and ``000.30.07.H36`` for one of its offices
    or communes (the child's second segment is the district's third), so the district's code covers
    its units. Otherwise a zero segment in the parent is a wildcard.
    """
    if not parent or parent == unit_code:
        return True
    p, u = parent.split("."), unit_code.split(".")
    if len(p) != len(u) or len(p) < 2:
        return False
    if len(p) == 4 and p[1] == "00" and set(p[2]) != {"0"} and p[3] == u[3] and u[1] == p[2]:
        return True
    return all(a == b or set(a) == {"0"} for a, b in zip(p, u, strict=True))


def place_of(unit_name: str) -> str:
    """The place printed on a document: the locality in the issuing body's name."""
    m = re.search(r"(?:huyện|xã|thị trấn|thành phố|phường|tỉnh)\s+(.+)$", unit_name, re.IGNORECASE)
    return m.group(1).strip() if m else "Hữu Lũng"


class IOfficeStore:
    """The stand-in's documents and packages on their own SQLite file."""

    def __init__(self, path: Path, *, seed: int = 0, ca: TrustedCA | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.behaviour = Behaviour()
        self._echo_refused: set[str] = set()
        self.ca = ca or load_or_create_cas(self.path.parent / "ca").trusted_ca
        self.engine = create_engine(
            f"sqlite:///{self.path}", connect_args={"check_same_thread": False}
        )

        @event.listens_for(self.engine, "connect")
        def _pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.RLock()

    def close(self) -> None:
        self.engine.dispose()

    # --- reception -------------------------------------------------------------------

    def find_by_dossier(self, ma_ho_so: str) -> Document | None:
        with self._session() as s:
            return s.scalar(
                select(Document)
                .where(Document.ma_ho_so == ma_ho_so)
                .order_by(Document.seq)
                .limit(1)
            )

    def refuse_first_push(self, push: dict[str, Any]) -> bool:
        """``echo_identities``: the first push of each dossier is refused (then taken)."""
        with self._lock:
            if not self.behaviour.echo_identities or push["MaHoSo"] in self._echo_refused:
                return False
            self._echo_refused.add(push["MaHoSo"])
            return True

    def receive(self, push: dict[str, Any], now: datetime) -> tuple[Document, bool]:
        """Register a pushed dossier; ``(document, False)`` if that MaHoSo is already here
        (permissive: a second document, as a lenient office would create)."""
        with self._lock, self._session() as s, s.begin():
            existing = s.scalar(
                select(Document).where(Document.ma_ho_so == push["MaHoSo"]).limit(1)
            )
            if existing is not None and not self.behaviour.permissive:
                return existing, False
            draft, signer, unit = push["VanBanDuThao"], push["NguoiKy"], push["DonVi"]
            thu_tuc = push.get("ThuTuc")
            procedure = thu_tuc if isinstance(thu_tuc, str) else (thu_tuc or {}).get("Ten", "")
            doc = self._new_document(
                s,
                now,
                ma_ho_so=push["MaHoSo"],
                id_ho_so=str(push["IDHoSo"]),
                unit_code=unit["MaDinhDanh"],
                unit_name=unit["Ten"],
                payload=json.dumps(push, ensure_ascii=False),
                tham_so_an=push.get("ThamSoAn") or "",
                document_type=draft["LoaiVanBan"],
                subject=_subject(draft["TrichYeu"], push, self.behaviour.echo_identities),
                applicant=push.get("ChuHoSo") or push.get("NguoiNop") or "",
                procedure=procedure,
                signer_name=signer["Ten"],
                signer_account=signer.get("TaiKhoan", ""),
                signer_title=signer.get("ChucVu") or "Chủ tịch",
                drafter=push.get("NguoiTrinhKy") or "",
            )
        self.ca.signer(
            doc.signer_account, doc.signer_name
        )  # the signer's certificates, CRL entry included
        return doc, True

    def add_bypass_document(
        self,
        *,
        agency_code: str,
        agency_name: str,
        subject: str,
        document_type: str,
        created_at: datetime,
    ) -> str:
        """A document created in the office itself, never pushed from the portal.

        It follows the office workflow and gets issued; it has no MaHoSo and yields no
        package (the link never asked for it). Returns its MaVanBan.
        """
        with self._lock, self._session() as s, s.begin():
            doc = self._new_document(
                s,
                created_at.astimezone(VN_TZ),
                ma_ho_so=None,
                id_ho_so="",
                unit_code=agency_code,
                unit_name=agency_name,
                payload="{}",
                tham_so_an="",
                document_type=document_type,
                subject=subject,
                applicant="",
                procedure="",
                signer_name="Hoàng Văn Lâm",
                signer_account="",
                signer_title="Chủ tịch",
                drafter="Văn phòng HĐND và UBND",
            )
            return doc.ma_van_ban

    def _new_document(self, s: Session, now: datetime, **fields: Any) -> Document:
        seq = (s.scalar(select(func.max(Document.seq))) or 0) + 1
        ma_van_ban = f"VB-{now:%Y%m%d}-{seq:05d}"
        key = fields["ma_ho_so"] or ma_van_ban
        plan: Plan = plan_document(self.seed, key, now, bypass=fields["ma_ho_so"] is None)
        doc = Document(
            ma_van_ban=ma_van_ban,
            seq=seq,
            created_at=now,
            outcome=plan.outcome,
            drafted_at=plan.drafted_at,
            submitted_at=plan.submitted_at,
            decided_at=plan.decided_at,
            issued_at=plan.issued_at,
            reject_reason=plan.reject_reason,
            state="received",
            next_event_at=plan.drafted_at,
            code_notation="",
            **fields,
        )
        s.add(doc)
        s.flush()
        return doc

    def replace(self, ma_van_ban: str, reason: str, now: datetime, names: str | None = None) -> str:
        """Issue a new document replacing an issued one (a corrected decision): new number,
        newly signed, for the same dossier; its package names the replaced document. Returns the
        new MaVanBan."""
        with self._lock, self._session() as s, s.begin():
            old = s.get(Document, ma_van_ban)
            if old is None or old.state != "issued":
                raise LookupError(f"no issued document {ma_van_ban}")
            fields = {
                name: getattr(old, name)
                for name in (
                    "ma_ho_so id_ho_so unit_code unit_name payload tham_so_an document_type "
                    "subject applicant procedure signer_name signer_account signer_title drafter"
                ).split()
            }
            doc = self._new_document(s, now, **fields)
            doc.replaces, doc.change_reason = names or old.ma_van_ban, reason
            doc.drafted_at = doc.submitted_at = doc.decided_at = doc.issued_at = now
            doc.outcome, doc.state, doc.next_event_at = "issued", "issued", None
            self._issue(s, doc, now)
            self._offer(s, doc, ISSUED, now)
            return doc.ma_van_ban

    def revoke(self, ma_van_ban: str, reason: str, now: datetime) -> None:
        """Revoke an issued document: its current package becomes the revocation."""
        with self._lock, self._session() as s, s.begin():
            doc = s.get(Document, ma_van_ban)
            if doc is None or doc.state != "issued":
                raise LookupError(f"no issued document {ma_van_ban}")
            doc.revoked_at, doc.change_reason = now, reason
            self._offer(s, doc, REVOKED, now)

    # --- the office at work ----------------------------------------------------------

    def materialize(self, now: datetime) -> dict[str, int]:
        """Perform every planned step due by ``now``, in time order; count what was done."""
        done: dict[str, int] = {}
        with self._lock, self._session() as s, s.begin():
            docs = s.scalars(select(Document).where(Document.next_event_at <= now)).all()
            events = [
                (t, d.seq, step, d) for d in docs for step, t in d.remaining_steps() if t <= now
            ]
            for t, _, step, doc in sorted(events, key=lambda e: (e[0], e[1])):
                self._apply(s, doc, step, t)
                done[step] = done.get(step, 0) + 1
        return done

    def _apply(self, s: Session, doc: Document, step: str, t: datetime) -> None:
        doc.state = step
        rest = doc.remaining_steps()
        doc.next_event_at = rest[0][1] if rest else None
        if doc.ma_ho_so is not None:
            if step == "rejected":
                self._offer(s, doc, REJECTED, t)
            elif step == "signed" and doc.outcome == "signed_late":
                self._offer(s, doc, SIGNED_NOT_ISSUED, t)
        if step == "issued":
            self._issue(s, doc, t)
            if doc.ma_ho_so is not None:
                self._offer(s, doc, ISSUED, t)

    def _offer(self, s: Session, doc: Document, loai: str, t: datetime) -> None:
        s.execute(
            update(Package)
            .where(Package.ma_van_ban == doc.ma_van_ban, Package.state == "pending")
            .values(state="superseded")
        )
        package = Package(
            ma_van_ban=doc.ma_van_ban, loai_ket_qua=loai, state="pending", created_at=t
        )
        s.add(package)
        s.flush()
        s.add(PackageTiming(package_id=package.id, offered_real=time.time()))

    def _issue(self, s: Session, doc: Document, t: datetime) -> None:
        book = s.get(NumberBook, (doc.unit_code, t.year))
        if book is None:
            book = NumberBook(unit_code=doc.unit_code, year=t.year, last=0)
            s.add(book)
        book.last += 1
        doc.number = book.last
        doc.code_notation = f"{book.last}/{doc.document_type}-UBND"
        doc.promulgation_date = t.date()
        unsigned = render_decision_pdf(self.decision_of(doc))
        doc.pdf_unsigned = unsigned
        # Signed with the certificate of the signer the push named (NguoiKy.TaiKhoan).
        doc.pdf_signed = sign_pdf(unsigned, self.ca.signer(doc.signer_account, doc.signer_name))

    @staticmethod
    def decision_of(doc: Document) -> Decision:
        assert doc.promulgation_date is not None
        return Decision(
            issuing_body=doc.unit_name,
            code_notation=doc.code_notation,
            document_type=doc.document_type,
            place=place_of(doc.unit_name),
            promulgation_date=doc.promulgation_date,
            subject=doc.subject,
            dossier_code=doc.ma_ho_so or "",
            applicant=doc.applicant,
            procedure=doc.procedure,
            signer_name=doc.signer_name,
            signer_title=doc.signer_title,
            drafter=doc.drafter,
        )

    # --- delivery to the link --------------------------------------------------------

    def pending_packages(
        self, parent_unit: str | None = None, top: int | None = None
    ) -> list[PackageView]:
        """Unacknowledged packages, oldest first."""
        with self._session() as s:
            rows = s.execute(
                select(Package, Document)
                .join(Document)
                .where(Package.state == "pending")
                .order_by(Package.created_at, Package.id)
            ).all()
        views = [PackageView(p, d) for p, d in rows if unit_matches(parent_unit, d.unit_code)]
        return views[:top] if top is not None else views

    def relistable_packages(self, parent_unit: str | None = None) -> list[PackageView]:
        """Acknowledged current packages never re-listed (for the ``duplicate`` fault)."""
        with self._session() as s:
            rows = s.execute(
                select(Package, Document)
                .join(Document)
                .where(Package.state == "acked", Package.relisted.is_(False))
                .order_by(Package.created_at, Package.id)
            ).all()
        return [PackageView(p, d) for p, d in rows if unit_matches(parent_unit, d.unit_code)]

    def mark_relisted(self, package_ids: list[int]) -> None:
        if not package_ids:
            return
        with self._lock, self._session() as s, s.begin():
            s.execute(update(Package).where(Package.id.in_(package_ids)).values(relisted=True))

    def note_listed(self, package_ids: list[int]) -> None:
        """Stamp the real time a package was first listed to the link."""
        if not package_ids:
            return
        with self._lock, self._session() as s, s.begin():
            s.execute(
                update(PackageTiming)
                .where(
                    PackageTiming.package_id.in_(package_ids),
                    PackageTiming.first_listed_real.is_(None),
                )
                .values(first_listed_real=time.time())
            )

    def documents_view(self) -> list[dict[str, Any]]:
        """[own, admin] every document linked to a dossier, with its packages and the digest of
        its genuine signed PDF: what checks outside the process compare the portal against."""
        with self._session() as s:
            docs = s.scalars(
                select(Document)
                .options(undefer(Document.pdf_signed))
                .where(Document.ma_ho_so.is_not(None))
                .order_by(Document.seq)
            ).all()
            rows = s.execute(
                select(Package, PackageTiming)
                .outerjoin(PackageTiming, PackageTiming.package_id == Package.id)
                .order_by(Package.id)
            ).all()
        packages: dict[str, list[dict[str, Any]]] = {}
        for p, t in rows:
            packages.setdefault(p.ma_van_ban, []).append(
                {
                    "LoaiKetQua": p.loai_ket_qua,
                    "state": p.state,
                    "ack_status": p.ack_status,
                    "offered_real": t.offered_real if t else None,
                    "first_listed_real": t.first_listed_real if t else None,
                }
            )
        return [
            {
                "MaVanBan": d.ma_van_ban,
                "MaHoSo": d.ma_ho_so,
                "state": d.state,
                "SoKyHieu": d.code_notation,
                "sha256": hashlib.sha256(d.pdf_signed).hexdigest() if d.pdf_signed else None,
                "packages": packages.get(d.ma_van_ban, []),
            }
            for d in docs
        ]

    def current_package(self, ma_van_ban: str) -> PackageView | None:
        """The document's latest package (the pending one if any), with its PDFs loaded."""
        with self._session() as s:
            row = s.execute(
                select(Package, Document)
                .join(Document)
                .options(undefer(Document.pdf_signed), undefer(Document.pdf_unsigned))
                .where(Package.ma_van_ban == ma_van_ban, Package.state != "superseded")
                .order_by(Package.id.desc())
                .limit(1)
            ).first()
        return PackageView(*row) if row else None

    def other_dossier_codes(self, ma_van_ban: str) -> list[str]:
        """MaHoSo of the documents pushed just before and after this one (for ``code_mismatch``)."""
        with self._session() as s:
            doc = s.get(Document, ma_van_ban)
            if doc is None:
                return []
            linked = select(Document.ma_ho_so).where(Document.ma_ho_so.is_not(None))
            before = s.scalar(
                linked.where(Document.seq < doc.seq).order_by(Document.seq.desc()).limit(1)
            )
            after = s.scalar(linked.where(Document.seq > doc.seq).order_by(Document.seq).limit(1))
        return [code for code in (before, after) if code]

    def get_document(self, ma_van_ban: str) -> Document | None:
        with self._session() as s:
            return s.get(Document, ma_van_ban)

    def acknowledge(self, ma_van_ban: str, status: str, now: datetime) -> str:
        """``acked`` | ``already`` (nothing pending; idempotent) | ``unknown`` (no such
        document)."""
        with self._lock, self._session() as s, s.begin():
            if s.get(Document, ma_van_ban) is None:
                return "unknown"
            pkg = s.scalar(
                select(Package).where(Package.ma_van_ban == ma_van_ban, Package.state == "pending")
            )
            if pkg is None:
                return "already"
            pkg.state, pkg.acked_at, pkg.ack_status = "acked", now, status
            return "acked"

    # --- look-ups ----------------------------------------------------------------------

    def issued_between(self, start: date, end: date) -> list[Document]:
        with self._session() as s:
            return list(
                s.scalars(
                    select(Document)
                    .where(
                        Document.state == "issued",
                        Document.promulgation_date >= start,
                        Document.promulgation_date <= end,
                    )
                    .order_by(Document.promulgation_date, Document.number, Document.seq)
                )
            )

    def stats(self) -> dict[str, Any]:
        with self._session() as s:
            by_state = dict(
                s.execute(select(Document.state, func.count()).group_by(Document.state)).all()
            )
            by_pkg = dict(
                s.execute(select(Package.state, func.count()).group_by(Package.state)).all()
            )
            bypass = (
                s.scalar(select(func.count(Document.ma_van_ban)).where(Document.ma_ho_so.is_(None)))
                or 0
            )
        return {
            "documents": {"total": sum(by_state.values()), "by_state": by_state, "bypass": bypass},
            "packages": {
                "pending": by_pkg.get("pending", 0),
                "acked": by_pkg.get("acked", 0),
                "superseded": by_pkg.get("superseded", 0),
            },
        }


def _subject(draft: str, push: dict[str, Any], echo: bool) -> str:
    """The decision's subject: the draft's, naming the applicant when ``echo_identities`` is on."""
    applicant = push.get("ChuHoSo") or push.get("NguoiNop") or ""
    if not echo or not applicant:
        return draft
    return f"{draft} cho ông/bà {applicant.upper()}"[:500]
