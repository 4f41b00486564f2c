"""The docs stay true and reachable: ``docs/configuration.md`` is what the generator writes from
the code today, the README stays a short front door, and every relative link leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lienthong_devstack import config_docs

ROOT = config_docs.ROOT
README = ROOT / "README.md"
README_MAX_BYTES = 8192
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _prose(text: str) -> str:
    """The page without code blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, lower case, punctuation dropped, spaces to
    hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return out


def test_configuration_doc_is_what_the_generator_writes() -> None:
    expected = config_docs.render()
    actual = (
        config_docs.DOC_PATH.read_text(encoding="utf-8") if config_docs.DOC_PATH.exists() else ""
    )
    assert actual == expected, (
        "docs/configuration.md is out of date with the code; regenerate it: "
        f"{config_docs.REGENERATE}"
    )


def test_the_generator_finds_the_settings_in_the_code_and_describes_each() -> None:
    page = config_docs.render()
    found = config_docs.scan_product()
    assert "LIENTHONG_INTAKE_CRON" in found.env and "LIENTHONG_RETRY_DELAY_SECONDS" in found.env
    resources = config_docs.airflow_resources
    for conn_id in (
        resources.PORTAL_CONN,
        resources.IOFFICE_CONN,
        resources.NATIONAL_CONN,
        resources.DB_CONN,
    ):
        assert f"| `{conn_id}` |" in page
    assert "lienthong_portal" in found.pools and "lienthong_reports_dir" in found.variables
    assert "not described yet" not in page, (
        "a setting found in the code has no description in config_docs"
    )


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size} bytes; keep it under {README_MAX_BYTES}, move detail to docs/"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_lead_to_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert broken == []


TEST_REF = re.compile(r"(?:tests/)?\b([a-z_]+/test_[a-z_0-9]+\.py)(?:::(\w+))?")


def test_every_test_the_docs_name_exists():
    """The docs cite tests as evidence (``pipeline/test_faults.py::test_…``): a moved or renamed
    test must take its citations along."""
    missing = []
    for page in PAGES:
        for path, name in TEST_REF.findall(page.read_text(encoding="utf-8")):
            target = ROOT / path if path.startswith("tests/") else ROOT / "tests" / path
            if not target.is_file():
                missing.append(f"{page.name}: {path}")
            elif name and not re.search(rf"^(async )?def {name}\b", target.read_text(), re.M):
                missing.append(f"{page.name}: {path}::{name}")
    assert missing == []
