"""Faithful local stand-ins of the one-stop portal and VNPT-iOffice (see docs/standins.md)."""
