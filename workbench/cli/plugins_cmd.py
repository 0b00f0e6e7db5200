"""``citydesk plugins``, ``citydesk run`` and ``citydesk history``: the plugin host from the
command line. Algorithms run headless exactly as from the workbench's generated dialogs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .progress import TqdmFeedback


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("plugins", help=_("list, enable and disable plugins"))
    psub = cmd.add_subparsers(dest="plugins_command", metavar="ACTION", required=True)
    p = psub.add_parser("list", help=_("every plugin found, its status and problems"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--algorithms", action="store_true", help=_("also list the algorithms"))
    p.set_defaults(func=cmd_list)
    for action, enabled in (("enable", True), ("disable", False)):
        p = psub.add_parser(action, help=_("{action} a plugin").format(action=action))
        p.add_argument("name", help=_("plugin name"))
        p.set_defaults(func=cmd_enable, enabled=enabled)

    run = sub.add_parser(
        "run",
        help=_("run an algorithm: citydesk run ID --project P --PARAM VALUE ..."),
        description=_(
            "Run an algorithm headless. Parameters are given as --NAME VALUE; "
            "'citydesk run ID --help' lists them. An output named like an existing "
            "layer is refused unless --overwrite is given."
        ),
    )
    run.add_argument(
        "--batch", help=_("a JSON-lines file: one {algorithm, project, params} per line")
    )
    run.add_argument("--json", action="store_true", help=_("print the outputs as JSON"))
    run.add_argument("algorithm", nargs="?", help=_("algorithm id, e.g. citydesk:buffer"))
    run.add_argument("params", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    hist = sub.add_parser("history", help=_("the algorithm runs recorded in a project"))
    hsub = hist.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    p = hsub.add_parser("list", help=_("list the runs"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.set_defaults(func=cmd_history)
    p = hsub.add_parser("rerun", help=_("run a recorded run again with the same parameters"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("number", type=int, help=_("the run number (fid) from 'history list'"))
    p.set_defaults(func=cmd_rerun)


def _host():
    from citydesk.plugins.host import PluginHost

    return PluginHost()


def cmd_list(args: argparse.Namespace) -> int:
    from citydesk.plugins.algorithms import algorithm_specs

    host = _host()
    rows = [
        {
            "name": r.name,
            "version": r.manifest.version if r.manifest else "",
            "status": r.status,
            "source": r.source,
            "problems": r.problems,
            "contributions": len(r.manifest.contributions) if r.manifest else 0,
        }
        for r in host.plugins()
    ]
    if args.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    for row in rows:
        print(f"{row['name']:<24} {row['version']:<10} {row['status']:<20} {row['source']}")
        for problem in row["problems"]:
            print(f"    {problem}")
    if args.algorithms:
        print()
        for spec in algorithm_specs(host).values():
            print(f"{spec.id:<32} {spec.name} [{spec.plugin}]")
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    from citydesk.plugins.host import set_enabled

    _host().plugin(args.name)  # refuses an unknown name, listing the known ones
    set_enabled(args.name, args.enabled)
    print((_("enabled {name}") if args.enabled else _("disabled {name}")).format(name=args.name))
    return 0


def parse_param_args(tokens: list[str]) -> dict[str, str]:
    """``--name value`` and ``--name=value`` pairs; a flag alone means true."""
    out: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--"):
            raise CityDeskError(
                _("unexpected argument '{arg}'").format(arg=token),
                _("Give parameters as --NAME VALUE."),
            )
        name, eq, value = token[2:].partition("=")
        if not eq:
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                value = tokens[i + 1]
                i += 1
            else:
                value = "true"
        out[name.replace("-", "_")] = value
        i += 1
    return out


def _print_result(result, as_json: bool) -> None:
    if as_json:
        payload = {"outputs": result.outputs, "layers": result.layers, "run": result.history_id}
        print(json.dumps(payload, indent=1, ensure_ascii=False, default=str))
        return
    for level, text in result.messages:
        print(f"[{level}] {text}")
    for key, value in result.outputs.items():
        print(f"{key}: {value}")
    for layer in result.layers:
        print(_("wrote layer {layer}").format(layer=layer))
    if result.history_id:
        print(
            _("recorded as run {n}; repeat it with: citydesk history rerun PROJECT {n}").format(
                n=result.history_id
            )
        )


def _run_one(
    host, algorithm: str, project, raw: dict, as_json: bool, overwrite: bool = False
) -> None:
    from citydesk.plugins.algorithms import run_algorithm

    with TqdmFeedback(algorithm) as fb:
        result = run_algorithm(host, algorithm, raw, project, fb, overwrite=overwrite)
    _print_result(result, as_json)


def cmd_run(args: argparse.Namespace) -> int:
    host = _host()
    if args.batch:
        return _run_batch(host, Path(args.batch), args.json)
    if not args.algorithm:
        raise CityDeskError(
            _("no algorithm given"), _("List them with: citydesk plugins list --algorithms.")
        )
    asks_help = any(a in ("-h", "--help", "--help-params") for a in args.params)
    raw = {} if asks_help else parse_param_args(args.params)
    if asks_help:  # 'citydesk run ID --help' lists the algorithm's own parameters
        from citydesk.plugins.algorithms import algorithm_specs

        host.find("algorithms", args.algorithm)  # an unknown id is refused with the list
        spec = algorithm_specs(host)[args.algorithm]
        print(f"{spec.id}: {spec.name}\n{spec.description}\n")
        for name, p in spec.parameters.items():
            extra = f" {list(p.options)}" if p.options else ""
            need = (
                _("optional")
                if p.optional
                else (
                    _("default {v}").format(v=p.default) if p.default is not None else _("required")
                )
            )
            print(f"  --{name:<20} {p.type}{extra}  {p.title} ({need})")
        return 0
    project = raw.pop("project", None)
    overwrite = str(raw.pop("overwrite", "false")).lower() in ("true", "1", "yes")
    _run_one(host, args.algorithm, project, raw, args.json, overwrite)
    return 0


def _run_batch(host, path: Path, as_json: bool) -> int:
    """Every line of a JSON-lines file is one run; a failing line is reported and the batch
    goes on. Returns 1 if any line failed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CityDeskError(
            _("cannot read the batch file ({err})").format(err=exc), path=str(path)
        ) from exc
    failed = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            job = json.loads(line)
            if not isinstance(job, dict) or "algorithm" not in job:
                raise ValueError(_("each line needs an 'algorithm' key"))
            params = job.get("params", {})
            if not isinstance(params, dict) or not isinstance(job["algorithm"], str):
                raise ValueError(_("'algorithm' must be text and 'params' an object"))
            _run_one(host, job["algorithm"], job.get("project"), params, as_json)
        except (CityDeskError, ValueError, RecursionError) as exc:
            failed += 1
            print(
                _("line {n}: {err}").format(n=n, err=getattr(exc, "message", exc)), file=sys.stderr
            )
    return 1 if failed else 0


def cmd_history(args: argparse.Namespace) -> int:
    from citydesk.plugins.history import history

    table = history(args.project)
    print(table.to_string(index=False) if len(table) else _("no runs recorded yet"))
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    from citydesk.plugins.history import entry

    run = entry(args.project, args.number)
    print(
        _("re-running {algorithm} with {params}").format(
            algorithm=run.algorithm, params=json.dumps(run.parameters, ensure_ascii=False)
        )
    )
    # a re-run repeats a recorded run: it replaces the layers that run was told to write
    _run_one(_host(), run.algorithm, args.project, run.parameters, False, overwrite=True)
    return 0
