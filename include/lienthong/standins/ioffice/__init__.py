"""Stand-in of VNPT-iOffice's link API: a simulated office that drafts, signs and issues."""

from lienthong.standins.ioffice.app import build
from lienthong.standins.ioffice.store import IOfficeStore

__all__ = ["IOfficeStore", "build"]
