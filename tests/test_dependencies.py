"""Policy for the dependency tree: what `make venv` installs is the whole tree, pinned with hashes
and generated from the pinned inputs, so no package floats in and no download can be swapped.

A pin changed in a ``requirements*.txt`` without ``make lock`` fails here, and so does a test-only
package put back among the runtime dependencies.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

# Each lock and the input it is compiled from (`make lock`).
LOCKS = {
    "requirements.lock": "requirements.txt",
    "requirements-test.lock": "requirements-test.txt",
    "requirements-dev.lock": "requirements-dev.txt",
}
# One locked package: `name==version` and at least one sha256 of a file of that release.
LOCKED = re.compile(
    r"(?P<name>[a-z0-9][a-z0-9._-]*)==(?P<version>[^\s;\\]+)( --hash=sha256:[0-9a-f]{64})+"
)
# Packages only the tests use: never in the runtime tree that production installs.
TEST_ONLY = re.compile(r"pytest(-.+)?|playwright")
# This year's starlette advisories (the Host header and netloc handling; form limits ignored) are
# fixed from this release on.
STARLETTE_FIXED = Version("1.3.1")


def logical_lines(path: Path) -> list[str]:
    """A requirements file's entries: continuation lines joined, comments and blanks dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    lines = (re.sub(r"(^|\s)#.*", "", line) for line in text.splitlines())
    return [" ".join(line.split()) for line in lines if line.strip()]


def locked(lock: str) -> dict[str, str]:
    """The lock's packages, canonical name to version; fails on any entry not exactly pinned."""
    pins: dict[str, str] = {}
    for line in logical_lines(ROOT / lock):
        match = LOCKED.fullmatch(line)
        assert match, f"{lock}: not `name==version --hash=sha256:...`: {line[:120]}"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"{lock}: {name} is locked twice"
        pins[name] = match["version"]
    return pins


def inputs(path: str) -> list[Requirement]:
    """The requirements of an input file (``requirements*.txt``)."""
    return [Requirement(line) for line in logical_lines(ROOT / path)]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_every_package_with_its_hashes(lock: str) -> None:
    assert (ROOT / lock).is_file(), f"{lock} is missing: `make lock` writes it"
    assert len(locked(lock)) >= len(inputs(LOCKS[lock]))


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_of_an_input_is_in_its_lock_at_that_version(lock: str) -> None:
    """A dependency added or moved in the input without ``make lock`` is caught here."""
    pins = locked(lock)
    for req in inputs(LOCKS[lock]):
        (spec,) = req.specifier  # one exact pin per direct dependency
        assert spec.operator == "==", f"{LOCKS[lock]}: pin {req.name} exactly"
        name = canonicalize_name(req.name)
        assert pins.get(name) == spec.version, f"{name}=={spec.version} is not in {lock}"


def test_the_locks_agree_on_the_packages_they_share() -> None:
    runtime = locked("requirements.lock")
    for lock in ("requirements-test.lock", "requirements-dev.lock"):
        differ = {n: v for n, v in locked(lock).items() if runtime.get(n, v) != v}
        assert differ == {}, f"{lock} and requirements.lock disagree: compile with -c"


def test_make_installs_the_locks_and_only_with_their_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert set(re.search(r"^LOCKS := (.+)$", makefile, re.M)[1].split()) == set(LOCKS)
    rule = re.search(r"^\$\(STAMP\): (.+)\n((?:\t.*\n)+)", makefile, re.M)
    assert "$(LOCKS)" in rule[1].split(), "the venv is rebuilt when a lock changes"
    installs = [line for line in rule[2].splitlines() if "pip install" in line]
    assert "--require-hashes --no-deps $(addprefix -r ,$(LOCKS))" in installs[0]
    assert all("--no-deps" in line for line in installs), "nothing resolved outside the locks"


def test_starlette_is_at_a_release_with_this_years_fixes() -> None:
    assert Version(locked("requirements.lock")["starlette"]) >= STARLETTE_FIXED


def test_test_only_packages_stay_out_of_the_runtime_tree() -> None:
    runtime = {canonicalize_name(r.name) for r in inputs("requirements.txt")}
    runtime |= set(locked("requirements.lock"))
    assert sorted(n for n in runtime if TEST_ONLY.fullmatch(n)) == []
    tests = {canonicalize_name(r.name) for r in inputs("requirements-test.txt")}
    assert {"pytest", "pytest-timeout", "pytest-xdist", "playwright"} <= tests
