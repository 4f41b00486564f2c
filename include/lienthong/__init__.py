"""lienthong: links the one-stop public-service portal to VNPT-iOffice."""
