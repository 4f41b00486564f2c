"""How a stand-in answers where the public docs leave the real system's answer open.

The real portal, iOffice and DVCQG are only known from public code (``interfaces.md``); several of
their answers are not stated there. The stand-ins default to the strict reading, and can be switched
to the other one at run time (``/_admin/behaviour``), so the link is tested against both:

- ``tie_ms``: the portal's ``updatedDate`` has this resolution (0 = the stand-in's own strictly
  increasing stamps). With ``tie_ms=1000`` a batch status change gives many dossiers one timestamp.
- ``shuffle_ties``: dossiers sharing an ``updatedDate`` come back in a different order on every call
  (a database sorting by ``updatedDate`` alone guarantees no order among ties).
- ``permissive`` (portal, iOffice): duplicates are accepted as a lenient server would: a second
  result is attached and a move to the status the dossier already has is taken (with its step),
  instead of 409; iOffice creates a second document for a dossier pushed again, instead of answering
  "already exists". The national stand-in is always lenient: it appends a step it already holds.
- ``stale_crl`` (iOffice): the test CA's CRL (``/ca/crl.der``) is served as a CA that publishes
  late serves it: its ``nextUpdate`` a day past.
- ``bogus_date`` (portal): the HTTP ``Date`` header says 2100-01-01, as a server whose clock is
  broken does.
- ``echo_identities`` (iOffice): free text names the applicant, as a real office's does: the
  decision's subject ends "cho ông/bà NGUYỄN VĂN A", the result file is named after them
  (``…_Nguyen_Van_A.pdf``), and the first push of each dossier is refused with an error body that
  echoes the applicant (upper case and ASCII-folded); the next push is taken. For the personal-data
  test (``tests/pipeline/test_personal_data.py``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Behaviour(BaseModel):
    tie_ms: int = Field(0, ge=0, le=86_400_000)
    shuffle_ties: bool = False
    permissive: bool = False
    stale_crl: bool = False
    bogus_date: bool = False
    echo_identities: bool = False
