"""The national sync's configuration Variable (``pipeline.national_config``): defaults, the
agencies it syncs, and a loud refusal of a malformed value."""

from __future__ import annotations

import pytest

from lienthong.pipeline.national_config import (
    InvalidNationalConfig,
    NationalSyncConfig,
    config_from_variable,
)


def test_config_variable():
    assert config_from_variable(None) == NationalSyncConfig()
    cfg = config_from_variable('{"agencies": ["000.30.20.H36"], "late_after_minutes": 15}')
    assert (
        cfg.syncs("000.30.20.H36")
        and not cfg.syncs("000.30.21.H36")
        and cfg.late_after_minutes == 15
    )
    with pytest.raises(InvalidNationalConfig):
        config_from_variable('{"agencies": "all"}')
    with pytest.raises(InvalidNationalConfig):
        config_from_variable('{"late_after": 5}')
