"""``citydesk``: the command line entry point.

Sub-commands map one-to-one onto domain functions, so anything done here can be done from
Python too. Errors a user can cause are :class:`citydesk.layers.errors.CityDeskError` and print one
clear line (exit 2); a validation that finds errors exits 1; Ctrl+C exits 130.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import traceback
from collections.abc import Sequence

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import CanceledError
from citydesk.layers.i18n import _, set_language
from citydesk.layers.logs import configure as configure_logging
from citydesk.layers.version import __version__
from citydesk.plugins.formats import install as install_plugin_formats

from . import (
    cases_cmd,
    city_cmd,
    demo_cmd,
    dispatch_cmd,
    grid_cmd,
    layers_cmd,
    optimize_cmd,
    plan_cmd,
    plugins_cmd,
    project_cmd,
)

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citydesk",
        description=_("CityDesk: a desktop GIS workbench for city planning and city management."),
    )
    parser.add_argument("--version", action="version", version=f"CityDesk {__version__}")
    parser.add_argument("--lang", help=_("interface language: en or zh_CN (default: system)"))
    parser.add_argument("--debug", action="store_true", help=_("show tracebacks on errors"))
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help=_("say more: -v progress and results, -vv everything"),
    )
    parser.add_argument(
        "--log-file", metavar="FILE", help=_("also write a full (debug) log to FILE")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    layers_cmd.register(sub)
    project_cmd.register(sub)
    city_cmd.register(sub)
    grid_cmd.register(sub)
    cases_cmd.register(sub)
    dispatch_cmd.register(sub)
    optimize_cmd.register(sub)
    plan_cmd.register(sub)
    plugins_cmd.register(sub)
    demo_cmd.register(sub)
    gui = sub.add_parser("gui", help=_("open the desktop workbench"))
    gui.add_argument("project", nargs="?", help=_("project .gpkg to open (default: the demo)"))
    gui.set_defaults(func=_run_gui)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    from citydesk.workbench.gui.app import run_gui  # Qt is imported only here

    return run_gui(args.project, lang=args.lang)


def has_display() -> bool:
    """True when a GUI can be shown (X11/Wayland, macOS, Windows, or forced offscreen)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The language must be set before the parser is built so help texts are translated.
    lang = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
    set_language(lang)
    install_plugin_formats()  # formats plugins contribute, for every command that reads files
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.log_file)
    if not getattr(args, "func", None):
        if has_display():
            return _run_gui(argparse.Namespace(project=None, lang=args.lang))
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CityDeskError as exc:
        log.debug("user error", exc_info=True)
        print(_("citydesk: error: {msg}").format(msg=exc.message), file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return 2
    except CanceledError:
        print(_("citydesk: canceled"), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(_("citydesk: interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output was piped into head or a pager that quit: fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except sqlite3.OperationalError as exc:
        message = _sqlite_problem(exc)
        if message is None:
            raise
        log.debug("environment error", exc_info=True)
        print(_("citydesk: error: {msg}").format(msg=message), file=sys.stderr)
        return 2
    except (OSError, MemoryError) as exc:  # the machine or a file the user named, not a bug
        message = _os_problem(exc)
        if message is None:
            raise
        log.debug("environment error", exc_info=True)
        print(_("citydesk: error: {msg}").format(msg=message), file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: say so plainly
        log.error("internal error in %s", args.command, exc_info=True)
        print(
            _("citydesk: internal error: {exc}. Please report it with --debug output.").format(
                exc=f"{type(exc).__name__}: {exc}"
            ),
            file=sys.stderr,
        )
        if args.debug:
            traceback.print_exc()
        return 3


def _sqlite_problem(exc: sqlite3.OperationalError) -> str | None:
    """SQLite's own words for a full disk or a failing one (it reports them itself, not as
    OSError); a transaction it could not finish is rolled back, so say that nothing changed."""
    text = str(exc).lower()
    if "disk is full" in text:
        return _(
            "the disk is full ({err}) Fix: Free some space and run it again; the change was "
            "rolled back, so the project is as it was."
        ).format(err=exc)
    if "disk i/o error" in text:
        return _(
            "the disk could not be written or read ({err}) Fix: Check the disk and the "
            "file's folder, then run it again; the change was rolled back."
        ).format(err=exc)
    return None


def _os_problem(exc: BaseException) -> str | None:
    """One line with the fix for a missing or unusable file, a full disk or too little
    memory (issue 21: these ended as "internal error"); None for anything else."""
    import errno

    if isinstance(exc, MemoryError):
        return _(
            "there is not enough memory for this request. Fix: Ask for less (a lower --dpi, "
            "a smaller area or fewer rows)."
        )
    assert isinstance(exc, OSError)
    where = exc.filename or ""
    fixes = {
        errno.ENOENT: _("Check the path."),
        errno.EISDIR: _("Give a file, not a folder."),
        errno.ENOTDIR: _("Check the path: a part of it is a file, not a folder."),
        errno.EACCES: _("Check the permissions of the file and its folder."),
        errno.EPERM: _("Check the permissions of the file and its folder."),
        errno.EROFS: _("Write to a folder that is not read-only."),
        errno.ENOSPC: _(
            "Free some space and run it again; CityDesk writes all or nothing, so the "
            "files it was changing are as they were."
        ),
    }
    fix = fixes.get(exc.errno or 0)
    if fix is None:
        return None
    reason = exc.strerror or str(exc)
    return f"{where}: {reason} Fix: {fix}" if where else f"{reason} Fix: {fix}"


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
