"""Each external system's wire format lives in its adapter (``lienthong/clients``), nowhere else.

A deployment maps a vendor change in one file: this test fails when an endpoint name or a raw
JSON key of the portal or iOffice is written anywhere else in the product, and when the product
imports its test rig.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

PRODUCT = ROOT / "include" / "lienthong"
ADAPTERS = PRODUCT / "clients"
IOFFICE_ENDPOINTS = (
    "GuiHoSo",
    "LayDanhSachGoiTinVanBan",
    "LayGoiTinVanBan",
    "CapNhatTrangThaiVanBan",
    "TraCuuHoSo",
    "DanhSachVanBan",
)
PORTAL_ENDPOINTS = ("/pa/dossier", "/fi/file", "openid-connect/token")
NATIONAL_ENDPOINTS = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSoMC", "/api/dvcqg")
NATIONAL_KEYS = (
    "TrangThaiHoSo",
    "NgayHenTra",
    "NgayTiepNhan",
    "NgayKetThucXuLy",
    "ChuHoSo",
    "isUpdating",
    "error_code",
    "TienDo",
    "DanhSachGiayToKetQua",
    "KenhThucHien",
    "DonViXuLy",
)
IOFFICE_KEYS = (
    "MaVanBan",
    "MaHoSo",
    "LoaiKetQua",
    "SoKyHieu",
    "LoaiVanBan",
    "TrichYeu",
    "NgayBanHanh",
    "NgayKy",
    "NguoiKy",
    "ChucVu",
    "DonVi",
    "MaDinhDanh",
    "ThamSoAn",
    "VanBanDi",
    "DinhKem",
    "Base64",
    "TrangThai",
    "NguoiTrinhKy",
    "maDonViCha",
    "tuNgay",
    "denNgay",
    "IDHoSo",
)
PORTAL_KEYS = (
    "dossierStatus",
    "completedDate",
    "updatedDate",
    "acceptedDate",
    "appointmentDate",
    "dueDate",
    "returnedDate",
    "codeNotation",
    "attachment",
    "NoiDungXuLy",
    "NguoiXuLy",
    "ThoiDiemXuLy",
    "statusId",
    "fileId",
    "access_token",
    "updated-from",
    "accepted-from",
    "accepted-to",
    "agency-code",
)


def string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant in the module except docstrings (prose may name the vendor's
    fields)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def outside_adapters() -> list[Path]:
    return [p for p in PRODUCT.rglob("*.py") if ADAPTERS not in p.parents]


def test_vendor_endpoints_and_keys_only_in_the_adapters():
    keys = re.compile(r"\b(" + "|".join(IOFFICE_KEYS + PORTAL_KEYS + NATIONAL_KEYS) + r")\b")
    leaks = []
    for path in outside_adapters():
        for line, text in string_literals(path):
            if keys.search(text) or any(
                e in text for e in IOFFICE_ENDPOINTS + PORTAL_ENDPOINTS + NATIONAL_ENDPOINTS
            ):
                leaks.append(f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}")
    assert leaks == []


def test_the_check_sees_a_leak(tmp_path):
    leaky = tmp_path / "leaky.py"
    leaky.write_text(
        '"""Reads MaVanBan (prose is fine)."""\nDOC = {"MaVanBan": 1}\n', encoding="utf-8"
    )
    assert [text for _, text in string_literals(leaky)] == ["MaVanBan"]


def test_the_product_never_imports_its_test_rig():
    rig = re.compile(r"^\s*(from|import)\s+lienthong_(standins|devstack)\b", re.M)
    offenders = [
        str(p.relative_to(ROOT))
        for p in [
            *PRODUCT.rglob("*.py"),
            *(ROOT / "dags").rglob("*.py"),
            *(ROOT / "plugins").rglob("*.py"),
        ]
        if rig.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert not (PRODUCT / "standins").exists() and not (PRODUCT / "devstack").exists()
