"""`python -m app.simulator`: run the GoTone simulator in the foreground (threaded)."""

from __future__ import annotations

import argparse
import sys

from .accounts import create_account
from .app import create_simulator_app
from .server import SimulatorWSGIServer
from .state import PROFILES, SimulatorConfig, SimulatorState


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", help="create (or reuse) an account with exactly this token")
    parser.add_argument("--balance", type=float, default=1000, help="unit balance; -1 = unlimited")
    parser.add_argument("--rate-limit", type=int, default=60, help="requests per minute")
    parser.add_argument("--profile", choices=PROFILES, default="legacy")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--control", action="store_true", help="enable the /_control/ API")
    parser.add_argument("--state-file", help="JSON snapshot that survives restarts")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="serve with HTTP/1.1 keep-alive, as a production gateway does "
        "(gunicorn's threaded worker; benchmarks)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = SimulatorConfig(
        profile=args.profile,
        rate_limit=args.rate_limit,
        latency_ms=args.latency_ms,
        control=args.control,
    )
    state = SimulatorState(args.state_file)
    token = args.token
    with state.lock:
        if token and state.account_by_token(token) is None:
            create_account(state, token=token, balance=args.balance)
        state.save()
    host = args.host if ":" not in args.host else f"[{args.host}]"
    if args.keep_alive:
        return _serve_keep_alive(args, config, state, host, token)
    server = SimulatorWSGIServer(
        args.host, args.port, create_simulator_app(config, state), quiet=not args.verbose
    )
    print(
        f"GoTone simulator ({args.profile}) at http://{host}:{server.server_port}/api/v3",
        flush=True,
    )
    if token:
        print(f"API token: {token}", flush=True)
    if args.control:
        print(f"Control API: http://{host}:{server.server_port}/_control/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.stopping.set()
        server.server_close()
    return 0


def _serve_keep_alive(args, config, state, host: str, token: str | None) -> int:
    from .keepalive import KeepAliveServer

    print(
        f"GoTone simulator ({args.profile}, keep-alive) at http://{host}:{args.port}/api/v3",
        flush=True,
    )
    if token:
        print(f"API token: {token}", flush=True)
    try:
        KeepAliveServer(
            create_simulator_app(config, state), args.host, args.port, quiet=not args.verbose
        ).run()
    finally:
        state.stopping.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
