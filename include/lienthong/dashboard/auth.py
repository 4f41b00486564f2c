"""Authentication for the plugin app, which Airflow mounts without any.

Every route depends on Airflow's own ``get_user`` (``airflow.api_fastapi.core_api.security``): it
resolves the user from an ``Authorization: Bearer`` JWT or the ``_token`` cookie the UI sets at login,
with the configured auth manager. Anonymous browser page views are sent to Airflow's login page;
everything else gets the 401/403 itself. State-changing POSTs from a cookie session must also carry a
form token bound to the user (the cookie is SameSite=Lax already; this is the second lock).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import get_user

__all__ = ["get_user", "username", "form_token", "check_form_token", "auth_error_handler"]


def username(user: BaseUser) -> str:
    return user.get_name() or user.get_id() or "unknown"


@lru_cache(maxsize=1)
def _key() -> bytes:
    """Airflow's shared ``[api] secret_key`` so every api-server worker agrees; random if unset."""
    from airflow.configuration import conf

    secret = conf.get("api", "secret_key", fallback="") or secrets.token_hex(32)
    return hashlib.sha256(b"lienthong-dashboard-form:" + secret.encode()).digest()


def form_token(user: BaseUser) -> str:
    return hmac.new(_key(), username(user).encode(), hashlib.sha256).hexdigest()


def check_form_token(request: Request, user: BaseUser, token: str | None) -> None:
    """Bearer callers are not exposed to CSRF (browsers never add the header); cookie callers need the token."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if not token or not hmac.compare_digest(token, form_token(user)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Phiên làm việc không hợp lệ (thiếu mã biểu mẫu)")


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def auth_error_handler(request: Request, exc: HTTPException) -> Response:
    """Anonymous page view -> Airflow's login page (then back here); never any content."""
    if exc.status_code == status.HTTP_401_UNAUTHORIZED and _wants_html(request):
        from airflow.api_fastapi.app import get_auth_manager

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(get_auth_manager().get_url_login(next_url=target), status_code=303)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
