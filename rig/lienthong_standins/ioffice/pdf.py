"""Render and sign the decisions the simulated office issues.

The pipeline attaches these files to dossiers and verifies their signatures, so they
are real: a one-page Vietnamese administrative document (Decree 30/2020 layout, DejaVu
fonts because reportlab's built-in fonts lack Vietnamese glyphs) signed PAdES B-B.
"""

from __future__ import annotations

import io
import secrets
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lienthong_standins.ioffice.ca import SigningIdentity

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD, ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"

# Document type code -> title printed on the document.
TITLES = {
    "QĐ": "QUYẾT ĐỊNH",
    "GCN": "GIẤY CHỨNG NHẬN",
    "GP": "GIẤY PHÉP",
    "TB": "THÔNG BÁO",
    "CV": "CÔNG VĂN",
    "XN": "GIẤY XÁC NHẬN",
}

_font_lock = threading.Lock()
_fonts_ready = False


def _register_fonts() -> None:
    global _fonts_ready
    with _font_lock:
        if _fonts_ready:
            return
        italic = ITALIC if (FONT_DIR / f"{ITALIC}.ttf").exists() else REGULAR
        for name in {REGULAR, BOLD, italic}:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))
        pdfmetrics.registerFontFamily(
            REGULAR, normal=REGULAR, bold=BOLD, italic=italic, boldItalic=BOLD
        )
        _fonts_ready = True


@dataclass(frozen=True)
class Decision:
    """What is printed on an issued document."""

    issuing_body: str  # e.g. "Ủy ban nhân dân huyện Hữu Lũng"
    code_notation: str  # e.g. "125/QĐ-UBND"
    document_type: str  # e.g. "QĐ"
    place: str  # e.g. "Hữu Lũng"
    promulgation_date: date
    subject: str  # TrichYeu
    dossier_code: str  # MaHoSo ("" for documents that never came from the portal)
    applicant: str
    procedure: str
    signer_name: str
    signer_title: str  # e.g. "Chủ tịch"
    drafter: str = ""


def _body_lines(d: Decision) -> list[str]:
    base = [
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Luật sửa đổi, "
        "bổ sung một số điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính quyền địa phương "
        "ngày 22 tháng 11 năm 2019;"
    ]
    if d.dossier_code:
        base.append(
            f"Căn cứ hồ sơ số <b>{escape(d.dossier_code)}</b> của <b>{escape(d.applicant)}</b> "
            f"đề nghị giải quyết thủ tục hành chính “{escape(d.procedure)}”;"
        )
    else:
        base.append(f"Xét tình hình thực tế và nhiệm vụ được giao về {escape(d.subject.lower())};")
    if d.drafter:
        base.append(f"Theo đề nghị của {escape(d.drafter)}.")
    return base


def _articles(d: Decision) -> list[str]:
    who = f" cho {escape(d.applicant)}" if d.applicant else ""
    matter = d.subject.removeprefix("Về việc ").removeprefix("về việc ")
    return [
        f"<b>Điều 1.</b> {escape(matter[:1].upper() + matter[1:])}{who}.",
        f"<b>Điều 2.</b> {_title(d).capitalize()} này có hiệu lực kể từ ngày ký.",
        "<b>Điều 3.</b> Chánh Văn phòng HĐND và UBND, Thủ trưởng các cơ quan, đơn vị và "
        "cá nhân có liên quan chịu trách nhiệm thi hành.",
    ]


def _title(d: Decision) -> str:
    return TITLES.get(d.document_type, "VĂN BẢN")


