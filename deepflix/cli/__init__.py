"""The `deepflix` command. Thin: it parses, validates, shows progress, and maps
DeepFlixError to one line on stderr (exit 2 for bad input, 1 for a failed stage).

common.py holds the app and what the commands share; make.py is `deepflix make`,
info.py `providers` and `contact-sheet`, quality.py `check-story` and `qa`; the
hand-off commands (export, mcp) and the service's (serve, keys, worker, jobs) come
from their own packages. The commands are registered here, in the order `--help` lists them."""

from __future__ import annotations

import errno
import os
import sys

import typer

from ..errors import DeepFlixError, InvalidInput, UnknownProviderError
from ..handoff.commands import register as _register_handoff
from . import info, make, quality
from .common import app

__all__ = ["SERVICE_COMMANDS", "app", "main"]

# in this order in `deepflix --help`
app.command("make")(make.make)
app.command("providers")(info.providers)
app.command("contact-sheet")(info.contact_sheet)
_register_handoff(app)  # export, mcp
app.command("check-story")(quality.check_story_cmd)
app.command("qa")(quality.qa_cmd)

# sub-commands of the service stack (the `service` extra), by the module that registers them
SERVICE_COMMANDS = {"serve": "deepflix.api.cli", "keys": "deepflix.api.cli",
                    "worker": "deepflix.service.cli", "jobs": "deepflix.service.cli"}


def _mount_optional(argv: list[str]) -> None:
    """Mount the service sub-commands when they are asked for (or for --help):
    importing the service stack costs seconds that `deepflix make` should not pay."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in SERVICE_COMMANDS:
        modules = [SERVICE_COMMANDS[first]]
    elif first is None or first not in {c.name for c in app.registered_commands if c.name}:
        modules = sorted(set(SERVICE_COMMANDS.values()))
    else:
        modules = []
    for module in modules:
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError:
            continue  # the `service` extra is not installed
        register = getattr(mod, "register", None)
        if register is not None:
            register(app)


def _fail(message: str, code: int) -> None:
    """One line on stderr, never wrapped, then exit."""
    print(" ".join(message.split()), file=sys.stderr)
    sys.exit(code)


def main() -> None:
    """Entry point: one clear line for errors, never a traceback."""
    _mount_optional(sys.argv[1:])
    try:
        app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except typer.TyperException as exc:  # usage errors: bad option values, missing arguments
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"error: {msg}", getattr(exc, "exit_code", 2) or 2)
    except (InvalidInput, UnknownProviderError) as exc:
        _fail(f"error: {exc}", 2)
    except DeepFlixError as exc:
        if os.environ.get("DEEPFLIX_RAISE_ERRORS"):
            raise
        _fail(f"error: {exc}", 1)
    except KeyboardInterrupt:
        _fail("interrupted: finished stages are kept; run the same command to resume", 130)
    except Exception as exc:  # a bug: say so in one line; DEEPFLIX_RAISE_ERRORS=1 shows the traceback
        if os.environ.get("DEEPFLIX_RAISE_ERRORS"):
            raise
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):  # not a bug: a full disk
            where = f" writing {exc.filename}" if exc.filename else ""
            _fail(f"error: no space left on the disk{where}; free some space and run the same command again "
                  "(finished stages are kept)", 2)
        _fail(f"error: internal error ({type(exc).__name__}: {exc}); rerun with DEEPFLIX_RAISE_ERRORS=1 for details", 1)
