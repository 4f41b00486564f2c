"""One adapter per external system; every vendor-specific shape stays inside its adapter."""
