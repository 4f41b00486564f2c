"""The results step in a process of its own, for the memory bound test (``test_bounds.py``).

It warms up on a genuine package (verified, attached: a worker in its steady state), then resets
the kernel's high-water mark of its resident set (``/proc/self/clear_refs``), notes its RSS (the
baseline), handles the hostile packages, and prints the high-water mark reached meanwhile (the
peak) as JSON, with ``getrusage``'s ``ru_maxrss`` before and after for reference. The high-water
mark counts everything the step held, however briefly."""

import gc
import json
import os
import re
import resource
from pathlib import Path

from lienthong.pipeline import results
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import Standins, make_resources


def status_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (highest since the last reset) of this process, in KiB."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def ru_maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


standins = Standins(
    portal_url=os.environ["LT_PORTAL"],
    ioffice_url=os.environ["LT_IOFFICE"],
    clock=None,
    portal_store=None,
    ioffice_store=None,
    data_dir=Path("."),
)
res = make_resources(standins, os.environ["LT_STORE"])
ctx = RunContext("bounds-worker", "results")
warm = results.process_packages(res, ctx, [os.environ["LT_WARM"]])
gc.collect()
Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
baseline, maxrss_before = status_kib("VmRSS"), ru_maxrss_kib()
counts = results.process_packages(res, ctx, os.environ["LT_DOCS"].split(","))
report = {
    "warm": warm,
    "counts": counts,
    "baseline_kib": baseline,
    "peak_kib": status_kib("VmHWM"),
    "ru_maxrss_before_kib": maxrss_before,
    "ru_maxrss_after_kib": ru_maxrss_kib(),
}
print(json.dumps(report))
res.close()
