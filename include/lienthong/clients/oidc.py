"""OAuth2/OIDC client-credentials login as one ``requests`` auth class (the portal's Keycloak).

One token per client, shared by every thread of a batch, fetched on first use, renewed 30 s
before it expires, and fetched again once when the server says 401 anyway (a token revoked or
expired early): the request is then sent again with the new token. The portal client and the
Airflow hook's ``test_connection`` log in through this same class.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from requests.auth import AuthBase

from lienthong.clients.errors import CredentialsRefused
from lienthong.clients.http import SecretSink, json_body, no_secret_sink, raise_for_status, send

EARLY_RENEWAL_SECONDS = 30
_RETRIED = "_lienthong_oidc_retried"


class ClientCredentialsAuth(AuthBase):
    """Bearer tokens from ``token_url`` for ``client_id``/``client_secret`` (HTTP Basic to the
    endpoint)."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 10.0,
        verify: bool | str = True,
        session: requests.Session | None = None,
        on_secret: SecretSink = no_secret_sink,
    ):
        """``on_secret`` is told each new token before it is used (the hooks pass Airflow's
        secrets masker)."""
        self.token_url = token_url
        self._on_secret = on_secret
        self._credentials = (client_id, client_secret)
        self.timeout = timeout
        self._session = session or requests.Session()
        if session is None:
            self._session.verify = verify
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:  # never the secret
        return f"ClientCredentialsAuth({self.token_url!r}, client_id={self._credentials[0]!r})"

    def fetch_token(self) -> str:
        """Log in now (the hook's connection test does exactly this). The token endpoint refusing
        the client credentials is :class:`~.errors.CredentialsRefused`; failures to reach it are
        the kinds :func:`~.http.send` raises."""
        resp = send(
            self._session,
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=self._credentials,
            timeout=self.timeout,
        )
        if resp.status_code in (400, 401):
            raise CredentialsRefused(
                f"the token endpoint refused the client credentials (HTTP {resp.status_code})",
                url=self.token_url,
                status=resp.status_code,
            )
        raise_for_status(resp)
        body = json_body(resp)
        token = str(body["access_token"])
        self._on_secret(token)  # before anything can log it
        self._token = token
        self._expires_at = (
            time.monotonic() + float(body.get("expires_in", 300)) - EARLY_RENEWAL_SECONDS
        )
        return self._token

    def token(self, force: bool = False) -> str:
        with self._lock:
            if force or self._token is None or time.monotonic() >= self._expires_at:
                return self.fetch_token()
            return self._token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.register_hook("response", self._renew_on_401)
        return request

    def _renew_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """One new token and one resend per request; a second 401 is the caller's to judge."""
        request = response.request
        if response.status_code != 401 or getattr(request, _RETRIED, False):
            return response
        response.content  # noqa: B018 - read the body so the connection returns to the pool
        response.close()
        retry = request.copy()
        setattr(retry, _RETRIED, True)
        retry.headers["Authorization"] = f"Bearer {self.token(force=True)}"
        retry.hooks = {"response": []}
        resent = response.connection.send(retry, **kwargs)
        resent.history.append(response)
        resent.request = retry
        return resent
