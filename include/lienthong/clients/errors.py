"""One error tree for every call the link makes to another system.

Every failure of a remote call (the portal, iOffice, the national portal, the CA's CRL, the alert
webhook, Airflow's own API) leaves :mod:`lienthong.clients` as a :class:`RemoteError` of one kind.
The adapters turn ``requests``, ``httpx`` and ``urllib3`` exceptions into these kinds where they
call the library (:mod:`lienthong.clients.http`), keeping the library's exception as ``__cause__``;
no module outside ``clients/`` knows those libraries' exception types. Callers decide by kind:

================== ================================================ ==============================
kind               what happened                                    what the caller does
================== ================================================ ==============================
Unreachable        no usable answer: refused, reset, timed out,      retry later (reads at once;
                   TLS failed, 5xx                                  writes only when surely unsent)
CredentialsRefused the login or token was refused                   alert; a person must act
RequestRejected    the remote understood and refused this request   do not retry; quarantine or
                   (a 4xx, an application error code)               report the item
MalformedAnswer    a 2xx whose body is not what the API promises    never take it as data; retry
Misconfigured      the request could not be made as configured      alert; a person fixes the
                                                                    Connection
================== ================================================ ==============================

The kinds are disjoint: a caller that quarantines an item on :class:`RequestRejected` never does
so because of a revoked credential or an outage.

This module imports no HTTP library; it is safe to import anywhere.
"""

from __future__ import annotations


class RemoteError(Exception):
    """A call to another system failed. Catch a kind below, not this, unless every kind is handled
    alike (a connection test that reports any cause, a loop that must survive any remote failure).

    ``url`` is where the call went (without query parameters); ``status`` the HTTP status when an
    answer came, else ``None``."""

    def __init__(self, message: str = "", *, url: str = "", status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class Unreachable(RemoteError):
    """No usable answer: the connection was refused, reset or timed out, TLS failed, or the server
    answered 5xx. It may succeed if asked again.

    Reads are retried at once (with backoff); a write that is not idempotent is retried only when
    the request surely never left (:func:`lienthong.clients.http.is_unsent`), because otherwise it
    may have been applied. When the retries run out the run fails and Airflow retries it; the items
    stay pending. Never quarantine an item for this: it is not the item's fault."""


class ConnectionFailed(Unreachable):
    """No answer at all (refused, reset, timed out, a broken stream): raised by the adapters for the
    HTTP library's transport errors, with the library's exception as ``__cause__``."""


class TLSFailed(ConnectionFailed):
    """The TLS handshake failed: a certificate not trusted, expired or for another host, or TLS
    spoken to a plain-HTTP port. Retried like any connection failure (one bad node behind a load
    balancer), but when it persists a person must fix the CA bundle, the host or the scheme."""


class CredentialsRefused(RemoteError):
    """The remote refused who we are: a login, token or client credential was refused (HTTP 401/403
    on a call, a refused login). Retrying cannot help, and no item is at fault: alert, fail the run,
    and never quarantine items for it. A person must fix the Connection's credentials."""


class RequestRejected(RemoteError):
    """The remote understood the request and refused it: a 4xx other than 401/403, or an error code
    in the body of a 2xx. Asking again the same way gives the same answer, so it is never retried.
    About one item (a dossier unknown by that id, a refused package): quarantine or report that
    item and go on. About a whole request: a defect of the adapter or a changed API, alert."""


class MalformedAnswer(RemoteError):
    """A 2xx whose body is not what the API promises: an HTML error page from a proxy, JSON cut
    short, a listing that skips items. Usually a glitch on the way, so adapters that read inside
    their retries (portal, national) ask again; it is never taken as data. When it persists, treat
    it like :class:`Unreachable`: the run fails, the items stay pending."""


class Misconfigured(RemoteError):
    """The request could not be made as configured: a URL without host or with an unknown scheme, a
    header value with a line break (a pasted token), a redirect loop (a base path that points at a
    login page). The remote was never properly asked; retrying cannot help. A person must fix the
    Connection: alert, and never quarantine items for it."""


KINDS: tuple[type[RemoteError], ...] = (
    Unreachable,
    CredentialsRefused,
    RequestRejected,
    MalformedAnswer,
    Misconfigured,
)
