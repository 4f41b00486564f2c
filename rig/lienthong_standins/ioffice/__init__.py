"""Stand-in of VNPT-iOffice's link API: a simulated office that drafts, signs and issues."""

from lienthong_standins.ioffice.app import build
from lienthong_standins.ioffice.store import IOfficeStore

__all__ = ["IOfficeStore", "build"]