def render_decision_pdf(d: Decision, *, encrypted: bool = False) -> bytes:
    """A one-page decision/certificate as PDF bytes (unsigned).

    ``encrypted`` (the ``encrypted`` fault): encrypted (RC4-128) with an empty user password and a
    random owner password, as an office tool that "protects" its output does; it opens without a
    password but cannot be archived or re-checked as it is.
    """
    _register_fonts()

    def s(name: str, **kw) -> ParagraphStyle:
        return ParagraphStyle(name, **{"fontName": REGULAR, "fontSize": 11, "leading": 14, **kw})

    center_b = s("cb", alignment=TA_CENTER, fontName=BOLD)
    center = s("c", alignment=TA_CENTER)
    body = s("b", alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=4)
    left_small = s("ls", alignment=TA_LEFT, fontSize=9, leading=11)
    title = s("t", alignment=TA_CENTER, fontName=BOLD, fontSize=14, leading=18, spaceBefore=8)

    body_upper = d.issuing_body.upper()
    committee = "ỦY BAN NHÂN DÂN "
    if body_upper.startswith(committee):
        body_lines = f"{committee.strip()}<br/>{escape(body_upper[len(committee) :])}"
    else:
        body_lines = escape(body_upper)
    dt = d.promulgation_date
    header = Table(
        [
            [
                Paragraph(f"<b>{body_lines}</b><br/>———", center),
                Paragraph(
                    "<b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br/>"
                    "<u><b>Độc lập - Tự do - Hạnh phúc</b></u>",
                    center,
                ),
            ],
            [
                Paragraph(f"Số: {escape(d.code_notation)}", center),
                Paragraph(
                    f"<i>{escape(d.place)}, ngày {dt.day:02d} tháng {dt.month:02d} năm "
                    f"{dt.year}</i>",
                    center,
                ),
            ],
        ],
        colWidths=[70 * mm, 100 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    leader = f"{d.signer_title.upper()} {d.issuing_body.upper()}"
    story = [
        header,
        Paragraph(_title(d), title),
        Paragraph(f"<b>{escape(d.subject)}</b>", center_b),
        Spacer(1, 4 * mm),
        Paragraph(f"<b>{escape(leader)}</b>", center_b),
        Spacer(1, 3 * mm),
    ]
    story += [Paragraph(line, body) for line in _body_lines(d)]
    story.append(
        Paragraph(f"<b>{_title(d)}:</b>", center_b)
        if d.document_type == "QĐ"
        else Spacer(1, 2 * mm)
    )
    story += [Paragraph(line, body) for line in _articles(d)]
    story.append(Spacer(1, 6 * mm))
    recipients = "<b><i>Nơi nhận:</i></b><br/>- Như Điều 3;<br/>- Lưu: VT."
    if d.dossier_code:
        recipients = recipients.replace(
            "- Lưu", "- Bộ phận Một cửa (hồ sơ " + escape(d.dossier_code) + ");<br/>- Lưu"
        )
    signer = Table(
        [
            [
                Paragraph(recipients, left_small),
                Paragraph(
                    f"<b>{escape(d.signer_title.upper())}</b><br/><br/><i>(Đã ký số)</i><br/><br/>"
                    f"<b>{escape(d.signer_name)}</b>",
                    center,
                ),
            ]
        ],
        colWidths=[80 * mm, 90 * mm],
    )
    signer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(signer)

    buf = io.BytesIO()
    encrypt = (
        StandardEncryption(
            "", ownerPassword=secrets.token_hex(8), canModify=0, canCopy=0, strength=128
        )
        if encrypted
        else None
    )
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        encrypt=encrypt,
        title=f"{_title(d)} {d.code_notation}",
        author=d.issuing_body,
        subject=d.subject,
        creator="VNPT-iOffice stand-in (lienthong)",
    )
    doc.build(story)
    return buf.getvalue()


def load_cert(pem: bytes):
    """The single certificate in ``pem`` as an asn1crypto certificate (what pyHanko wants)."""
    (cert,) = load_certs_from_pemder_data(pem)
    return cert


def sign_pdf(
    pdf: bytes,
    identity: SigningIdentity,
    *,
    reason: str = "Ban hành văn bản",
    location: str = "Hữu Lũng, Lạng Sơn",
    field_name: str = "ChuKySo",
) -> bytes:
    """Sign ``pdf`` PAdES B-B (SubFilter ETSI.CAdES.detached) with ``identity``."""
    ca = load_cert(identity.ca_cert_pem)
    signer = signers.SimpleSigner(
        signing_cert=load_cert(identity.cert_pem),
        signing_key=load_private_key_from_pemder_data(identity.key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs([ca]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if writer.prev.encrypted:
        writer.encrypt("")  # the empty user password of an "encrypted" fault file
    # A fixed reservation skips pyHanko's dummy signature used to estimate the size.
    out = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=8192)
    return out.getvalue()
