"""The iOffice adapter's reading of a result package (``clients.ioffice_shapes``): a body that does
not decode is kept as a fact (never raises, never silently turns into an empty file)."""

from __future__ import annotations

import base64

from lienthong.clients.ioffice_shapes import ResultFile, to_package

PDF = b"%PDF-1.7\n...signed...\n%%EOF\n"


def _wire(b64: object, name: object = "12_GCN-UBND.pdf") -> dict:
    return {
        "MaVanBan": "VB-1",
        "LoaiKetQua": "01",
        "IDHoSo": "65a1dossier1",
        "VanBanDi": {"DinhKem": [{"Ten": name, "Base64": b64}]},
    }


def test_adapter_keeps_the_fact_that_base64_did_not_decode():
    good = base64.b64encode(PDF).decode()
    assert to_package("VB-1", _wire(good)).files[0] == ResultFile(
        "12_GCN-UBND.pdf", PDF, decoded=True
    )
    wrapped = "\r\n".join(
        good[i : i + 8] for i in range(0, len(good), 8)
    )  # MIME-style line breaks are fine
    assert to_package("VB-1", _wire(wrapped)).files[0].content == PDF
    for broken in (good.replace("+", "&#43;") + "&#43;", good[:-1], "@@@@", 12345):
        file = to_package("VB-1", _wire(broken)).files[0]
        assert (file.content, file.decoded) == (b"", False), broken
    assert to_package("VB-1", _wire("")).files[0] == ResultFile(
        "12_GCN-UBND.pdf", b"", decoded=True
    )
    assert to_package("VB-1", _wire(good)).declared_dossier_id == "65a1dossier1"
