"""``citydesk demo``: the workbench on the Cambridge demo, or the headless demo."""

from __future__ import annotations

import argparse
from pathlib import Path

from citydesk.layers.i18n import _

from .progress import TqdmFeedback


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("demo", help=_("run the Cambridge demo (GUI if a display exists)"))
    cmd.add_argument(
        "--headless",
        action="store_true",
        help=_("never open a window; write maps and a report instead"),
    )
    cmd.add_argument(
        "--out", default="citydesk-demo-output", help=_("folder for the headless demo's outputs")
    )
    cmd.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from .main import has_display

    if not args.headless and has_display():
        from citydesk.workbench.gui.app import run_gui

        return run_gui(None, lang=args.lang)
    from citydesk.workbench.headless_demo import run_headless_demo

    with TqdmFeedback(_("demo")) as fb:
        result = run_headless_demo(Path(args.out), feedback=fb)
    print(_("Headless demo finished (no display found, or --headless)."))
    for name, seconds in result.timings.items():
        print(f"  {name}: {seconds:.2f} s")
    print(_("Project: {path}").format(path=result.project_path))
    print(_("Report:  {path}").format(path=result.report_html))
    if result.evaluation_pdf:
        print(_("Evaluation report: {path}").format(path=result.evaluation_pdf))
    for label, value in result.desk:
        print(f"  {label}: {value}")
    for path in result.maps:
        print(_("Map:     {path}").format(path=path))
    return 0
