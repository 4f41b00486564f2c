"""Write ``docs/configuration.md`` from the code that reads the settings.

Why generated: what a deployment must provide (Connections and their form fields, Variables and
their defaults, pools, environment settings) is defined in code - the provider's connection forms
(:func:`lienthong.provider.get_provider_info`), the one reader of Connections and Variables
(:mod:`lienthong.orchestration.airflow_resources`), ``env_setting("NAME", "default")`` calls in the
DAGs, and the demo's ``airflow_settings.yaml``. A hand-kept list drifts from them;
``tests/docs/test_configuration_doc.py`` fails when the committed page differs from this output.

    python -m lienthong_devstack.config_docs > docs/configuration.md
    python -m lienthong_devstack.config_docs --write
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lienthong
from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.orchestration import airflow_resources
from lienthong.pipeline.national_config import DEFAULT_LATE_MINUTES
from lienthong.pipeline.outcomes import all_metrics
from lienthong.provider import get_provider_info
from lienthong.store.retention import DEFAULT_RETENTION_DAYS
from lienthong_devstack.settings import load_settings

ROOT = Path(lienthong.__file__).resolve().parents[2]
DOC_PATH = ROOT / "docs" / "configuration.md"
PRODUCT_DIRS = ("dags", "plugins", "include/lienthong")
REGENERATE = "python -m lienthong_devstack.config_docs --write"
MISSING = "(not described yet: add it to `{table}` in `rig/lienthong_devstack/config_docs.py`)"

# What the code cannot say about itself: one line per setting. A setting found in the code but not
# here is still listed, with a note asking for its description.
CONNECTION_NOTES = {
    "lienthong_portal": "the one-stop portal (VNPT iGate): OIDC client credentials",
    "lienthong_ioffice": "VNPT-iOffice: token, unit, trust roots and CRL for verifying signed "
    "results",
    "lienthong_dvcqg": "the national public-service portal (DVCQG) sync service: username and "
    "password",
    "lienthong_db": "the link's own store (SQLite in the demo, PostgreSQL in production)",
    "lienthong_alerts": "optional HTTP webhook for alerts (extra `path`); without it alerts are "
    "only logged",
}
VARIABLE_NOTES = {
    "lienthong_calendar": "optional YAML: `extra_days_off` and `make_up_days` (lists of "
    "YYYY-MM-DD) announced on top of Vietnam's public holidays (the `holidays` package), and "
    "`near_due_working_days` (0-30, default 2): how early handlers and leaders are told",
    "lienthong_routing": "routing YAML: result kind per procedure; iOffice unit, handler and "
    "signer per agency (shape of `rig/lienthong_standins/demo_routing.yaml`); for a province, "
    "`units` with their history and, per unit, `ioffice_parent_unit` and `ioffice_conn_id` "
    "(`province_routing.yaml`; deployment.md, Units that change)",
    "lienthong_minutes_saved_per_dossier": "minutes one dossier carried through saves",
    "lienthong_cost_per_hour_vnd": "cost of an official's hour, VND",
    "lienthong_concurrency": "threads one task uses for concurrent calls to iOffice and the portal",
    "lienthong_personal_data_retention_days": "days personal data is kept: an open quarantine "
    "record's dossier content, decision subjects, error texts "
    "([personal-data.md](personal-data.md))",
    "lienthong_national_sync": 'JSON `{"agencies": [...], "late_after_minutes": N}`: which '
    "agencies sync (omitted or `null`: all) and when a sync counts as late; malformed fails the "
    "run",
    "lienthong_reports_dir": "where `savings_report` writes its CSV and XLSX",
}
ENV_NOTES = {
    "LIENTHONG_INTAKE_CRON": "schedule of `dossier_intake`",
    "LIENTHONG_RESULTS_MODE": "`watcher` (AssetWatcher in the triggerer, cron as safety net) or "
    "`sensor` (cron + deferrable sensor)",
    "LIENTHONG_RESULTS_CRON": "cron of `signed_results` (the safety net in watcher mode)",
    "LIENTHONG_RESULTS_POLL_SECONDS": "how often the watcher's trigger or the sensor polls iOffice",
    "LIENTHONG_RESULTS_WAIT_SECONDS": "sensor mode: how long one run's sensor waits for packages",
    "LIENTHONG_RESULTS_MAX_POLL_FAILURES": "sensor mode: failed polls in a row before the sensor "
    "fails",
    "LIENTHONG_RECONCILE_CRON": "schedule of `dossier_reconcile`",
    "LIENTHONG_REPORT_CRON": "schedule of `savings_report`",
    "LIENTHONG_RECHECK_CRON": "schedule of `quarantine_recheck`",
    "LIENTHONG_DEADLINE_CRON": "schedule of `deadline_alerts`",
    "LIENTHONG_ROUTE_DECISIONS_CRON": "schedule of `route_decisions` (missing routes asked)",
    "LIENTHONG_RETENTION_CRON": "schedule of `personal_data_retention`",
    "LIENTHONG_NATIONAL_SYNC_CRON": "schedule of `national_sync`",
    "LIENTHONG_RETRY_DELAY_SECONDS": "first retry delay of the link's tasks (exponential backoff "
    "after it)",
}


@dataclass
class Found:
    """Settings read by the product source, found by walking its syntax trees."""

    env: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # name -> (default, files)
    conns: dict[str, str] = field(
        default_factory=dict
    )  # conn id -> file defining a ``*_CONN`` constant
    variables: dict[str, tuple[str | None, str]] = field(
        default_factory=dict
    )  # name -> (default, file)
    pools: dict[str, set[str]] = field(default_factory=dict)  # pool -> {"file: task"}


def _product_files() -> Iterator[Path]:
    for top in PRODUCT_DIRS:
        yield from sorted((ROOT / top).rglob("*.py"))


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def scan_product() -> Found:
    """``env_setting("NAME", "default")`` and ``os.environ``/``os.getenv`` reads of ``LIENTHONG_*``;
    ``X_CONN``/``X_VARIABLE`` string constants and ``Variable.get("name", default)``; ``pool=`` of
    tasks."""
    found = Found()
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                name = _str(node.args[0]) if node.args else None
                default = _str(node.args[1]) if len(node.args) > 1 else None
                if name and func.endswith("env_setting") and default is not None:
                    found.env.setdefault(name, (default, set()))[1].add(rel)
                elif (
                    name
                    and name.startswith("LIENTHONG_")
                    and func in ("os.environ.get", "os.getenv")
                ):
                    found.env.setdefault(name, (default or "(unset)", set()))[1].add(rel)
                elif name and func.endswith("Variable.get"):
                    found.variables.setdefault(name, (default, rel))
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                name = _str(node.slice)
                if name and name.startswith("LIENTHONG_"):
                    found.env.setdefault(name, ("(required)", set()))[1].add(rel)
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                target, value = node.targets[0].id, _str(node.value)
                if value and target.endswith("_CONN"):
                    found.conns.setdefault(value, rel)
                elif value and target.endswith("_VARIABLE"):
                    found.variables.setdefault(value, (None, rel))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    for kw in deco.keywords if isinstance(deco, ast.Call) else ():
                        if kw.arg == "pool" and (pool := _str(kw.value)):
                            found.pools.setdefault(pool, set()).add(f"`{rel}`: `{node.name}`")
    return found


def _variable_defaults() -> dict[str, str]:
    """Defaults applied when a Variable is not set, read from the code that applies them."""

    r = airflow_resources
    return {
        r.ROUTING_VARIABLE: "none: **required**; intake and results fail naming it until it is set",
        r.MINUTES_VARIABLE: str(DEFAULT_SAVINGS.minutes_per_dossier),
        r.COST_VARIABLE: f"{DEFAULT_SAVINGS.cost_per_hour_vnd:,}",
        r.CONCURRENCY_VARIABLE: str(r.DEFAULT_CONCURRENCY),
        r.RETENTION_VARIABLE: str(DEFAULT_RETENTION_DAYS),
        "lienthong_national_sync": f"every agency, late after {DEFAULT_LATE_MINUTES} minutes",
        "lienthong_reports_dir": "`$AIRFLOW_HOME/reports`",
    }


def _constants(suffix: str) -> dict[str, str]:
    """``airflow_resources``' constants ending in ``suffix``, in the module's order: name ->
    value."""
    return {
        name: value
        for name, value in vars(airflow_resources).items()
        if name.endswith(suffix) and isinstance(value, str)
    }


def _resources_rel() -> str:
    return Path(airflow_resources.__file__).resolve().relative_to(ROOT).as_posix()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out + [""]


def _code(value: Any) -> str:
    return f"`{value}`" if value not in (None, "") else ""


def _connections(found: Found, demo: dict[str, Any]) -> list[str]:
    ids = {value: f"`{_resources_rel()}` (`{name}`)" for name, value in _constants("_CONN").items()}
    for conn_id, rel in sorted(found.conns.items()):
        ids.setdefault(conn_id, f"`{rel}`")
    demo_conns = {c["conn_id"]: c for c in demo.get("connections", []) or []}
    rows = []
    for conn_id, where in ids.items():
        d = demo_conns.get(conn_id, {})
        address = ":".join(str(d[k]) for k in ("conn_host", "conn_port") if d.get(k) is not None)
        rows.append(
            (
                _code(conn_id),
                _code(d.get("conn_type")) or "—",
                CONNECTION_NOTES.get(conn_id, MISSING.format(table="CONNECTION_NOTES")),
                where,
                _code(address) or "not set",
            )
        )
    lines = [
        "## Connections",
        "",
        "Connection ids the link reads. In production they come from a secrets backend "
        "([deployment.md](deployment.md#pointing-at-the-real-systems)); the demo's values are "
        "in `airflow_settings.yaml`.",
        "",
    ]
    lines += _table(("Connection id", "type (demo)", "what", "in the code", "demo address"), rows)
    for ctype in get_provider_info()["connection-types"]:
        behaviour = ctype.get("ui-field-behaviour", {})
        hidden = set(behaviour.get("hidden-fields", []))
        labels, holders = behaviour.get("relabeling", {}), behaviour.get("placeholders", {})
        lines += [
            f"### Connection type `{ctype['connection-type']}`: {ctype['hook-name']}",
            "",
            f"Hook `{ctype['hook-class-name']}`.",
            "",
        ]
        std = [
            (_code(f), labels.get(f, "—"), _code(holders.get(f)) or "—")
            for f in ("host", "schema", "port", "login", "password")
            if f not in hidden
        ]
        lines += _table(("standard field", "form label", "placeholder"), std)
        if hidden:
            lines += [
                "Hidden on the form: " + ", ".join(_code(f) for f in sorted(hidden)) + ".",
                "",
            ]
        extras = [
            (
                _code(name),
                spec["label"],
                spec.get("description", ""),
                _code(spec["schema"].get("default")),
            )
            for name, spec in ctype.get("conn-fields", {}).items()
        ]
        lines += _table(("extra field", "form label", "what", "default"), extras)
    return lines


def _variables(found: Found, demo: dict[str, Any]) -> list[str]:
    names = {
        value: f"`{_resources_rel()}` (`{name}`)" for name, value in _constants("_VARIABLE").items()
    }
    for name, (_, rel) in sorted(found.variables.items()):
        names.setdefault(name, f"`{rel}`")
    defaults = _variable_defaults()
    demo_vars = {
        v["variable_name"]: v.get("variable_value") for v in demo.get("variables", []) or []
    }
    rows = [
        (
            _code(name),
            VARIABLE_NOTES.get(name, MISSING.format(table="VARIABLE_NOTES")),
            defaults.get(name) or _code(found.variables.get(name, (None, ""))[0]) or "—",
            where,
            _code(demo_vars.get(name)) or "—",
        )
        for name, where in names.items()
    ]
    return [
        "## Variables",
        "",
        "Read by the link through Airflow (a secrets backend, `AIRFLOW_VAR_*`, or the metadata "
        "DB). The demo file sets none; the dev stacks and tests load "
        "`rig/lienthong_standins/demo_routing.yaml` into `lienthong_routing`.",
        "",
        *_table(("Variable", "what", "when not set", "in the code", "demo value"), rows),
    ]


def _pools(found: Found, demo: dict[str, Any]) -> list[str]:
    demo_pools = {p["pool_name"]: p for p in demo.get("pools", []) or []}
    rows = [
        (
            _code(name),
            demo_pools.get(name, {}).get("pool_slot", "not in the demo file"),
            demo_pools.get(name, {}).get("pool_description", ""),
            "; ".join(sorted(found.pools.get(name, ()))),
        )
        for name in sorted(set(demo_pools) | set(found.pools))
    ]
    return [
        "## Pools",
        "",
        "Created once per deployment (`airflow pools import`); slots below are the demo's.",
        "",
        *_table(("pool", "slots (demo)", "what", "used by"), rows),
    ]


def _environment(found: Found) -> list[str]:
    rows = [
        (
            _code(name),
            _code(default),
            ENV_NOTES.get(name, MISSING.format(table="ENV_NOTES")),
            ", ".join(f"`{f}`" for f in sorted(files)),
        )
        for name, (default, files) in sorted(found.env.items())
    ]
    return [
        "## Environment settings",
        "",
        "DAG settings read from the environment when the DAG files are parsed "
        "(`lienthong.orchestration.dag_settings.env_setting`) or by the package: set the same "
        "values on every Airflow host.",
        "",
        *_table(("variable", "default", "what", "read in"), rows),
    ]


def _metrics() -> list[str]:
    """Run-count metrics straight from the outcome table (``lienthong.pipeline.outcomes``)."""
    by_family: dict[str, list[str]] = {}
    for family, _outcome, name in all_metrics():
        by_family.setdefault(str(family), []).append(f"`{name.split('.', 1)[1]}`")
    rows = [
        (f"`lienthong.{family}.<outcome>`", ", ".join(keys)) for family, keys in by_family.items()
    ]
    return [
        "## Run-count metrics",
        "",
        "Counters each run sends through Airflow's `Stats` (after its `statsd_prefix`), one per "
        "outcome of `lienthong.pipeline.outcomes`; a key outside that table fails the task. "
        "Timers and gauges: [architecture.md]"
        "(architecture.md#airflow-native-connection-types-hooks-operator-actions-as-runs-metrics).",
        "",
        *_table(("name", "outcomes"), rows),
    ]


def render() -> str:
    """The whole page, deterministic for one source tree."""
    found = scan_product()
    demo = load_settings(ROOT / "airflow_settings.yaml")
    lines = [
        f"> Generated by `{REGENERATE}`; do not edit by hand.",
        "",
        "# Configuration",
        "",
        "Everything a deployment sets: Connections, Variables, pools and environment settings, "
        "and the run-count metrics it can watch. "
        "Where production values come from: [deployment.md](deployment.md).",
        "",
    ]
    for section in (
        _connections(found, demo),
        _variables(found, demo),
        _pools(found, demo),
        _environment(found),
        _metrics(),
    ):
        lines += section
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help=f"write {DOC_PATH.relative_to(ROOT)} instead of stdout"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
