"""`attune ui`: serve the web UI on this machine (loopback by default, sharing off, analytics off)."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from agent.commands import EXIT_OK, UsageError, app_from_args, say
from ui import LOOPBACK_NAMES


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ui",
        help="open the web UI: ask, practise and see your progress in the browser",
        description="Serve Attune's web UI. It listens on 127.0.0.1 only unless --host says otherwise; set "
        "ATTUNE_UI__PASSWORD (user name: attune) before listening on another address.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.set_defaults(handler=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    settings = app.settings
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (1-65535)")
    if args.host not in LOOPBACK_NAMES and not settings.ui.password:
        raise UsageError(f"--host {args.host} exposes your conversations to the network; set ATTUNE_UI__PASSWORD first")
    if not port_is_free(args.host, args.port):
        raise UsageError(f"port {args.port} is in use; try --port {args.port + 1}")
    from ui.app import launch

    say("Loading the model and the library ...")
    app.prepare_library(say)
    try:
        launch(app, args.host, args.port, password=settings.ui.password)
    except OSError:  # taken while the model loaded
        raise UsageError(f"port {args.port} is in use; try --port {args.port + 1}") from None
    return EXIT_OK


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is not "in use"
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
