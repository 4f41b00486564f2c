"""The signed-PDF verdict's newer branches, each with its own reason: expired or revoked signer
certificate, a later revision, encryption, the wrong signer; and where the CRL comes from."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from lienthong.clients.ioffice import IOfficeSettings
from lienthong.pipeline.results import _expected_signer
from lienthong.pipeline.verify_result import ExpectedSigner, signed_by, verify_signed_pdf
from lienthong_standins.ioffice import results
from lienthong_standins.ioffice.ca import TrustedCA, load_or_create_cas
from lienthong_standins.ioffice.pdf import sign_pdf
from lienthong_standins.routing import demo_routing

# Pure logic (``make test-fast``): the fixtures below make keys, certificates and PDFs in memory.
pytestmark = pytest.mark.fast

MAX = 10 * 1024 * 1024
SIGNER = ExpectedSigner(account="hiennt.tckh", name="Nguyễn Thu Hiền")


def small_pdf(encrypted: bool = False) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(
        buf, encrypt=StandardEncryption("", ownerPassword="o", canModify=0) if encrypted else None
    )
    c.drawString(72, 720, "Quyet dinh so 12/QD-UBND")
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> TrustedCA:
    return load_or_create_cas(tmp_path_factory.mktemp("ca")).trusted_ca


@pytest.fixture(scope="module")
def env(ca):
    crl = ca.crl_der()
    roots = ca.ca_cert_pem.decode()

    def verify(pdf: bytes, *, crls=(crl,), expected=SIGNER):
        return verify_signed_pdf(pdf, roots, MAX, crls=crls, expected_signer=expected)

    ca.signer(
        SIGNER.account, SIGNER.name
    )  # issues the kit: the revoked one is on CRLs made from now
    return SimpleNamespace(
        verify=verify,
        crl=ca.crl_der(),
        good=sign_pdf(small_pdf(), ca.signer(SIGNER.account, SIGNER.name)),
    )


def test_the_genuine_signature_passes_with_and_without_crl(env):
    assert env.verify(env.good, crls=(env.crl,)).ok
    assert env.verify(env.good, crls=()).ok
    assert env.verify(env.good, expected=None).ok


def test_expired_certificate(env, ca):
    v = env.verify(
        sign_pdf(small_pdf(), ca.signer(SIGNER.account, SIGNER.name, "expired")), crls=(env.crl,)
    )
    assert (v.ok, v.reason_code) == (False, "expired_certificate") and "hết hạn" in v.message_vi


def test_revoked_certificate_only_with_a_crl(env, ca):
    pdf = sign_pdf(small_pdf(), ca.signer(SIGNER.account, SIGNER.name, "revoked"))
    v = env.verify(pdf, crls=(env.crl,))
    assert (v.ok, v.reason_code) == (False, "revoked_certificate") and "thu hồi" in v.message_vi
    assert env.verify(pdf, crls=()).ok  # no CRL configured: revocation is not checked (documented)


def test_a_later_revision_is_modified_after_signing_and_bytes_after_eof_are_not(env):
    v = env.verify(results.modify_after_signing(env.good))
    assert (v.ok, v.reason_code) == (
        False,
        "modified_after_signing",
    ) and "chỉnh sửa" in v.message_vi
    assert env.verify(env.good + b"\n% appended\n").reason_code == "not_entire_file"


def test_encrypted_before_signatures(env, ca):
    assert env.verify(small_pdf(encrypted=True)).reason_code == "encrypted"
    signed = sign_pdf(small_pdf(encrypted=True), ca.signer(SIGNER.account, SIGNER.name))
    v = env.verify(signed)
    assert (v.ok, v.reason_code) == (False, "encrypted") and "mã hóa" in v.message_vi


def test_wrong_signer(env, ca):
    clerk = sign_pdf(small_pdf(), ca.clerk("000.30.07.H36", "Phòng Tài chính - Kế hoạch"))
    v = env.verify(clerk)
    assert (v.ok, v.reason_code) == (False, "wrong_signer") and "thẩm quyền" in v.message_vi
    assert "hiennt.tckh" in v.detail
    assert env.verify(clerk, expected=None).ok  # no route to compare with: not this check's call
    # The signer plus a clerk's signature beside it (an issuing stamp) is fine.
    stamped = sign_pdf(
        env.good, ca.clerk("000.30.07.H36", "Phòng Tài chính - Kế hoạch"), field_name="DongDau"
    )
    assert env.verify(stamped).ok


def test_signer_identity_rule():
    assert signed_by({"common_name": "Nguyễn Thu Hiền", "user_id": "HienNT.TCKH"}, SIGNER)
    assert not signed_by(
        {"common_name": "Nguyễn Thu Hiền", "user_id": "vanthu.tckh"}, SIGNER
    )  # UID decides
    assert signed_by(
        {"common_name": "nguyễn  thu hiền"}, SIGNER
    )  # no UID: the name, case-insensitively
    decomposed = "Nguye\u0302\u0303n Thu Hie\u0302\u0300n"  # NFD input normalised
    assert signed_by({"common_name": decomposed}, SIGNER)
    assert not signed_by({"common_name": "Nguyễn Thu Hà"}, SIGNER)
    assert not signed_by({"common_name": "Nguyễn Thu Hiền", "user_id": ""}, ExpectedSigner("", "x"))


def test_crl_url_from_the_connection():
    conn = SimpleNamespace(
        host="ioffice.local",
        port=8702,
        schema="https",
        password="t",
        extra_dejson={
            "base_path": "/api/lienthong",
            "crl_url": "/ca/crl.der",
            "trust_roots_pem": "x",
        },
    )
    assert IOfficeSettings.from_connection(conn).crl_url == "https://ioffice.local:8702/ca/crl.der"
    conn.extra_dejson["crl_url"] = "http://crl.ca.vn/vnpt.crl"
    assert IOfficeSettings.from_connection(conn).crl_url == "http://crl.ca.vn/vnpt.crl"
    assert IOfficeSettings.from_connection(conn, with_trust_roots=False).crl_url == ""
    del conn.extra_dejson["crl_url"]
    assert IOfficeSettings.from_connection(conn).crl_url == ""


def test_expected_signer_is_the_certificate_uid_when_the_routing_gives_one():
    """The iOffice account and the certificate's UID may differ (a CCCD number in real
    certificates)."""

    routing = demo_routing().model_copy(deep=True)
    code, proc = next((c, p) for c, p in routing.procedures.items() if p.units)
    agency, unit = next(iter(proc.units.items()))
    link = SimpleNamespace(
        procedure_code=code, agency_code=agency, routed_signer_uid=None, routed_signer_name=None
    )
    assert _expected_signer(SimpleNamespace(routing=routing), link).account == unit.signer.account
    unit.signer.certificate_uid = "CCCD:001086000123"
    assert _expected_signer(SimpleNamespace(routing=routing), link).account == "CCCD:001086000123"
    # Sent before the routing changed (a reorganisation): the signer it was sent to.
    link.routed_signer_uid, link.routed_signer_name = "chihm.huulung", "Hà Minh Chi"
    signer = _expected_signer(SimpleNamespace(routing=routing), link)
    assert (signer.account, signer.name) == ("chihm.huulung", "Hà Minh Chi")
