"""The command line's ``study`` command (``python -m mnist_kit study NAME | --list``): run a study of
``studies.STUDIES``, print its table and judge its goal, or list every study with its records present or missing.
``__main__`` builds the parser and dispatches here."""

from __future__ import annotations

import sys

from .settings import resolve_smoke
from .studies import get_study


def study_parser(commands, registry):
    study = commands.add_parser("study", help="run a study (its recipes on its seeds), print its table, judge its goal")
    study.add_argument("names", nargs="*", metavar="NAME", help=f"one or more of: {', '.join(registry)}")
    study.add_argument("--list", action="store_true", help="list every study with its records present or missing")
    study.add_argument("--seeds", type=int, nargs="+", help="default: the study's")
    study.add_argument("--again", action="store_true", help="retrain seeds already recorded (default: skip them)")
    study.add_argument("--judge", action="store_true", help="train nothing: judge it from its records, print its table")
    return study


def study(args, registry) -> int:
    """``study --list``, ``study NAME ... --judge``, or train each study, print its table and its judgement."""
    from .engine import get_device
    from .parallel import RunsFailed

    if args.list:
        return _list(registry, args.results_dir)
    if not args.names:
        raise ValueError(f"name a study (or --list): one of {', '.join(registry)}")
    studies = [get_study(name, registry) for name in args.names]  # an unknown name stops before any run
    smoke = resolve_smoke(args.smoke)
    device = (args.device or "cpu") if args.backend == "ray" else get_device(args.device)
    for study in studies:
        if not args.judge:
            try:
                finished = _run_study(args, study, smoke, device)
            except RunsFailed as exc:
                print(f"error: {exc}; the other runs are recorded", file=sys.stderr)
                return 1
            if not finished:
                return 130
        _report_study(study, args.results_dir, smoke and not args.judge, judge_round=args.judge)
    return 0


def _run_study(args, study, smoke: bool, device) -> bool:
    from .runs import run_study

    options = dict(smoke=smoke, results_dir=args.results_dir, epochs=args.epochs, device=device)
    options.update(data_root=args.data_root, again=args.again, **parallel_options(args, device))
    return run_study(study, args.seeds, **options)[1]


def _report_study(study, results_dir, smoke: bool, judge_round: bool) -> None:
    """A study's table and its judgement, from its records (``smoke``: its smoke runs); ``judge_round``: a search's
    round is judged first (a search that just ran judged its own)."""
    from .paths import default_results_dir
    from .readme import study_table
    from .runs import judge_search
    from .studies import judge
    from .study_records import records_of

    results_dir = results_dir or default_results_dir()
    if study.kind == "search" and judge_round:
        print(judge_search(results_dir, study))
    print(study_table(study, results_dir, smoke=smoke))
    if study.goal is not None:
        print(judge(study, records_of(study, results_dir, smoke)).line())


def _list(registry, results_dir) -> int:
    from .runs import study_state

    width = max(map(len, registry))
    for study in registry.values():
        seeds = f"seeds {study.seeds[0]}-{study.seeds[-1]}" if len(study.seeds) > 1 else f"seed {study.seeds[0]}"
        state = study_state(study, results_dir)
        print(f"{study.name:<{width}}  {study.kind:<8}  {study.split:<10}  {seeds:<12}  {state}: {study.what}")
    return 0


def parallel_options(args, device) -> dict:
    """``jobs``, ``backend`` and ``ray_address`` for sweep, frontier and ablation."""
    from .parallel import default_jobs

    jobs = args.jobs if args.jobs is not None else default_jobs(device)
    return dict(jobs=jobs, backend=args.backend, ray_address=args.ray_address)
