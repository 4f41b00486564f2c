"""Envelope checks of iOffice result packages (``pipeline.package_checks``): one reason per broken
envelope. The adapter's side (an undecodable body kept as a fact) is in
``tests/clients/test_ioffice_shapes.py``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lienthong.clients.ioffice_shapes import Package, ResultFile, correlation_for
from lienthong.pipeline.package_checks import LinkIdentity, check_package
from lienthong.pipeline.quarantine_causes import RECHECK_BY_REASON
from lienthong_standins.faults import BAD_PACKAGE_VARIANTS

PDF = b"%PDF-1.7\n...signed...\n%%EOF\n"
LINK = LinkIdentity(
    dossier_code="000.30.07.H36-221201-0001", dossier_id="65a1dossier1", doc_id="VB-20221201-00001"
)


def package(**changes) -> Package:
    good = Package(
        doc_id="VB-20221201-00001",
        dossier_code=LINK.dossier_code,
        outcome="01",
        unit_code="000.30.07.H36",
        unit_name="Phòng Tài chính - Kế hoạch",
        correlation=correlation_for(LINK.dossier_id),
        subject="V/v giải quyết hồ sơ",
        doc_type="GCN",
        code_notation="12/GCN-UBND",
        signer="Nguyễn Thu Hiền",
        signer_title="Trưởng phòng",
        signed_on=None,
        promulgated_on=None,
        files=(ResultFile("12_GCN-UBND.pdf", PDF),),
        declared_dossier_id=LINK.dossier_id,
    )
    return replace(good, **changes)


def reason(pkg: Package, link: LinkIdentity = LINK) -> str | None:
    problem = check_package(pkg, link)
    if problem is not None:
        assert problem.message_vi and problem.detail and problem.reason_code in RECHECK_BY_REASON
    return problem.reason_code if problem else None


def test_a_good_package_passes():
    assert reason(package()) is None
    assert (
        reason(package(declared_dossier_id="", correlation="")) is None
    )  # absent is not a contradiction
    assert reason(package(files=(ResultFile("ketqua.PDF", PDF),))) is None
    assert (
        reason(package(), replace(LINK, doc_id=None)) is None
    )  # push answer lost: found by its code


@pytest.mark.parametrize("outcome", ["05", "00", "99", "1", ""])
def test_unknown_outcome(outcome):
    assert reason(package(outcome=outcome)) == "unknown_outcome"


@pytest.mark.parametrize("outcome", ["02", "03", "04"])
def test_known_non_issued_outcomes_need_no_file(outcome):
    assert reason(package(outcome=outcome, files=())) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"dossier_code": "000.30.07.H36-221201-0002"},
        {"correlation": correlation_for("65a1dossier2")},
        {"declared_dossier_id": "65a1dossier2"},
        {"doc_id": "VB-20221201-00002"},  # found by code, but the dossier's document is another
    ],
)
def test_code_mismatch(changes):
    assert reason(package(**changes)) == "code_mismatch"
    assert reason(package(outcome="03", files=(), **changes)) == "code_mismatch"


@pytest.mark.parametrize(
    "files, expected",
    [
        ((), "no_file"),
        ((ResultFile("a.pdf", PDF), ResultFile("a-ban-sao.pdf", PDF)), "many_files"),
        ((ResultFile("a.pdf", b"", decoded=False),), "invalid_base64"),
        ((ResultFile("../../x.pdf", PDF),), "unsafe_file_name"),
        ((ResultFile("a/b.pdf", PDF),), "unsafe_file_name"),
        ((ResultFile("C:\\x.pdf", PDF),), "unsafe_file_name"),
        ((ResultFile("x\x00.pdf", PDF),), "unsafe_file_name"),
        ((ResultFile("..", PDF),), "unsafe_file_name"),
        ((ResultFile("ketqua.exe", PDF),), "wrong_extension"),
        ((ResultFile("ketqua.pdf.html", PDF),), "wrong_extension"),
        ((ResultFile("ketqua.pdf", b""),), "empty_file"),
    ],
)
def test_file_problems(files, expected):
    assert reason(package(files=files)) == expected


def test_every_package_variant_has_a_check():
    covered = {
        "unknown_outcome",
        "code_mismatch",
        "no_file",
        "many_files",
        "invalid_base64",
        "unsafe_file_name",
        "wrong_extension",
        "empty_file",
    }
    assert covered == set(BAD_PACKAGE_VARIANTS)
