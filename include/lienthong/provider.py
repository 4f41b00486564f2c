"""Provider info for Airflow (entry point ``apache_airflow_provider`` in ``pyproject.toml``).

Registers the link's connection types (portal, iOffice, national portal) with their hooks, labelled
fields (Vietnamese first),
placeholders and hidden fields, so ``airflow providers list`` shows the link and the Connections
form of the UI asks for exactly what :mod:`lienthong.clients` reads. Loaded by every Airflow
process that lists providers: keep it free of imports.
"""

from __future__ import annotations

from typing import Any

PACKAGE = "lienthong"
HOOKS_MODULE = "lienthong.orchestration.hooks"


def _text(label: str, description: str, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if default is not None:
        schema["default"] = default
    return {"label": label, "description": description, "schema": schema}


def _number(label: str, description: str, default: float) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": ["number", "null"], "default": default},
    }


TIMEOUT = _number("Thời gian chờ (giây) / timeout", "Seconds to wait for each answer.", 10)
VERIFY = _text(
    "Kiểm tra TLS / verify",
    "Leave empty to verify TLS with the system CAs, or give the path of a "
    "CA bundle. Never turn verification off in production.",
)

PORTAL_TYPE: dict[str, Any] = {
    "connection-type": "igate_portal",
    "hook-class-name": f"{HOOKS_MODULE}.IGatePortalHook",
    "hook-name": "Cổng Một cửa điện tử (VNPT iGate)",
    "conn-fields": {
        "token_path": _text(
            "Đường dẫn lấy token / token path",
            "OIDC token endpoint on the same host (Keycloak realm); empty: the portal "
            "adapter's default.",
        ),
        "page_size": _number("Số hồ sơ mỗi trang / page size", "Dossiers per search page.", 200),
        "timeout": TIMEOUT,
        "verify": VERIFY,
    },
    "ui-field-behaviour": {
        "hidden-fields": [],
        "relabeling": {
            "host": "Máy chủ Cổng Một cửa (host)",
            "schema": "Giao thức (https)",
            "login": "Mã ứng dụng (OIDC client id)",
            "password": "Khóa bí mật (OIDC client secret)",
        },
        "placeholders": {
            "host": "dichvucong.langson.gov.vn",
            "schema": "https",
            "port": "443",
            "login": "lienthong",
            "password": "client secret",
        },
    },
}

IOFFICE_TYPE: dict[str, Any] = {
    "connection-type": "vnpt_ioffice",
    "hook-class-name": f"{HOOKS_MODULE}.IOfficeHook",
    "hook-name": "VNPT-iOffice (liên thông văn bản)",
    "conn-fields": {
        "base_path": _text(
            "Đường dẫn API liên thông / base path",
            "Path of the link API on the host.",
            "/api/lienthong",
        ),
        "auth_scheme": _text(
            "Kiểu xác thực / auth scheme", "Prefix of the Authorization header.", "Bearer"
        ),
        "parent_unit": _text(
            "Mã đơn vị cha / parent unit",
            "Only packages of this unit and its children are read.",
            "",
        ),
        "trust_roots_file": _text(
            "Tệp chứng thư gốc tin cậy / trust roots file",
            "PEM file of the CAs whose signatures are accepted (Ban Cơ yếu Chính phủ, VNPT-CA…).",
        ),
        "crl_url": _text(
            "Địa chỉ CRL / CRL URL",
            "Certificate revocation list of the signers' CA (absolute, or a path on this host).",
        ),
        "crl_max_age": _number(
            "Thời hạn lưu CRL (giây) / CRL max age", "Seconds a fetched CRL is reused.", 3600
        ),
        "max_result_bytes": _number(
            "Dung lượng tối đa tệp kết quả (byte)",
            "Larger result files are refused.",
            12 * 1024 * 1024,
        ),
        "timeout": TIMEOUT,
        "verify": VERIFY,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["login"],
        "relabeling": {
            "host": "Máy chủ iOffice (host)",
            "schema": "Giao thức (https)",
            "password": "Mã xác thực (token)",
        },
        "placeholders": {
            "host": "ioffice.langson.gov.vn",
            "schema": "https",
            "port": "443",
            "password": "token",
        },
    },
}

NATIONAL_CONN_TYPE: dict[str, Any] = {
    "connection-type": "dvcqg",
    "hook-class-name": f"{HOOKS_MODULE}.NationalPortalHook",
    "hook-name": "Cổng Dịch vụ công quốc gia (đồng bộ hồ sơ)",
    "conn-fields": {
        "base_path": _text(
            "Đường dẫn API đồng bộ / base path",
            "Path of the sync API on the host; empty: the national adapter's default.",
        ),
        "batch_size": _number(
            "Số bản ghi mỗi lần gửi / batch size", "Records or steps per call.", 100
        ),
        "timeout": TIMEOUT,
        "verify": VERIFY,
    },
    "ui-field-behaviour": {
        "hidden-fields": [],
        "relabeling": {
            "host": "Máy chủ Cổng DVCQG (host)",
            "schema": "Giao thức (https)",
            "login": "Tên đăng nhập (username)",
            "password": "Mật khẩu (password)",
        },
        "placeholders": {
            "host": "api.dichvucong.gov.vn",
            "schema": "https",
            "port": "443",
            "login": "tài khoản đồng bộ của tỉnh",
            "password": "mật khẩu",
        },
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE,
        "name": "lienthong (Một cửa ↔ VNPT-iOffice)",
        "description": (
            "Links a provincial one-stop portal (VNPT iGate) to VNPT-iOffice: "
            "hooks and connection types."
        ),
        "integrations": [
            {
                "integration-name": "lienthong",
                "external-doc-url": "https://dichvucong.gov.vn/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "lienthong", "python-modules": [HOOKS_MODULE]}],
        "connection-types": [PORTAL_TYPE, IOFFICE_TYPE, NATIONAL_CONN_TYPE],
    }
