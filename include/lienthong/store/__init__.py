"""The reporting store: its own database behind connection ``lienthong_db``."""
