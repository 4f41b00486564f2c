"""Airflow hooks for the portal, iOffice and the national portal: connection types, a Test button,
the clients.

Thin on purpose (Mozilla telemetry-airflow's pattern): ``get_conn()`` returns the plain clients the
pipeline already uses (:class:`PortalClient`, :class:`IOfficeClient`), built from the Connection by
the one adapter per system; the pipeline never sees Airflow. Their connection types, labelled
fields and placeholders are declared in :mod:`lienthong.provider` (Airflow 3 reads the form from
provider info, not from hook code, so the api-server need not import hooks to draw it).

Why not ``HttpHook``: its ``run()`` opens a new ``requests.Session`` per call (no connection
reuse across a batch's hundreds of calls; ``benchmarks/http_hook.py`` measures the cost), and its
``get_conn()`` must return a ``Session``, not a client. What the HTTP provider offers that the link
needs — the Connection's host/schema/port/login/password/extra — is read the same way here.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from lienthong.clients.errors import (
    ConnectionFailed,
    CredentialsRefused,
    MalformedAnswer,
    Misconfigured,
    RemoteError,
    TLSFailed,
)
from lienthong.clients.http import RetryPolicy
from lienthong.clients.ioffice import (
    IOfficeAsyncClient,
    IOfficeClient,
    IOfficeSettings,
    RevocationUnavailable,
)
from lienthong.clients.national import NationalClient, NationalSettings
from lienthong.clients.portal import PortalClient, PortalSettings

QUICK = RetryPolicy(attempts=1)  # a connection test answers at once: no retries behind the button


def register_secret(value: str) -> None:
    """A credential obtained at run time (the portal's OIDC token, a DVCQG session): registered
    with Airflow's secrets masker, in the task process and its supervisor, so no log line shows it.
    Connection passwords Airflow masks by itself; these never pass through a Connection."""
    mask_secret(value)


def _why_vi(exc: BaseException, system_vi: str) -> str:
    """What failed, in words an operator acts on (the English cause after the dash)."""
    if isinstance(exc, TLSFailed):
        return f"Lỗi chứng chỉ TLS khi kết nối {system_vi} — {exc}"
    if isinstance(exc, ConnectionFailed):
        return (
            f"Không kết nối được tới {system_vi} (sai địa chỉ, cổng, hoặc máy chủ không phản hồi)"
            f" — {exc}"
        )
    if isinstance(exc, CredentialsRefused):
        return (
            f"{system_vi} từ chối thông tin đăng nhập (sai mã ứng dụng, khóa bí mật hoặc mã xác"
            f" thực) — {exc}"
        )
    if isinstance(exc, RevocationUnavailable):
        return f"Không tải được danh sách chứng thư thu hồi (CRL) cấu hình cho {system_vi} — {exc}"
    if isinstance(exc, MalformedAnswer):
        return f"{system_vi} trả lời không đúng định dạng của API — {exc}"
    if isinstance(exc, (Misconfigured, OSError, ValueError, KeyError)):
        return f"Cấu hình kết nối {system_vi} không hợp lệ — {type(exc).__name__}: {exc}"
    if isinstance(exc, RemoteError):  # a 5xx, a refused request, a session that does not hold
        return f"{system_vi} trả lời lỗi — {exc}"
    return f"Lỗi khi kiểm tra kết nối {system_vi} — {type(exc).__name__}"


class IGatePortalHook(BaseHook):
    """The one-stop portal (VNPT iGate style): OIDC client credentials, dossier API."""

    conn_name_attr = "portal_conn_id"
    default_conn_name = "lienthong_portal"
    conn_type = "igate_portal"
    hook_name = "Cổng Một cửa điện tử (VNPT iGate)"

    def __init__(self, portal_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.portal_conn_id = portal_conn_id

    def settings(self, **overrides: Any) -> PortalSettings:
        return PortalSettings.from_connection(self.get_connection(self.portal_conn_id), **overrides)

    def get_conn(self) -> PortalClient:
        return PortalClient(self.settings(), on_secret=register_secret)

    def test_connection(self) -> tuple[bool, str]:
        """Log in for real (OIDC token), then one cheap authenticated read."""
        try:
            client = PortalClient(self.settings(retry=QUICK), on_secret=register_secret)
        except Exception as exc:  # noqa: BLE001 - the Test button reports every cause, as text
            return False, _why_vi(exc, "Cổng Một cửa")
        try:
            client.log_in()
            client.search({"page": 0, "size": 1})
        except Exception as exc:  # noqa: BLE001 - as above: any cause becomes the message
            return False, _why_vi(exc, "Cổng Một cửa")
        finally:
            client.close()
        return True, "Kết nối Cổng Một cửa thành công: đăng nhập OIDC và đọc danh sách hồ sơ được."


class IOfficeHook(BaseHook):
    """VNPT-iOffice's inter-system link API: token auth, push, result packages, trust roots and
    CRL."""

    conn_name_attr = "ioffice_conn_id"
    default_conn_name = "lienthong_ioffice"
    conn_type = "vnpt_ioffice"
    hook_name = "VNPT-iOffice (liên thông văn bản)"

    def __init__(self, ioffice_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ioffice_conn_id = ioffice_conn_id

    def settings(self, *, with_trust_roots: bool = True, **overrides: Any) -> IOfficeSettings:
        conn = self.get_connection(self.ioffice_conn_id)
        return IOfficeSettings.from_connection(conn, with_trust_roots=with_trust_roots, **overrides)

    def get_conn(self) -> IOfficeClient:
        return IOfficeClient(self.settings())

    @classmethod
    async def async_client(cls, conn_id: str = default_conn_name) -> IOfficeAsyncClient:
        """For the triggerer: the Connection read with the async lookup; no trust roots needed to
        poll."""
        conn = await cls.aget_connection(conn_id)
        return IOfficeAsyncClient(IOfficeSettings.from_connection(conn, with_trust_roots=False))

    def test_connection(self) -> tuple[bool, str]:
        """An authenticated list of pending packages (read-only), then the CRL when one is
        configured."""
        try:
            client = IOfficeClient(self.settings(retry=QUICK))
        except Exception as exc:  # noqa: BLE001 - as above: any cause becomes the message
            return False, _why_vi(exc, "iOffice")
        try:
            client.pending_doc_ids()
            crl_note = ""
            if client.settings.crl_url:
                client.crls()
                crl_note = " Đã tải được danh sách chứng thư thu hồi (CRL)."
        except Exception as exc:  # noqa: BLE001 - as above: any cause becomes the message
            return False, _why_vi(exc, "iOffice")
        finally:
            client.close()
        return (
            True,
            "Kết nối iOffice thành công: mã xác thực hợp lệ, đọc được danh sách gói tin."
            + crl_note,
        )


class NationalPortalHook(BaseHook):
    """The national public-service portal's sync service (DVCQG): session login, records, steps."""

    conn_name_attr = "national_conn_id"
    default_conn_name = "lienthong_dvcqg"
    conn_type = "dvcqg"
    hook_name = "Cổng Dịch vụ công quốc gia (đồng bộ hồ sơ)"

    def __init__(self, national_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.national_conn_id = national_conn_id

    def settings(self, **overrides: Any) -> NationalSettings:
        return NationalSettings.from_connection(
            self.get_connection(self.national_conn_id), **overrides
        )

    def get_conn(self) -> NationalClient:
        return NationalClient(self.settings(), on_secret=register_secret)

    def test_connection(self) -> tuple[bool, str]:
        """Log in for real (a session), then one read that needs it."""
        try:
            client = NationalClient(self.settings(retry=QUICK), on_secret=register_secret)
        except Exception as exc:  # noqa: BLE001 - as above: any cause becomes the message
            return False, _why_vi(exc, "Cổng DVCQG")
        try:
            client.log_in()
            client.held([])
        except Exception as exc:  # noqa: BLE001 - as above: any cause becomes the message
            return False, _why_vi(exc, "Cổng DVCQG")
        finally:
            client.close()
        return True, "Kết nối Cổng DVCQG thành công: đăng nhập được và nhận phiên làm việc."
