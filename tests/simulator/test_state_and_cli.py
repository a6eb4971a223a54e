"""State snapshots survive a restart; `python -m app.simulator` serves and prints its URL."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from app.simulator.server import SimulatorServer
from app.simulator.state import SimulatorState

from .conftest import US, Api

ROOT = Path(__file__).resolve().parents[2]


def test_state_file_survives_restart(tmp_path):
    path = tmp_path / "sim.json"
    with SimulatorServer(state_file=str(path)) as first:
        token = first.control.create_account(token="keep")
        api = Api(first, token)
        group = api.post("contacts", {"name": "Kept"}).json()["data"]["uid"]
        api.post(f"contacts/{group}/store", {"phone": US})
        sent = api.send(US).json()["data"]["uid"]
    with SimulatorServer(state_file=str(path)) as second:
        api = Api(second, "keep")
        assert api.get("contacts").json()["data"]["data"] == [{"uid": group, "name": "Kept"}]
        assert api.post(f"contacts/{group}/all").json()["data"]["total"] == 1
        assert api.get(f"sms/{sent}").json()["data"]["status"] == "Delivered"
        assert second.control.balance("keep") == 999
        new_group = api.post("contacts", {"name": "New"}).json()["data"]["uid"]
        assert new_group > group  # uids keep increasing after a restart


def test_uids_unique_under_concurrency():
    state = SimulatorState()
    uids: list[str] = []

    def make():
        for _ in range(500):
            uids.append(state.new_uid())

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(uids)) == 2000
    assert all(re.fullmatch(r"[0-9a-f]{13}", uid) for uid in uids)


def test_cli_serves_with_the_given_token(tmp_path):
    state = tmp_path / "cli.json"
    command = [
        sys.executable,
        "-m",
        "app.simulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--token",
        "cli-token",
        "--balance",
        "5",
        "--profile",
        "modern",
        "--rate-limit",
        "7",
        "--control",
        "--state-file",
        str(state),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first_line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/api/v3)", first_line)
        assert match, first_line
        assert process.stdout.readline().strip() == "API token: cli-token"
        base = match.group(1)
        headers = {"Accept": "application/json", "Authorization": "Bearer cli-token"}
        response = requests.get(f"{base}/balance", headers=headers, timeout=5)
        assert response.json()["data"]["remaining_balance"] == "$5"
        assert response.headers["X-RateLimit-Limit"] == "7"
        me = requests.get(f"{base}/me", headers=headers, timeout=5).json()["data"]
        assert "last_access_at" in me and me["last_access_at"].endswith("Z")  # modern: raw datetime
        control = base.replace("/api/v3", "/_control/balance")
        assert (
            requests.get(control, params={"token": "cli-token"}, timeout=5).json()["balance"] == 5
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert state.exists()


def test_cli_reuses_an_existing_token(tmp_path):
    state = tmp_path / "cli.json"
    seeded = SimulatorState(state)
    from app.simulator.accounts import create_account

    create_account(seeded, token="again", balance=42)
    seeded.save()
    command = [
        sys.executable,
        "-m",
        "app.simulator",
        "--port",
        "0",
        "--token",
        "again",
        "--state-file",
        str(state),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        base = re.search(r"(http://\S+/api/v3)", process.stdout.readline()).group(1)
        deadline = time.monotonic() + 5
        while True:
            try:
                response = requests.get(
                    f"{base}/balance",
                    headers={"Accept": "application/json", "Authorization": "Bearer again"},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.json()["data"]["remaining_balance"] == "$42"
        assert len(SimulatorState(state).data["accounts"]) == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
