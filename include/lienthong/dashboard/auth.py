"""Authentication for the plugin app, which Airflow mounts without any, and its refusals.

Every route depends on Airflow's own ``get_user`` (``airflow.api_fastapi.core_api.security``): it
resolves the user from an ``Authorization: Bearer`` JWT or the ``_token`` cookie the UI sets at
login,
with the configured auth manager. Anonymous browser page views are sent to Airflow's login page;
everything else gets the 401/403 itself. State-changing POSTs from a cookie session must also carry
a
form token bound to the user (the cookie is SameSite=Lax already; this is the second lock).
What a signed-in user may do is :mod:`lienthong.dashboard.access`'s question; a "no" is
:class:`Forbidden`, answered in Vietnamese (an HTML page to browsers, JSON otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import lru_cache

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import get_user
from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from lienthong.dashboard.access import FORBIDDEN_VI

__all__ = ["get_user", "username", "form_token", "check_form_token", "error_handler", "Forbidden"]

# Generic English details of Starlette/Airflow, as officials should read them.
DETAILS_VI = {
    "Not Found": "Không tìm thấy trang này.",
    "Method Not Allowed": "Thao tác này không được hỗ trợ.",
    "Invalid JWT token": "Phiên đăng nhập không hợp lệ. Vui lòng đăng nhập lại Airflow.",
}


class Forbidden(HTTPException):
    """The auth manager said no: 403 with the Vietnamese explanation."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, FORBIDDEN_VI)


def username(user: BaseUser) -> str:
    return user.get_name() or user.get_id() or "unknown"


@lru_cache(maxsize=1)
def _secret() -> str:
    """Airflow's shared ``[api] secret_key`` so every api-server worker agrees; random if unset."""
    # read when first needed, not when the plugin loads
    from airflow.configuration import conf  # noqa: PLC0415

    return conf.get("api", "secret_key", fallback="") or secrets.token_hex(32)


def token_for(secret: str, name: str) -> str:
    """The form token of user ``name`` under ``secret`` (pure: tests compute it the same way)."""
    key = hashlib.sha256(b"lienthong-dashboard-form:" + secret.encode()).digest()
    return hmac.new(key, name.encode(), hashlib.sha256).hexdigest()


def form_token(user: BaseUser) -> str:
    return token_for(_secret(), username(user))


def check_form_token(request: Request, user: BaseUser, token: str | None) -> None:
    """Bearer callers are not exposed to CSRF (browsers never add the header); cookie callers need
    the token."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if not token or not hmac.compare_digest(token, form_token(user)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Phiên làm việc không hợp lệ (thiếu mã biểu mẫu)"
        )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_handler(render_error: Callable[[Request, int, str], Response]):
    """The app's HTTP error handler; ``render_error`` draws the Vietnamese error page for
    browsers."""

    async def handle(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            if request.method == "GET" and _wants_html(
                request
            ):  # anonymous page view -> Airflow's login
                # Why not at the top: the plugin is imported while Airflow's api app is being built
                from airflow.api_fastapi.app import get_auth_manager  # noqa: PLC0415

                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(
                    get_auth_manager().get_url_login(next_url=target), status_code=303
                )
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        if _wants_html(request) and isinstance(exc.detail, str):
            response = render_error(
                request, exc.status_code, DETAILS_VI.get(exc.detail, exc.detail)
            )
            for name, value in (exc.headers or {}).items():
                response.headers.setdefault(name, value)
            return response
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    return handle
