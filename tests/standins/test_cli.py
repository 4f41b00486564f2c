"""The command ``python -m lienthong_standins`` as a real subprocess: start, serve, stop,
restart."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from lienthong_standins.serve import free_port

TOKEN_PATH = "/auth/realms/digo/protocol/openid-connect/token"


def write_settings(path: Path) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "airflow": {
                    "connections": [
                        {
                            "conn_id": "lienthong_portal",
                            "conn_type": "http",
                            "conn_login": "cli-client",
                            "conn_password": "cli-secret",
                        },
                        {
                            "conn_id": "lienthong_ioffice",
                            "conn_type": "http",
                            "conn_password": "cli-token",
                            "conn_extra": {"auth_scheme": "Token"},
                        },
                    ]
                }
            }
        ),
        encoding="utf-8",
    )


class Standins:
    def __init__(self, data_dir: Path, settings: Path):
        self.portal_port, self.ioffice_port, self.national_port = (
            free_port(),
            free_port(),
            free_port(),
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lienthong_standins",
                "--scenario",
                "demo",
                "--seed",
                "7",
                "--portal-port",
                str(self.portal_port),
                "--ioffice-port",
                str(self.ioffice_port),
                "--national-port",
                str(self.national_port),
                "--data-dir",
                str(data_dir),
                "--speed",
                "0",
                "--settings",
                str(settings),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self._wait_for("READY", 90)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _wait_for(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
            if line.strip() == marker:
                return
        self.proc.kill()
        raise AssertionError(f"no {marker!r}; output so far:\n" + "\n".join(self.output))

    @property
    def portal(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.mark.slow
def test_cli_serves_both_stops_cleanly_and_keeps_state(tmp_path: Path) -> None:
    settings = tmp_path / "airflow_settings.yaml"
    write_settings(settings)
    data_dir = tmp_path / "standins"
    run = Standins(data_dir, settings)
    try:
        assert f"portal: {run.portal}" in run.output
        assert f"ioffice: http://127.0.0.1:{run.ioffice_port}/api/lienthong" in run.output
        # credentials come from the settings file
        bad = requests.post(
            run.portal + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=("lienthong-demo", "demo-portal-secret-change-me"),
            timeout=10,
        )
        assert bad.status_code == 401
        tok = requests.post(
            run.portal + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=("cli-client", "cli-secret"),
            timeout=10,
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}"}
        requests.post(
            run.portal + "/_admin/advance", json={"seconds": 4 * 3600}, timeout=30
        ).raise_for_status()
        page = requests.get(
            run.portal + "/pa/dossier/search", params={"size": 500}, headers=h, timeout=10
        ).json()
        visible = page["totalElements"]
        assert 0 < visible < 300
        target = next(d for d in page["content"] if d["dossierStatus"]["id"] == 2)
        moved = requests.put(
            f"{run.portal}/pa/dossier/{target['id']}/status",
            json={"statusId": 4},
            headers=h,
            timeout=10,
        )
        assert moved.status_code == 200
        io = requests.get(
            f"http://127.0.0.1:{run.ioffice_port}/api/lienthong/TraCuuHoSo",
            params={"MaHoSo": target["code"]},
            headers={"Authorization": "Token cli-token"},
            timeout=10,
        )
        assert io.status_code == 200
        clock_before = requests.get(run.portal + "/_admin/clock", timeout=10).json()["now"]
    finally:
        code = run.stop()
    assert code == 0
    assert (data_dir / "portal.sqlite").exists() and (data_dir / "clock.json").exists()

    again = Standins(data_dir, settings)
    try:
        assert any("'loaded': False" in line for line in again.output)
        assert (
            requests.get(again.portal + "/_admin/clock", timeout=10).json()["now"] == clock_before
        )
        tok = requests.post(
            again.portal + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=("cli-client", "cli-secret"),
            timeout=10,
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}"}
        page = requests.get(
            again.portal + "/pa/dossier/search", params={"size": 1}, headers=h, timeout=10
        ).json()
        assert page["totalElements"] == visible
        d = requests.get(f"{again.portal}/pa/dossier/{target['id']}", headers=h, timeout=10).json()
        assert d["dossierStatus"]["id"] == 4
    finally:
        assert again.stop() == 0
