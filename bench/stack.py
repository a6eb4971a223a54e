"""The stack the benchmarks measure: the simulator and gunicorn, each in its own process.

`Stack` starts `python -m app.simulator` (with its control API) on a free port, prepares a portal
database in a temporary folder (SQLite unless a URL is given) with one user and one workspace
whose token is a simulator account seeded with groups, contacts and sent messages, and serves
the portal with `gunicorn wsgi:app -c gunicorn.conf.py`. Separate processes, so that the load
generator, the portal and the gateway do not share one interpreter lock.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EMAIL = "bench@example.com"
PASSWORD = "bench-password"  # noqa: S105 - a throwaway account in a temporary database
TOKEN = "1|bench-token-0000"  # noqa: S105 - the simulator's account
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


class Stack:
    """Simulator + portal database + gunicorn; use as a context manager."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        workers: int | None = None,
        contacts: int = 60,
        messages: int = 60,
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.database_url = database_url or f"sqlite:///{self.folder / 'portal.db'}"
        self.workers = workers
        self.contacts = contacts
        self.messages = messages
        self.procs: list[subprocess.Popen] = []
        self.sim_port = free_port()
        self.portal_port = free_port()
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.api = f"{self.sim_url}/api/v3"
        self.portal = f"http://127.0.0.1:{self.portal_port}"
        self.workspace_id = 0
        self.group_uid = ""

    # -- processes ---------------------------------------------------------------------------
    def _spawn(self, command: list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        out = open(self.folder / log, "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
        self.procs.append(proc)
        return proc

    def env(self) -> dict[str, str]:
        from app.crypto import generate_key

        if not hasattr(self, "_keys"):
            self._keys = generate_key()
        env = {
            **os.environ,
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": "bench" * 8,
            "PORTAL_ENCRYPTION_KEYS": self._keys,
            "PORTAL_DATABASE_URL": self.database_url,
            "PORTAL_INSTANCE_PATH": str(self.folder / "instance"),
            "PORTAL_BIND": f"127.0.0.1:{self.portal_port}",
            "PORTAL_LOG_LEVEL": "WARNING",
            "PORTAL_GOTONE_ALLOWED_URLS": self.sim_url,
            # The simulator: plain http on 127.0.0.1, which production refuses by default.
            "PORTAL_GOTONE_ALLOW_HTTP": "1",
            "PORTAL_GOTONE_ALLOW_PRIVATE": "1",
            "PORTAL_GOTONE_DEFAULT_URL": self.api,
            # The benchmark logs in a few sessions from one address, many times a run.
            "PORTAL_LOGIN_IP_LIMIT": "10000 per hour",
            "PORTAL_LOGIN_ACCOUNT_LIMIT": "10000 per hour",
        }
        if self.workers:
            env["PORTAL_WORKERS"] = str(self.workers)
        env.pop("PORTAL_REDIS_URL", None)
        return env

    def __enter__(self) -> Stack:
        env = self.env()
        # Served with keep-alive, as a production gateway is: the portal's pooled sessions
        # (and the direct calls it is compared with) reuse their connections.
        self._spawn(
            [
                sys.executable,
                "-m",
                "app.simulator",
                "--keep-alive",
                "--port",
                str(self.sim_port),
                "--control",
                "--balance",
                "-1",
                "--rate-limit",
                "100000000",
            ],
            env,
            "simulator.log",
        )
        wait_http(self.sim_url + "/_control/config")
        self._seed(env)
        self._spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "wsgi:app",
                "-c",
                "gunicorn.conf.py",
                "--access-logfile",
                "/dev/null",
            ],
            env,
            "gunicorn.log",
        )
        wait_http(self.portal + "/healthz")
        return self

    def __exit__(self, *exc) -> None:
        stop(self.procs)

    def _seed(self, env: dict[str, str]) -> None:
        from app.simulator.control import SimulatorControl

        control = SimulatorControl(self.sim_url)
        control.create_account(token=TOKEN, balance=1_000_000)
        people = [
            {"phone": f"1202555{n:04d}", "first_name": f"First{n}", "last_name": f"Last{n}"}
            for n in range(self.contacts)
        ]
        self.group_uid = control.seed_group(TOKEN, "Customers", people)["uid"]
        for n in range(30):
            control.seed_group(TOKEN, f"Group {n:02d}")
        self.control = control
        os.environ.update({k: v for k, v in env.items() if k.startswith("PORTAL_")})
        from app import create_app
        from app.extensions import db
        from app.services import accounts, gotone, workspaces

        app = create_app(
            {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
            user = accounts.create_user(EMAIL, PASSWORD)
            workspace = workspaces.create("Bench", user, gotone_url=self.api)
            gotone.set_token(workspace, user, TOKEN)
            self.workspace_id = workspace.id
            db.session.remove()
        # Messages in the portal's history, sent through the portal itself (below).
        self._sent = False

    # -- clients -----------------------------------------------------------------------------
    def login(self) -> requests.Session:
        """A logged-in browser-like session on the portal."""
        session = requests.Session()
        page = session.get(self.portal + "/auth/login", timeout=30).text
        token = _CSRF.search(page).group(1)
        form = {"csrf_token": token, "email": EMAIL, "password": PASSWORD}
        answer = session.post(self.portal + "/auth/login", data=form, timeout=30)
        if answer.status_code >= 400 or "/auth/login" in answer.url:
            raise SystemExit(f"login failed: {answer.status_code}")
        session.csrf = _CSRF.search(answer.text).group(1) if _CSRF.search(answer.text) else token
        return session

    def gateway(self) -> requests.Session:
        """A session that calls the simulator directly, as the portal does."""
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
        return session

    def send_history(self, session: requests.Session, count: int) -> None:
        """Send `count` messages through the portal so that its history has rows."""
        from bench.load_mix import send_one

        for n in range(count):
            send_one(self, session, f"History message {n}")

    def urls(self) -> dict[str, str]:
        w = f"{self.portal}/w/{self.workspace_id}"
        return {
            "groups": f"{w}/groups",
            "contacts": f"{w}/groups/{self.group_uid}",
            "history": f"{w}/messages/history",
            "dashboard": w,
        }

    def rss_kib(self) -> dict[str, int]:
        """Resident memory of the gunicorn master and workers, KiB, from /proc."""
        master = self.procs[-1].pid
        pids = [master] + [int(p) for p in _children(master)]
        sizes = {}
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1])
            except FileNotFoundError:
                pass
        return sizes


def stop(procs: list[subprocess.Popen]) -> None:
    """Terminate processes, newest first; kill those still running after 15 s."""
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


# -- CPU accounting (bench/load.py) -----------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (all its threads), seconds; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and brackets
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / CLOCK_TICKS, idle / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """Direct child processes (gunicorn's workers of its master)."""
    return [int(p) for p in _children(pid)]
