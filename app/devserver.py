"""`make run`: the portal, a job consumer and the GoTone simulator, on SQLite, in one process.

First run: writes development secrets to instance/dev.env (git-ignored), migrates the
database, seeds a demo user and a demo workspace whose token points at the simulator.
Later runs reuse all of it. Prints the URL and the login, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from pathlib import Path

from .config import ROOT
from .crypto import generate_key

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published development login
DEMO_TOKEN = "demo-token"  # noqa: S105 - the simulator's development account
DEMO_WORKSPACE = "Demo workspace"


def ensure_dev_secrets(instance: Path) -> None:
    """Create instance/dev.env once and load it into the environment."""
    instance.mkdir(parents=True, exist_ok=True)
    env_file = instance / "dev.env"
    if not env_file.exists():
        env_file.write_text(
            f"PORTAL_SECRET_KEY={os.urandom(32).hex()}\nPORTAL_ENCRYPTION_KEYS={generate_key()}\n"
        )
        env_file.chmod(0o600)
    for line in env_file.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and value:
            os.environ.setdefault(name.strip(), value.strip())


def _free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]


def start_simulator(instance: Path, port: int):
    """Run the simulator in a thread, with its state kept in instance/simulator.json."""
    from .simulator.accounts import create_account
    from .simulator.server import SimulatorServer

    sim = SimulatorServer(
        port=_free_port(port), state_file=str(instance / "simulator.json"), control=True
    )
    with sim.state.lock:
        if sim.state.account_by_token(DEMO_TOKEN) is None:
            create_account(sim.state, token=DEMO_TOKEN, balance=1000)
        sim.state.save()
    return sim.start()


def seed(app, api_url: str) -> None:
    """Create the demo user and workspace, or point the existing one at this simulator."""
    from .extensions import db
    from .models import GoToneSettings, Workspace
    from .services import accounts, gotone, workspaces

    with app.app_context():
        user = accounts.find_user(DEMO_EMAIL) or accounts.create_user(DEMO_EMAIL, DEMO_PASSWORD)
        workspace = db.session.scalar(db.select(Workspace).where(Workspace.name == DEMO_WORKSPACE))
        if workspace is None:
            workspace = workspaces.create(DEMO_WORKSPACE, user, gotone_url=api_url)
        settings = db.session.get_one(GoToneSettings, workspace.id)
        if settings.base_url != api_url:
            settings.base_url = api_url  # the simulator may have found another free port
            db.session.commit()
        if settings.token_enc is None:
            gotone.set_token(workspace, user, DEMO_TOKEN)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.devserver", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORTAL_PORT", "5000")))
    parser.add_argument("--simulator-port", type=int, default=8765)
    args = parser.parse_args(argv)

    instance = Path(os.environ.get("PORTAL_INSTANCE_PATH") or ROOT / "instance")
    os.environ.setdefault("PORTAL_ENV", "development")
    # The embedded simulator answers on plain http at 127.0.0.1.
    os.environ.setdefault("PORTAL_GOTONE_ALLOW_HTTP", "1")
    os.environ.setdefault("PORTAL_GOTONE_ALLOW_PRIVATE", "1")
    ensure_dev_secrets(instance)
    sim = start_simulator(instance, args.simulator_port)

    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from . import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    seed(app, sim.api_url("v3"))
    from .jobs import start_background

    stop_jobs = start_background(app, workers=2)  # imports and exports run beside the server
    port = _free_port(args.port)
    print(f"\nGoTone simulator: {sim.api_url('v3')} (token {DEMO_TOKEN})", flush=True)
    print(f"GoTone Portal:    http://127.0.0.1:{port}/", flush=True)
    print(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}\n", flush=True)
    from .access_log import RedactingFilter

    logging.getLogger("werkzeug").addFilter(RedactingFilter())  # invitation links
    try:
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        stop_jobs()
        sim.stop()


if __name__ == "__main__":
    main()
