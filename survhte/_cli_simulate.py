"""``survhte simulate``: write a SurvHTE-Bench synthetic data set with its truth columns."""

from __future__ import annotations

import argparse
from pathlib import Path

from .simulate import CONFIGS, SCENARIOS, survhte_bench


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate",
        help="generate a SurvHTE-Bench synthetic data set (CSV with ground truth)",
        description=(
            "Generate one of the 40 SurvHTE-Bench designs. The CSV has X1..X5, time, event, W "
            "and the truth columns T0, T1, C, propensity."
        ),
    )
    parser.add_argument("--config", default="RCT-50",
                        help=f"causal configuration: {', '.join(CONFIGS)} (default RCT-50)")
    parser.add_argument("--scenario", default="A",
                        help=f"survival scenario: {', '.join(SCENARIOS)} (default A)")
    parser.add_argument("--n", type=int, default=5000, help="rows (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--legacy", action="store_true",
                        help="reproduce the benchmark's legacy numpy draw order")
    parser.add_argument("--out", required=True, metavar="CSV", help="output CSV path")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``survhte simulate``; bad arguments raise ValueError for ``main``."""
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; name the CSV file to write.")
    data = survhte_bench(
        config=args.config, scenario=args.scenario, n=args.n, random_state=args.seed,
        legacy=args.legacy,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = data.to_frame()
    frame.to_csv(out, index=False)
    print(
        f"wrote {out}: {len(frame)} rows, config {args.config}, scenario {args.scenario}, "
        f"seed {args.seed}; columns {', '.join(frame.columns)}"
    )
    return 0
