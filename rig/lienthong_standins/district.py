"""The demo district: Hữu Lũng (a Lạng Sơn-like district; all data fake).

Agencies (specialised offices, communes and the town), the procedure catalogue with
how each procedure's result is produced, the officials who handle and sign, and
seeded generators for citizens. Both stand-ins, the scenarios and the routing
configuration are derived from this one module so they agree with each other.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ResultKind = Literal["decision", "direct"]

VI, EN = 228, 46  # iGate languageId values


def object_id(kind: str, key: str) -> str:
    """A stable 24-hex id (MongoDB ObjectId shape, as iGate uses) for a named thing."""
    return hashlib.sha1(f"{kind}:{key}".encode()).hexdigest()[:24]


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics (accounts, e-mail addresses, file names)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    name_en: str
    kind: Literal["district", "office", "commune", "province", "department"]
    short: str  # ascii slug used in officials' accounts

    @property
    def id(self) -> str:
        return object_id("agency", self.code)


@dataclass(frozen=True)
class Sector:
    code: str
    name: str
    name_en: str

    @property
    def id(self) -> str:
        return object_id("sector", self.code)


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    sector: str
    processing_days: int
    result_kind: ResultKind
    document_type: str | None  # QĐ, GCN, GP, GGT for decisions; None for direct results
    offered_by: tuple[str, ...]  # agency codes
    weight: float  # relative frequency
    signer_level: Literal["agency", "district"] = "agency"
    handler_role: Literal["office", "tp", "dc", "vhxh"] = "office"
    forms: tuple[str, ...] = ("Đơn đề nghị",)

    @property
    def id(self) -> str:
        return object_id("procedure", self.code)


DISTRICT = Agency(
    "000.00.30.H36",
    "UBND huyện Hữu Lũng",
    "Huu Lung District People's Committee",
    "district",
    "huulung",
)

OFFICES: tuple[Agency, ...] = (
    Agency(
        "000.30.01.H36",
        "Văn phòng HĐND và UBND huyện Hữu Lũng",
        "Office of the District People's Council and Committee",
        "office",
        "vp",
    ),
    Agency("000.30.02.H36", "Phòng Tư pháp huyện Hữu Lũng", "Justice Office", "office", "tuphap"),
    Agency(
        "000.30.03.H36",
        "Phòng Tài nguyên và Môi trường huyện Hữu Lũng",
        "Natural Resources and Environment Office",
        "office",
        "tnmt",
    ),
    Agency(
        "000.30.04.H36",
        "Phòng Kinh tế và Hạ tầng huyện Hữu Lũng",
        "Economy and Infrastructure Office",
        "office",
        "ktht",
    ),
    Agency(
        "000.30.05.H36",
        "Phòng Lao động - Thương binh và Xã hội huyện Hữu Lũng",
        "Labour, Invalids and Social Affairs Office",
        "office",
        "ldtbxh",
    ),
    Agency(
        "000.30.06.H36", "Phòng Nội vụ huyện Hữu Lũng", "Home Affairs Office", "office", "noivu"
    ),
    Agency(
        "000.30.07.H36",
        "Phòng Tài chính - Kế hoạch huyện Hữu Lũng",
        "Finance and Planning Office",
        "office",
        "tckh",
    ),
    Agency(
        "000.30.08.H36",
        "Phòng Giáo dục và Đào tạo huyện Hữu Lũng",
        "Education and Training Office",
        "office",
        "gddt",
    ),
    Agency(
        "000.30.09.H36",
        "Phòng Văn hóa và Thông tin huyện Hữu Lũng",
        "Culture and Information Office",
        "office",
        "vhtt",
    ),
    Agency("000.30.10.H36", "Phòng Y tế huyện Hữu Lũng", "Health Office", "office", "yte"),
)

_COMMUNE_NAMES = (
    "Thị trấn Hữu Lũng",
    "Xã Đồng Tân",
    "Xã Minh Sơn",
    "Xã Hồ Sơn",
    "Xã Yên Vượng",
    "Xã Yên Thịnh",
    "Xã Hữu Liên",
    "Xã Yên Bình",
    "Xã Quyết Thắng",
    "Xã Hòa Bình",
    "Xã Thiện Tân",
    "Xã Tân Lập",
    "Xã Hòa Lạc",
    "Xã Hòa Sơn",
    "Xã Tân Thành",
    "Xã Vân Nham",
    "Xã Sơn Hà",
    "Xã Cai Kinh",
    "Xã Đồng Tiến",
    "Xã Minh Hòa",
    "Xã Minh Tiến",
    "Xã Nhật Tiến",
)


def _commune(i: int, name: str) -> Agency:
    kind_vi, place = (
        name.split(" ", 1) if not name.startswith("Thị trấn") else ("Thị trấn", name[9:])
    )
    label = f"UBND {name[0].lower()}{name[1:]}"
    en = f"{ascii_fold(place)} {'Town' if kind_vi == 'Thị trấn' else 'Commune'} People's Committee"
    slug = ("tt" if kind_vi == "Thị trấn" else "") + ascii_fold(place).lower().replace(" ", "")
    return Agency(f"000.30.{20 + i:02d}.H36", label, en, "commune", slug)


COMMUNES: tuple[Agency, ...] = tuple(_commune(i, n) for i, n in enumerate(_COMMUNE_NAMES))
AGENCIES: tuple[Agency, ...] = OFFICES + COMMUNES

# --------------------------------------------------------------------------- the province of 2026
# On 1 July 2025 the district was abolished: its offices' work went to the province's departments
# and its 22 communes were merged into 8 (new codes). Six communes of a neighbouring former
# district join the deployment, so the province scenario has more than 20 units. Names follow the
# real reorganisation loosely; codes and people are fake.
REORGANISED = date(2025, 7, 1)  # the first day of the two-tier government
OLD_LAST_DAY = date(2025, 6, 30)

PROVINCE = Agency(
    "000.00.00.H36",
    "UBND tỉnh Lạng Sơn",
    "Lang Son Provincial People's Committee",
    "province",
    "ls",
)
_DEPARTMENTS = (
    ("01", "Văn phòng UBND tỉnh Lạng Sơn", "Provincial Committee Office", "vpubnd"),
    ("02", "Sở Tư pháp tỉnh Lạng Sơn", "Department of Justice", "stp"),
    ("03", "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn", "Agriculture and Environment", "snnmt"),
    ("04", "Sở Xây dựng tỉnh Lạng Sơn", "Department of Construction", "sxd"),
    ("05", "Sở Nội vụ tỉnh Lạng Sơn", "Department of Home Affairs", "snv"),
    ("06", "Sở Tài chính tỉnh Lạng Sơn", "Department of Finance", "stc"),
    ("07", "Sở Giáo dục và Đào tạo tỉnh Lạng Sơn", "Education and Training", "sgddt"),
    (
        "08",
        "Sở Văn hóa, Thể thao và Du lịch tỉnh Lạng Sơn",
        "Culture, Sports and Tourism",
        "svhttdl",
    ),
    ("09", "Sở Y tế tỉnh Lạng Sơn", "Department of Health", "syt"),
)
DEPARTMENTS: tuple[Agency, ...] = tuple(
    Agency(f"000.00.{n}.H36", name, en, "department", slug) for n, name, en, slug in _DEPARTMENTS
)
#: Which department took over each district office (the labour office's social protection went
#: to Health, as in 2025).
_OFFICE_SUCCESSOR = dict(
    zip(
        (o.code for o in OFFICES),
        ("01", "02", "03", "04", "09", "05", "06", "07", "08", "09"),
        strict=True,
    )
)
# New commune -> the old communes merged into it (by index in _COMMUNE_NAMES).
_MERGED = (
    ("Xã Hữu Lũng", (0, 1, 16)),
    ("Xã Tuấn Sơn", (2, 3, 19)),
    ("Xã Tân Thành", (14, 12, 13)),
    ("Xã Vân Nham", (15, 18, 20)),
    ("Xã Thiện Tân", (10, 11, 21)),
    ("Xã Yên Bình", (7, 8, 9)),
    ("Xã Hữu Liên", (6, 5, 4)),
    ("Xã Cai Kinh", (17,)),
)
_NEIGHBOURS = (
    "Xã Chi Lăng",
    "Xã Nhân Lý",
    "Xã Chiến Thắng",
    "Xã Quan Sơn",
    "Xã Bằng Mạc",
    "Xã Vạn Linh",
)


def _new_commune(i: int, name: str) -> Agency:
    place = name.removeprefix("Xã ")
    slug = "x" + ascii_fold(place).lower().replace(" ", "")
    en = f"{ascii_fold(place)} Commune People's Committee"
    return Agency(
        f"000.40.{i + 1:02d}.H36", f"UBND {name[0].lower()}{name[1:]}", en, "commune", slug
    )


NEW_COMMUNES: tuple[Agency, ...] = tuple(
    _new_commune(i, name) for i, name in enumerate([m for m, _ in _MERGED] + list(_NEIGHBOURS))
)
PROVINCE_UNITS: tuple[Agency, ...] = DEPARTMENTS + NEW_COMMUNES
#: Old unit code -> the unit that took over from it on 1 July 2025.
SUCCESSOR: dict[str, str] = {
    DISTRICT.code: PROVINCE.code,
    **{o: f"000.00.{n}.H36" for o, n in _OFFICE_SUCCESSOR.items()},
    **{
        COMMUNES[old].code: NEW_COMMUNES[i].code
        for i, (_, olds) in enumerate(_MERGED)
        for old in olds
    },
}
#: Unit code -> its parent (old offices and communes under the district; new units under the
#: province).
PROVINCE_CODES = frozenset(a.code for a in (PROVINCE, *PROVINCE_UNITS))
PARENT: dict[str, str] = {
    **{a.code: DISTRICT.code for a in AGENCIES},
    **{a.code: PROVINCE.code for a in PROVINCE_UNITS},
}

AGENCY_BY_CODE: dict[str, Agency] = {
    a.code: a for a in (DISTRICT, *AGENCIES, PROVINCE, *PROVINCE_UNITS)
}
#: Relative dossier volume of each commune (the town and large communes file more).
COMMUNE_WEIGHT: dict[str, float] = {
    c.code: (3.0 if i == 0 else 1.0 + (i * 7 % 5) * 0.2) for i, c in enumerate(COMMUNES)
}
# A merged commune files what its old communes did; a neighbouring commune as a mid-sized one.
COMMUNE_WEIGHT |= {
    c.code: sum(COMMUNE_WEIGHT[o] for o, new in SUCCESSOR.items() if new == c.code) or 1.6
    for c in NEW_COMMUNES
}

SECTORS: tuple[Sector, ...] = (
    Sector("G09-TP01", "Chứng thực", "Certification"),
    Sector("G09-TP02", "Hộ tịch", "Civil status"),
    Sector("G09-TP03", "Hòa giải ở cơ sở", "Grassroots mediation"),
    Sector("G09-TN01", "Đất đai", "Land"),
    Sector("G09-XD01", "Hoạt động xây dựng", "Construction"),
    Sector("G09-KH01", "Thành lập và hoạt động của hộ kinh doanh", "Household businesses"),
    Sector("G09-CT01", "Lưu thông hàng hóa trong nước", "Domestic trade"),
    Sector("G09-LD01", "Bảo trợ xã hội", "Social protection"),
    Sector("G09-NV01", "Thi đua - Khen thưởng", "Emulation and commendation"),
    Sector("G09-GD01", "Giáo dục và Đào tạo", "Education and training"),
    Sector("G09-VH01", "Văn hóa cơ sở", "Grassroots culture"),
    Sector("G09-YT01", "An toàn thực phẩm", "Food safety"),
    Sector("G09-TD01", "Giải quyết khiếu nại", "Complaints"),
)
SECTOR_BY_CODE: dict[str, Sector] = {s.code: s for s in SECTORS}

_C = tuple(c.code for c in COMMUNES)
_TP, _TNMT, _KTHT, _LD, _NV, _TCKH, _GD, _VH, _YT, _VP = (
    "000.30.02.H36",
    "000.30.03.H36",
    "000.30.04.H36",
    "000.30.05.H36",
    "000.30.06.H36",
    "000.30.07.H36",
    "000.30.08.H36",
    "000.30.09.H36",
    "000.30.10.H36",
    "000.30.01.H36",
)

PROCEDURES: tuple[Procedure, ...] = (
    # --- results signed directly on the filed papers (portal only)
    Procedure(
        "2.000815",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của "
        "Việt Nam cấp hoặc chứng nhận",
        "G09-TP01",
        1,
        "direct",
        None,
        (_TP, *_C),
        22.0,
        handler_role="tp",
        forms=("Bản chính giấy tờ", "Bản sao cần chứng thực"),
    ),
    Procedure(
        "2.000884",
        "Chứng thực chữ ký trong các giấy tờ, văn bản (áp dụng cho cả trường hợp chứng thực điểm "
        "chỉ và trường hợp người yêu cầu chứng thực không thể ký, không thể điểm chỉ được)",
        "G09-TP01",
        1,
        "direct",
        None,
        (_TP, *_C),
        4.0,
        handler_role="tp",
        forms=("Giấy tờ, văn bản cần chứng thực chữ ký",),
    ),
    Procedure(
        "2.000913",
        "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất và "
        "nhà ở",
        "G09-TP01",
        2,
        "direct",
        None,
        _C,
        3.0,
        handler_role="tp",
        forms=("Dự thảo hợp đồng, giao dịch", "Giấy chứng nhận quyền sử dụng đất"),
    ),
    Procedure(
        "2.001008",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của "
        "nước ngoài cấp hoặc chứng nhận",
        "G09-TP01",
        1,
        "direct",
        None,
        (_TP,),
        0.3,
        forms=("Bản chính giấy tờ đã hợp pháp hóa lãnh sự",),
    ),
    Procedure(
        "1.001193",
        "Đăng ký khai sinh",
        "G09-TP02",
        1,
        "direct",
        None,
        _C,
        4.0,
        handler_role="tp",
        forms=("Tờ khai đăng ký khai sinh", "Giấy chứng sinh"),
    ),
    Procedure(
        "1.000894",
        "Đăng ký kết hôn",
        "G09-TP02",
        1,
        "direct",
        None,
        _C,
        1.2,
        handler_role="tp",
        forms=("Tờ khai đăng ký kết hôn",),
    ),
    Procedure(
        "1.000656",
        "Đăng ký khai tử",
        "G09-TP02",
        1,
        "direct",
        None,
        _C,
        1.0,
        handler_role="tp",
        forms=("Tờ khai đăng ký khai tử", "Giấy báo tử"),
    ),
    Procedure(
        "1.004873",
        "Cấp Giấy xác nhận tình trạng hôn nhân",
        "G09-TP02",
        3,
        "direct",
        None,
        _C,
        2.5,
        handler_role="tp",
        forms=("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân",),
    ),
    Procedure(
        "1.001022",
        "Cấp bản sao Trích lục hộ tịch",
        "G09-TP02",
        1,
        "direct",
        None,
        (_TP, *_C),
        1.5,
        handler_role="tp",
        forms=("Tờ khai cấp bản sao trích lục hộ tịch",),
    ),
    # --- decisions and certificates issued through iOffice
    Procedure(
        "2.000720",
        "Đăng ký thành lập hộ kinh doanh",
        "G09-KH01",
        3,
        "decision",
        "GCN",
        (_TCKH,),
        4.0,
        forms=("Giấy đề nghị đăng ký hộ kinh doanh", "Bản sao giấy tờ pháp lý của cá nhân"),
    ),
    Procedure(
        "2.000575",
        "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
        "G09-KH01",
        3,
        "decision",
        "GCN",
        (_TCKH,),
        2.0,
        forms=("Thông báo thay đổi nội dung đăng ký hộ kinh doanh",),
    ),
    Procedure(
        "1.009794",
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        "G09-XD01",
        15,
        "decision",
        "GP",
        (_KTHT,),
        3.5,
        signer_level="district",
        forms=("Đơn đề nghị cấp giấy phép xây dựng", "Bản vẽ thiết kế xây dựng"),
    ),
    Procedure(
        "1.009799",
        "Cấp giấy phép sửa chữa, cải tạo đối với nhà ở riêng lẻ",
        "G09-XD01",
        15,
        "decision",
        "GP",
        (_KTHT,),
        0.5,
        signer_level="district",
        forms=("Đơn đề nghị cấp giấy phép sửa chữa, cải tạo",),
    ),
    Procedure(
        "2.001240",
        "Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
        "G09-CT01",
        15,
        "decision",
        "GP",
        (_KTHT,),
        0.4,
    ),
    Procedure(
        "2.000633", "Cấp Giấy phép bán lẻ rượu", "G09-CT01", 10, "decision", "GP", (_KTHT,), 0.4
    ),
    Procedure(
        "1.004203",
        "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền đối với hộ "
        "gia đình, cá nhân",
        "G09-TN01",
        15,
        "decision",
        "QĐ",
        (_TNMT,),
        3.0,
        signer_level="district",
        forms=("Đơn xin chuyển mục đích sử dụng đất", "Giấy chứng nhận quyền sử dụng đất"),
    ),
    Procedure(
        "1.004217",
        "Giao đất, cho thuê đất cho hộ gia đình, cá nhân không thông qua hình thức đấu giá quyền "
        "sử dụng đất",
        "G09-TN01",
        20,
        "decision",
        "QĐ",
        (_TNMT,),
        0.4,
        signer_level="district",
    ),
    Procedure(
        "1.001776",
        "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng, hỗ trợ kinh phí chăm sóc, "
        "nuôi dưỡng hằng tháng",
        "G09-LD01",
        20,
        "decision",
        "QĐ",
        (_LD,),
        3.5,
        signer_level="district",
        forms=("Tờ khai đề nghị trợ giúp xã hội",),
    ),
    Procedure(
        "1.001758",
        "Chi trả trợ cấp xã hội hằng tháng, hỗ trợ kinh phí chăm sóc, nuôi dưỡng hằng tháng khi "
        "đối tượng thay đổi nơi cư trú trong cùng địa bàn huyện",
        "G09-LD01",
        10,
        "decision",
        "QĐ",
        (_LD,),
        0.5,
        signer_level="district",
    ),
    Procedure(
        "1.002519",
        "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
        "G09-LD01",
        10,
        "decision",
        "QĐ",
        (_LD,),
        1.2,
        signer_level="district",
        forms=("Tờ khai đề nghị hỗ trợ chi phí mai táng", "Giấy chứng tử"),
    ),
    Procedure(
        "2.000305",
        "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp huyện về thành tích thực hiện nhiệm vụ "
        "chính trị",
        "G09-NV01",
        20,
        "decision",
        "QĐ",
        (_NV,),
        2.0,
        signer_level="district",
        forms=("Tờ trình đề nghị khen thưởng", "Báo cáo thành tích"),
    ),
    Procedure(
        "1.001622",
        "Chuyển trường đối với học sinh trung học cơ sở",
        "G09-GD01",
        3,
        "decision",
        "GGT",
        (_GD,),
        0.8,
        forms=("Đơn xin chuyển trường", "Học bạ"),
    ),
    Procedure(
        "1.001029",
        "Cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke",
        "G09-VH01",
        5,
        "decision",
        "GP",
        (_VH,),
        0.2,
    ),
    Procedure(
        "1.001120",
        "Xét tặng danh hiệu Gia đình văn hóa hằng năm",
        "G09-VH01",
        5,
        "decision",
        "GCN",
        _C,
        2.5,
        handler_role="vhxh",
        forms=("Báo cáo thành tích gia đình",),
    ),
    Procedure(
        "1.003602",
        "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở kinh doanh dịch vụ "
        "ăn uống",
        "G09-YT01",
        15,
        "decision",
        "GCN",
        (_YT,),
        0.4,
        forms=("Đơn đề nghị cấp Giấy chứng nhận", "Bản thuyết minh cơ sở vật chất"),
    ),
    Procedure(
        "1.000748",
        "Công nhận hòa giải viên",
        "G09-TP03",
        3,
        "decision",
        "QĐ",
        _C,
        0.4,
        handler_role="tp",
        forms=("Biên bản bầu hòa giải viên",),
    ),
    Procedure(
        "2.002165",
        "Giải quyết khiếu nại lần đầu tại cấp huyện",
        "G09-TD01",
        30,
        "decision",
        "QĐ",
        (_VP,),
        0.2,
        signer_level="district",
        forms=("Đơn khiếu nại",),
    ),
)
PROCEDURE_BY_CODE: dict[str, Procedure] = {p.code: p for p in PROCEDURES}

DOCUMENT_TYPES: dict[str, str] = {
    "QĐ": "Quyết định",
    "GCN": "Giấy chứng nhận",
    "GP": "Giấy phép",
    "GGT": "Giấy giới thiệu",
}

# --------------------------------------------------------------------------- people

_FAMILY = (
    "Nguyễn",
    "Hoàng",
    "Nông",
    "Lương",
    "Trần",
    "Vi",
    "Lăng",
    "Lê",
    "Phạm",
    "Triệu",
    "Chu",
    "Hà",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Dương",
    "Lý",
    "Mông",
    "Lành",
    "Hứa",
    "Đinh",
)
_FAMILY_W = (18, 12, 9, 7, 7, 6, 4, 6, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 2)
_MIDDLE_M = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thế", "Tiến", "Ngọc", "Mạnh")
_MIDDLE_F = ("Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Phương", "Minh", "Thúy", "Kim", "Bích")
_GIVEN_M = (
    "Hùng",
    "Dũng",
    "Tuấn",
    "Hải",
    "Nam",
    "Sơn",
    "Long",
    "Thắng",
    "Cường",
    "Quân",
    "Huy",
    "Khánh",
    "Tùng",
    "Đạt",
    "Phúc",
    "Hiếu",
    "Tài",
    "Việt",
    "Bình",
    "Toàn",
    "Lâm",
    "Thành",
    "Trung",
    "Kiên",
)
_GIVEN_F = (
    "Lan",
    "Hương",
    "Hoa",
    "Mai",
    "Thảo",
    "Linh",
    "Trang",
    "Hằng",
    "Nga",
    "Yến",
    "Thủy",
    "Hạnh",
    "Dung",
    "Nhung",
    "Huyền",
    "Vân",
    "Loan",
    "Ngân",
    "Hiền",
    "Phượng",
    "Liên",
    "Chi",
    "Quyên",
    "Oanh",
)
_VILLAGES = (
    "Thôn Đồng Mỏ",
    "Thôn Phố Vị",
    "Thôn Làng Trang",
    "Thôn Đồng Bục",
    "Thôn Ba Nàng",
    "Thôn Lân Hoài",
    "Thôn Na Hoa",
    "Thôn Khuôn Thê",
    "Thôn Cầu Lường",
    "Khu Sơn Hà",
    "Khu Minh Khai",
    "Khu Trần Hưng Đạo",
)


@dataclass(frozen=True)
class Person:
    fullname: str
    female: bool
    birth_year: int
    identity_number: str
    phone: str
    email: str
    address: str


def person_name(rng: random.Random, female: bool | None = None) -> tuple[str, bool]:
    """A Vietnamese full name (họ, đệm, tên) with diacritics."""
    if female is None:
        female = rng.random() < 0.5
    family = rng.choices(_FAMILY, _FAMILY_W)[0]
    middle = rng.choice(_MIDDLE_F if female else _MIDDLE_M)
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    return f"{family} {middle} {given}", female


def identity_number(rng: random.Random, female: bool, birth_year: int) -> str:
    """A 12-digit citizen id in the CCCD shape: province 020, century/sex digit, year, serial."""
    century_sex = (0 if birth_year < 2000 else 2) + (1 if female else 0)
    return f"020{century_sex}{birth_year % 100:02d}{rng.randrange(10**6):06d}"


def phone_number(rng: random.Random) -> str:
    return rng.choice(("09", "03", "08")) + f"{rng.randrange(10**8):08d}"


def make_person(rng: random.Random, agency: Agency, year: int = 2022) -> Person:
    name, female = person_name(rng)
    birth = rng.randint(year - 80, year - 18)
    since_2025 = agency.code in PROVINCE_CODES
    place = (
        agency.name.removeprefix("UBND ")
        if agency.kind == "commune"
        else rng.choice(NEW_COMMUNES if since_2025 else COMMUNES).name.removeprefix("UBND ")
    )
    folded = ascii_fold(name).lower().split()
    email = (
        f"{folded[-1]}{''.join(w[0] for w in folded[:-1])}{rng.randrange(100)}@example.com"
        if rng.random() < 0.4
        else ""
    )
    return Person(
        fullname=name,
        female=female,
        birth_year=birth,
        identity_number=identity_number(rng, female, birth),
        phone=phone_number(rng),
        email=email,
        address=f"{rng.choice(_VILLAGES)}, {place}, "
        + ("tỉnh Lạng Sơn" if since_2025 else "huyện Hữu Lũng, tỉnh Lạng Sơn"),
    )


# --------------------------------------------------------------------------- officials


@dataclass(frozen=True)
class Official:
    name: str
    account: str
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "account": self.account, "title": self.title}


@dataclass(frozen=True)
class AgencyStaff:
    head: Official
    handlers: dict[str, Official] = field(default_factory=dict)  # role -> handler


OFFICIALS_SEED = 2022  # fixed: the officials are part of the configuration, not of a scenario


def _account(name: str, short: str, taken: set[str]) -> str:
    words = ascii_fold(name).lower().split()
    base = f"{words[-1]}{''.join(w[0] for w in words[:-1])}.{short}"
    account, n = base, 1
    while account in taken:
        n += 1
        account = f"{base}{n}"
    taken.add(account)
    return account


def _build_staff() -> tuple[dict[str, AgencyStaff], tuple[Official, Official]]:
    rng = random.Random(OFFICIALS_SEED)
    taken: set[str] = set()

    def official(short: str, title: str) -> Official:
        name, _ = person_name(rng)
        return Official(name, _account(name, short, taken), title)

    chair = official(DISTRICT.short, "Chủ tịch UBND huyện")
    vice = official(DISTRICT.short, "Phó Chủ tịch UBND huyện")
    staff: dict[str, AgencyStaff] = {}
    for office in OFFICES:
        head_title = "Chánh Văn phòng HĐND và UBND huyện" if office.code == _VP else "Trưởng phòng"
        staff[office.code] = AgencyStaff(
            official(office.short, head_title), {"office": official(office.short, "Chuyên viên")}
        )
    for commune in COMMUNES:
        unit = "thị trấn" if commune.name.startswith("UBND thị trấn") else "xã"
        staff[commune.code] = AgencyStaff(
            official(commune.short, f"Chủ tịch UBND {unit}"),
            {
                "tp": official(commune.short, "Công chức Tư pháp - Hộ tịch"),
                "dc": official(commune.short, "Công chức Địa chính - Xây dựng"),
                "vhxh": official(commune.short, "Công chức Văn hóa - Xã hội"),
            },
        )
    # The province's people come from their own seed: the district's stay who they were.
    rng.seed(OFFICIALS_SEED + 3)
    province_chair = official(PROVINCE.short, "Chủ tịch UBND tỉnh")
    province_vice = official(PROVINCE.short, "Phó Chủ tịch UBND tỉnh")
    for dept in DEPARTMENTS:
        head_title = "Chánh Văn phòng UBND tỉnh" if dept.short == "vpubnd" else "Giám đốc Sở"
        staff[dept.code] = AgencyStaff(
            official(dept.short, head_title), {"office": official(dept.short, "Chuyên viên")}
        )
    for commune in NEW_COMMUNES:
        staff[commune.code] = AgencyStaff(
            official(commune.short, "Chủ tịch UBND xã"),
            {
                "tp": official(commune.short, "Công chức Văn phòng - Thống kê"),
                "dc": official(commune.short, "Công chức Kinh tế"),
                "vhxh": official(commune.short, "Công chức Văn hóa - Xã hội"),
            },
        )
    return staff, (chair, vice, province_chair, province_vice)


STAFF, (DISTRICT_CHAIR, DISTRICT_VICE_CHAIR, PROVINCE_CHAIR, PROVINCE_VICE_CHAIR) = _build_staff()


def handler_for(procedure: Procedure, agency: Agency) -> Official:
    handlers = STAFF[agency.code].handlers
    return handlers.get(procedure.handler_role) or next(iter(handlers.values()))


def signer_for(procedure: Procedure, agency: Agency) -> Official:
    """The agency's head, or the district's (after 2025 the province's) vice chair for the
    procedures the district's leaders signed."""
    if procedure.signer_level == "district":
        return PROVINCE_VICE_CHAIR if agency.code in PROVINCE_CODES else DISTRICT_VICE_CHAIR
    return STAFF[agency.code].head


def offered_by_on(procedure: Procedure, day: date) -> tuple[str, ...]:
    """The units offering ``procedure`` on ``day``: the district's until 30 June 2025, then
    their successors (a commune procedure is also offered by the neighbouring communes)."""
    if day < REORGANISED:
        return procedure.offered_by
    out = list(dict.fromkeys(SUCCESSOR[c] for c in procedure.offered_by))
    if any(AGENCY_BY_CODE[c].kind == "commune" for c in procedure.offered_by):
        out += [c.code for c in NEW_COMMUNES if c.code not in out]
    return tuple(out)


def unit_weight(code: str) -> float:
    """Relative dossier volume of a unit (the town and large communes file more)."""
    return COMMUNE_WEIGHT.get(code, 4.0)


# --------------------------------------------------------------------------- codes


def dossier_code(agency_code: str, accepted: datetime, sequence: int) -> str:
    """``<agency code>-<yyMMdd>-<4-digit daily sequence per agency>``."""
    return f"{agency_code}-{accepted:%y%m%d}-{sequence:04d}"


def decision_share() -> float:
    """Share of dossier volume whose result is a decision/certificate (by catalogue weights)."""
    total = sum(p.weight for p in PROCEDURES)
    return sum(p.weight for p in PROCEDURES if p.result_kind == "decision") / total
