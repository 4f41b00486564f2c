"""Authentication for the plugin app, which Airflow mounts without any, and its refusals.

Every route depends on Airflow's own ``get_user`` (``airflow.api_fastapi.core_api.security``): it
resolves the user from an ``Authorization: Bearer`` JWT or the ``_token`` cookie the UI sets at
login,
with the configured auth manager. Anonymous browser page views are sent to Airflow's login page;
everything else gets the 401/403 itself. State-changing POSTs from a cookie session must also carry
a
form token bound to the user that expires (:data:`FORM_TOKEN_MAX_AGE`; the cookie is SameSite=Lax
already; this is the second lock).
What a signed-in user may do is :mod:`lienthong.dashboard.access`'s question; a "no" is
:class:`Forbidden`, answered in Vietnamese (an HTML page to browsers, JSON otherwise).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import get_user
from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import BadData, SignatureExpired, TimestampSigner

from lienthong.dashboard.access import FORBIDDEN_VI

__all__ = ["get_user", "username", "form_token", "check_form_token", "error_handler", "Forbidden"]

log = logging.getLogger(__name__)

# How long a page's form token is accepted: a page left open longer is reloaded before it acts.
FORM_TOKEN_MAX_AGE = timedelta(hours=2)
FORM_TOKEN_VALUE = b"lienthong-form-v1"  # what is signed; the user is bound by the signer's salt
FORM_TOKEN_MAX_LENGTH = 200  # a real token is ~60 ASCII characters; longer is not worth checking
FORM_INVALID_VI = (
    "Phiên làm việc không hợp lệ (thiếu hoặc sai mã biểu mẫu). Vui lòng tải lại trang rồi thử lại."
)
FORM_EXPIRED_VI = "Biểu mẫu đã hết hạn. Vui lòng tải lại trang rồi thử lại."

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


class _FormSigner(TimestampSigner):
    """itsdangerous' timestamped HMAC, keyed by the shared secret and salted with the user's name
    (a token of one user is no token of another); ``issued_at`` fixes the issue time (tests)."""

    def __init__(self, secret: str, name: str, issued_at: int | None = None) -> None:
        super().__init__(
            secret, salt=f"lienthong-dashboard-form:{name}", digest_method=hashlib.sha256
        )
        self._issued_at = issued_at

    def get_timestamp(self) -> int:
        return super().get_timestamp() if self._issued_at is None else self._issued_at


def token_for(secret: str, name: str, issued_at: datetime | None = None) -> str:
    """The form token of user ``name`` under ``secret``, issued now or at ``issued_at`` (pure:
    tests compute it the same way). It carries its issue time, so it expires."""
    stamp = None if issued_at is None else int(issued_at.timestamp())
    return _FormSigner(secret, name, stamp).sign(FORM_TOKEN_VALUE).decode("ascii")


def form_token(user: BaseUser) -> str:
    return token_for(_secret(), username(user))


def _token_problem(secret: str, name: str, token: str | None) -> str | None:
    """Why ``token`` is not a live form token of ``name`` (English, for the log), or ``None``.
    Every malformed input (missing, non-ASCII, too long, tampered, from the future) is a reason,
    never an exception."""
    if not token:
        return "missing"
    if len(token) > FORM_TOKEN_MAX_LENGTH or not token.isascii():
        return "malformed"
    try:
        value = _FormSigner(secret, name).unsign(
            token, max_age=int(FORM_TOKEN_MAX_AGE.total_seconds())
        )
    except SignatureExpired as exc:
        future = exc.date_signed is not None and exc.date_signed > datetime.now(UTC)
        return "issued in the future" if future else "expired"
    except BadData:
        return "bad signature"
    return None if value == FORM_TOKEN_VALUE else "bad value"


def check_form_token(request: Request, user: BaseUser, token: str | None) -> None:
    """Bearer callers are not exposed to CSRF (browsers never add the header); cookie callers need
    a live token of their own. Checked before anything is written (the audit included), so a
    forged request leaves no trace in another person's name."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    name = username(user)
    problem = _token_problem(_secret(), name, token)
    if problem is None:
        return
    log.warning("form token of %s refused on %s: %s", name, request.url.path, problem)
    raise HTTPException(
        status.HTTP_403_FORBIDDEN, FORM_EXPIRED_VI if problem == "expired" else FORM_INVALID_VI
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
