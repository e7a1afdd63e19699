"""The study report: Markdown and HTML with tables and matplotlib figures, from the results."""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._metrics import average_ranks, design_ranks

_TRUTHS = {"mse_row": "per-row truth (as SurvHTE-Bench scores)",
           "mse_cond": "conditional truth E[effect | X]"}


@dataclass(frozen=True)
class _Block:
    """One piece of the report: a heading, a paragraph, a table or a figure."""

    kind: str  # "h1", "h2", "p", "table", "figure"
    content: object


def write_report(results: pd.DataFrame, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``report.md``, ``report.html`` and PNG figures summarising a study.

    Tables: average rank of each method over designs (by mean CATE MSE vs the per-row and
    the conditional truth), CATE MSE per design, ATE bias (overall and per design), interval
    coverage and width (overall and per design), fit / predict time and memory, failed tasks.
    Every mean of a score (MSE, bias, coverage, width) and every average rank comes with its
    Monte Carlo standard error (sd / sqrt(repeats); for means over designs, the designs'
    errors combined). Figures: CATE MSE box plots per scenario, average ranks and coverage
    (with error bars; legends outside the axes).

    Parameters
    ----------
    results : DataFrame
        Rows from :func:`survhte.study.read_results`.
    out : path-like
        Folder to write into (created if needed).

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> from survhte.study import parse_study
    >>> study = parse_study({
    ...     "name": "tiny", "seed": 0, "repeats": 1,
    ...     "sizes": {"train": 300, "val": 0, "test": 300},
    ...     "designs": [{"generator": "survhte_bench", "configs": ["RCT-50"], "scenarios": ["A"]}],
    ...     "methods": [{"name": "t-cox", "method": "survival-t-learner",
    ...                  "params": {"base_model": "cox", "n_bootstrap": 0}}],
    ...     "estimands": [{"target": "rmst", "horizons": ["median_T"]}],
    ... })
    >>> import tempfile
    >>> from survhte.study import read_results, run_study, write_report
    >>> out = tempfile.mkdtemp()
    >>> summary = run_study(study, out, scheduler="synchronous", progress=None)
    >>> files = write_report(read_results(out), out + "/report")
    >>> sorted(path.name for path in files if path.suffix != ".png")
    ['report.html', 'report.md']
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = results.sort_values(["estimand", "design", "method", "repeat"], ignore_index=True)
    blocks = _overview(results) + _ranks(results, out) + _mse(results, out)
    blocks += _ate(results) + _coverage(results, out) + _cost(results) + _errors(results)
    figures = [Path(block.content) for block in blocks if block.kind == "figure"]
    markdown, page = out / "report.md", out / "report.html"
    markdown.write_text(_to_markdown(blocks), encoding="utf-8")
    page.write_text(_to_html(blocks), encoding="utf-8")
    return [markdown, page, *(out / name for name in figures)]


def _overview(results: pd.DataFrame) -> list[_Block]:
    ok = results["error"].isna()
    studies = ", ".join(results["study"].unique())
    text = (
        f"{len(results)} results ({int((~ok).sum())} with a method error): "
        f"{results['design'].nunique()} designs x {results['repeat'].nunique()} repeats x "
        f"{results['method'].nunique()} methods x {results['estimand'].nunique()} estimands "
        f"({', '.join(results['estimand'].unique())}). Test rows per repeat: "
        f"{_range(results['n_test'])}; training rows: {_range(results['n_train'])}."
    )
    return [_Block("h1", f"Study {studies}"), _Block("p", text)]


def _ranks(results: pd.DataFrame, out: Path) -> list[_Block]:
    blocks = [_Block("h2", "Average rank over designs"), _Block(
        "p", "Methods ranked within each design by mean CATE MSE over repeats (1 = best), then "
        "the ranks averaged over designs, as in SurvHTE-Bench. The Monte Carlo standard "
        "error (after +-) is sd / sqrt(repeats) of the average rank computed within each "
        "repeat (every design's data of a repeat share its seed).")]
    for metric, truth in _TRUTHS.items():
        ranks = average_ranks(results, metric)
        if ranks.empty:
            continue
        ranks = ranks.merge(_rank_errors(results, metric), on=["estimand", "method"],
                            how="left")
        table = ranks.pivot(index="method", columns="estimand", values="average_rank")
        order = table.mean(axis=1).sort_values().index
        table = table.loc[order]
        errors = ranks.pivot(index="method", columns="estimand", values="se").loc[order]
        cells = pd.DataFrame({column: [_pm(m, e) for m, e in zip(
            table[column], errors[column], strict=True)] for column in table.columns},
            index=table.index)
        name = f"average_rank_{metric}.png"
        _rank_figure(table, errors, f"Average rank, CATE MSE vs {truth}", out / name)
        blocks += [_Block("p", f"By CATE MSE vs the {truth} (average rank +- MC s.e.):"),
                   _Block("table", cells.reset_index()), _Block("figure", name)]
    return blocks


def _rank_errors(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Monte Carlo s.e. of each average rank: sd / sqrt(repeats) of the per-repeat average
    rank (methods ranked within each design on that repeat's score, averaged over designs)."""
    per_repeat = [average_ranks(part, metric).assign(repeat=repeat)
                  for repeat, part in results.groupby("repeat")]
    per_repeat = [part for part in per_repeat if not part.empty]
    if not per_repeat:
        return pd.DataFrame(columns=["estimand", "method", "se"])
    ranks = pd.concat(per_repeat, ignore_index=True)
    grouped = ranks.groupby(["estimand", "method"])["average_rank"]
    return (grouped.std(ddof=1) / np.sqrt(grouped.count())).rename("se").reset_index()


def _mse(results: pd.DataFrame, out: Path) -> list[_Block]:
    blocks = [_Block("h2", "CATE MSE per design"), _Block(
        "p", "Mean over repeats +- its Monte Carlo standard error (sd / sqrt(repeats)); rank "
        "within the design in brackets.")]
    scored = results[results["error"].isna()]
    for metric, truth in _TRUTHS.items():
        ranks = design_ranks(results, metric)
        if ranks.empty:
            continue
        grouped = scored.groupby(["estimand", "design", "method"])[metric]
        errors = (grouped.std(ddof=1) / np.sqrt(grouped.count())).rename("se").reset_index()
        ranks = ranks.merge(errors, on=["estimand", "design", "method"], how="left")
        for estimand, part in ranks.groupby("estimand"):
            cells = part.assign(cell=[f"{_pm(m, e)} ({r:g})" for m, e, r in zip(
                part["mean"], part["se"], part["rank"], strict=True)])
            table = cells.pivot(index="design", columns="method", values="cell").fillna("-")
            name = f"mse_{metric}_{_slug(estimand)}.png"
            _box_figure(results[results["estimand"] == estimand], metric,
                        f"CATE MSE vs {truth}, {estimand}", out / name)
            blocks += [_Block("p", f"{estimand}, vs the {truth}:"),
                       _Block("table", table.reset_index()), _Block("figure", name)]
    return blocks


def _ate(results: pd.DataFrame) -> list[_Block]:
    scored = results[results["error"].isna()]
    if "ate_bias_row" not in scored or scored["ate_bias_row"].isna().all():
        return []
    scored = scored.assign(abs_bias_row=scored["ate_bias_row"].abs(),
                           abs_bias_cond=scored["ate_bias_cond"].abs())
    columns = {"bias_row": "ate_bias_row", "abs_bias_row": "abs_bias_row",
               "bias_cond": "ate_bias_cond", "abs_bias_cond": "abs_bias_cond"}
    table = _pooled_table(scored, columns)
    blocks = [_Block("h2", "ATE bias"), _Block(
        "p", "Estimated ATE (over the training rows) minus the mean per-row effect (row) and "
        "minus the mean conditional effect (cond) of those rows; means over designs and "
        "repeats +- Monte Carlo standard errors (each design's sd / sqrt(repeats), combined "
        "over designs)."), _Block("table", table)]
    blocks += [_Block("p", "ATE bias (vs the conditional truth) per design, mean over repeats "
                      "+- MC s.e.:"),
               _Block("table", _per_design_table(scored, "ate_bias_cond"))]
    return blocks


def _coverage(results: pd.DataFrame, out: Path) -> list[_Block]:
    columns = ["cate_coverage", "cate_width", "ate_coverage", "ate_width"]
    scored = results[results["error"].isna()].dropna(subset=columns, how="all")
    if scored.empty:
        return []
    means = scored.groupby(["estimand", "method"])[columns].mean()
    errors = pd.DataFrame({c: _pooled_errors(scored, c) for c in columns})
    nominal = 1 - float(scored["alpha"].iloc[0])
    name = "coverage.png"
    _coverage_figure(means, errors, nominal, out / name)
    blocks = [_Block("h2", "Interval coverage"), _Block(
        "p", f"Nominal {nominal:.0%}. CATE intervals (predict_interval) on the test rows and ATE "
        "intervals (ate_interval) against the conditional truth; means over designs and "
        "repeats +- Monte Carlo standard errors. Methods without intervals are absent."),
        _Block("table", _pooled_table(scored, {c: c for c in columns})),
        _Block("figure", name)]
    for column, what in (("cate_coverage", "CATE"), ("ate_coverage", "ATE")):
        if scored[column].notna().any():
            blocks += [_Block("p", f"{what} interval coverage per design, mean over repeats "
                              "+- MC s.e.:"),
                       _Block("table", _per_design_table(scored, column))]
    return blocks


def _pooled_errors(scored: pd.DataFrame, column: str) -> pd.Series:
    """MC s.e. of the mean over designs and repeats, per (estimand, method): each design's
    variance of its mean (var / repeats), summed over designs, over the designs squared."""
    grouped = scored.groupby(["estimand", "method", "design"])[column]
    variance = grouped.var(ddof=1) / grouped.count()
    total = variance.groupby(["estimand", "method"])
    return np.sqrt(total.sum(min_count=1)) / total.count()


def _pooled_table(scored: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """``mean +- s.e.`` cells per (estimand, method) of each ``name: column``."""
    means = scored.groupby(["estimand", "method"])[list(columns.values())].mean()
    table = pd.DataFrame(index=means.index)
    for name, column in columns.items():
        errors = _pooled_errors(scored, column).reindex(means.index)
        table[name] = [_pm(m, e) for m, e in zip(means[column], errors, strict=True)]
    return table.reset_index()


def _per_design_table(scored: pd.DataFrame, column: str) -> pd.DataFrame:
    """``mean +- s.e.`` cells of ``column``: rows (estimand, design), one column per method."""
    grouped = scored.groupby(["estimand", "design", "method"])[column]
    means, errors = grouped.mean(), grouped.std(ddof=1) / np.sqrt(grouped.count())
    cells = pd.Series([_pm(m, e) for m, e in zip(means, errors, strict=True)],
                      index=means.index)
    return cells.unstack("method").fillna("-").reset_index()


def _cost(results: pd.DataFrame) -> list[_Block]:
    columns = ["fit_seconds", "predict_seconds", "interval_seconds", "peak_memory_mb"]
    table = results.groupby("method")[columns].mean()
    table["total_hours"] = results.groupby("method")[columns[:3]].sum().sum(axis=1) / 3600
    return [_Block("h2", "Cost"), _Block(
        "p", "Means per task (one worker core); peak memory is the peak traced allocation "
        "(Python and NumPy) during fit and predict; total_hours sums all tasks."),
        _Block("table", table.reset_index())]


def _errors(results: pd.DataFrame) -> list[_Block]:
    failed = results[results["error"].notna()]
    if failed.empty:
        return []
    counts = failed.groupby(["method", "error"]).size().rename("tasks").reset_index()
    return [_Block("h2", "Method errors"), _Block(
        "p", f"{len(failed)} tasks recorded an error (their metrics are missing)."),
        _Block("table", counts)]


def _rank_figure(table: pd.DataFrame, errors: pd.DataFrame, title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(table) * max(1, table.shape[1]) ** 0.5))
    table.iloc[::-1].plot.barh(ax=ax, xerr=errors.iloc[::-1], capsize=2,
                               error_kw={"elinewidth": 0.8})
    ax.set_xlabel("average rank (1 = best), +- MC s.e.")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=10)
    # outside the axes: it never covers a bar
    ax.legend(fontsize=8, title="estimand", title_fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    _save(fig, path)


def _box_figure(results: pd.DataFrame, metric: str, title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    scored = results[results["error"].isna()]
    facet = "scenario" if scored["scenario"].notna().all() else "design"
    panels = sorted(scored[facet].unique())
    methods = sorted(scored["method"].unique())
    fig, axes = plt.subplots(1, len(panels), figsize=(2.2 + 2.3 * len(panels), 4), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        part = scored[scored[facet] == panel]
        values = [part.loc[part["method"] == m, metric].dropna().to_numpy() for m in methods]
        ax.boxplot(values, tick_labels=methods, showfliers=False)
        if all(v.size and (v > 0).all() for v in values):
            ax.set_yscale("log")
        ax.set_title(f"{facet} {panel}", fontsize=9)
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    axes[0][0].set_ylabel(metric)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _coverage_figure(table: pd.DataFrame, errors: pd.DataFrame, nominal: float,
                     path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.35 * len(table)))
    labels = [f"{method} | {estimand}" for estimand, method in table.index]
    positions = np.arange(len(table))
    errors = errors.reindex(table.index)
    for offset, column, label in ((-0.2, "cate_coverage", "CATE"), (0.2, "ate_coverage", "ATE")):
        ax.barh(positions + offset, table[column], height=0.4, label=label,
                xerr=errors[column].fillna(0.0), capsize=2, error_kw={"elinewidth": 0.8})
    ax.axvline(nominal, color="k", linestyle="--", linewidth=1, label=f"nominal {nominal:.0%}")
    ax.set_yticks(positions, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("coverage (+- MC s.e.)")
    # outside the axes: it never covers a bar
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              frameon=False)
    _save(fig, path)


def _save(fig: object, path: Path) -> None:
    """Write a report figure (legends outside the axes included) and free it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _to_markdown(blocks: list[_Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if block.kind == "h1":
            lines += [f"# {block.content}", ""]
        elif block.kind == "h2":
            lines += [f"## {block.content}", ""]
        elif block.kind == "p":
            lines += [str(block.content), ""]
        elif block.kind == "table":
            lines += [_markdown_table(block.content), ""]
        else:
            lines += [f"![{block.content}]({block.content})", ""]
    return "\n".join(lines)


def _markdown_table(table: pd.DataFrame) -> str:
    rows = [[_cell(value) for value in row] for row in table.itertuples(index=False)]
    header = [str(column) for column in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _to_html(blocks: list[_Block]) -> str:
    body: list[str] = []
    for block in blocks:
        if block.kind in ("h1", "h2", "p"):
            body.append(f"<{block.kind}>{html.escape(str(block.content))}</{block.kind}>")
        elif block.kind == "table":
            formatted = block.content.map(_cell)
            body.append(formatted.to_html(index=False, border=0, classes="results"))
        else:
            body.append(f'<img src="{html.escape(str(block.content))}" alt="">')
    style = ("body{font-family:sans-serif;max-width:70em;margin:auto}"
             "table.results{border-collapse:collapse;font-size:85%}"
             "table.results td,table.results th{border:1px solid #ccc;padding:2px 6px}"
             "img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>survhte study</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _pm(mean: float, se: float) -> str:
    """``mean +- se`` (the mean alone when the s.e. is unknown: one repeat)."""
    if mean is None or math.isnan(mean):
        return "-"
    if se is None or math.isnan(se):
        return f"{mean:.4g}"
    return f"{mean:.4g} ± {se:.2g}"


def _range(values: pd.Series) -> str:
    low, high = int(values.min()), int(values.max())
    return f"{low}" if low == high else f"{low}-{high}"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)
