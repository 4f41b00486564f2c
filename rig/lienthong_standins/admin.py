"""The control surface both stand-ins share: ``/_admin/advance``, ``/_admin/faults``,
``/_admin/stats``, ``/_admin/clock`` and, where a stand-in has one, ``/_admin/behaviour``.

It is the stand-ins' own (no real system has it): tests and the demo drive time and
failures through it instead of sleeping or patching code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from lienthong_standins.behaviour import Behaviour
from lienthong_standins.clock import SimClock
from lienthong_standins.faults import FaultConfig, FaultInjector


class AdvanceRequest(BaseModel):
    seconds: float = Field(..., ge=0, description="simulated seconds to move forward")


def make_admin_router(
    clock: SimClock,
    injector: FaultInjector,
    stats: Callable[[], dict[str, Any]],
    on_advance: Callable[[], dict[str, Any]],
    behaviour: Behaviour | None = None,
) -> APIRouter:
    """Build the admin router. ``on_advance`` performs what became due and says what it did."""
    router = APIRouter(prefix="/_admin", tags=["stand-in control (not part of the real system)"])

    @router.post("/advance")
    def advance(req: AdvanceRequest) -> dict[str, Any]:
        now = clock.advance(req.seconds)
        return {"now": now.isoformat(), "performed": on_advance()}

    @router.get("/clock")
    def get_clock() -> dict[str, Any]:
        return {"now": clock.now().isoformat(), "speed": clock.speed}

    @router.post("/faults")
    def set_faults(config: FaultConfig) -> FaultConfig:
        injector.configure(config)
        return injector.config

    @router.get("/faults")
    def get_faults() -> FaultConfig:
        return injector.config

    if behaviour is not None:

        @router.post("/behaviour")
        def set_behaviour(new: Behaviour) -> Behaviour:
            for name in Behaviour.model_fields:
                setattr(behaviour, name, getattr(new, name))
            return behaviour

        @router.get("/behaviour")
        def get_behaviour() -> Behaviour:
            return behaviour

    @router.get("/stats")
    def get_stats() -> dict[str, Any]:
        return {
            "now": clock.now().isoformat(),
            "faults_fired": dict(injector.fired),
            "requests": injector.requests,
            "faulted_items": {kind: dict(items) for kind, items in injector.served.items()},
            **stats(),
        }

    return router
