"""What every `attune` subcommand shares: the one-line usage errors, exit codes, and settings from the flags.

Subcommands are thin adapters: they parse, build an `Attune` from settings, call one use case and print.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, NoReturn

from pydantic import ValidationError

if TYPE_CHECKING:
    from agent.app import Attune
    from agent.settings import AttuneSettings

DISCLAIMER = (
    "Attune is a coach, not a therapist: it cannot assess risk, diagnose or treat, and it can be wrong. If you "
    "or someone else is in danger, call your local emergency number now (112 in the EU, 911 in the US, 999 in "
    "the UK); https://findahelpline.com lists free crisis lines in over 130 countries."
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Command-line flags that set a setting: flag -> "group.name" (the help text shows the setting's own default).
SETTING_FLAGS = {"model": "model.path", "top_k": "retrieval.top_k", "candidates": "ask.candidates"}


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def setting_default(name: str) -> object:
    """A setting's default ("group.name"), for help texts: the settings classes are the one source of defaults."""
    from agent.settings import setting_field

    return setting_field(name).default


def settings_from_args(args: argparse.Namespace) -> AttuneSettings:
    from agent.settings import load_settings

    try:
        settings = load_settings(**{setting: getattr(args, flag, None) for flag, setting in SETTING_FLAGS.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"invalid setting {where}: {first['msg']}") from None
    announce_sources(settings)
    return settings


def app_from_args(args: argparse.Namespace) -> Attune:
    """The application core for this command, built from its flags, the environment and the settings file."""
    from agent.app import Attune

    return Attune(settings_from_args(args))


def announce_sources(settings: AttuneSettings) -> None:
    """Say which settings file and which model server are in force, once: neither may act unseen."""
    from agent.settings import config_file

    toml = config_file()
    said = [f"settings from {toml}"] if toml else []
    if settings.model.kind == "openai":
        said.append(f"answers come from the server at {settings.model.base_url}")
    if said:
        print(f"attune: {'; '.join(said)}", file=sys.stderr)


def say(message: str) -> None:
    """A progress line for the person at the terminal; stdout stays for the command's output."""
    print(message, file=sys.stderr)
