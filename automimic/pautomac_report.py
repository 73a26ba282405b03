"""The PAutomaC results as a table: ``results.csv`` and ``report.html`` (the table, and a plot of
the RNN's and the n-gram's perplexity relative to the true model's, per problem)."""

from __future__ import annotations

import csv
import io
import json

from compare.formatting import number

COLUMNS = (  # (key, heading, decimals; None: the value as it is, whole seconds)
    ("problem", "problem", None),
    ("true_perplexity", "true perplexity", 3),
    ("model_perplexity", "RNN perplexity", 3),
    ("model_ratio", "RNN / true", 4),
    ("baseline_perplexity", "n-gram perplexity", 3),
    ("baseline_ratio", "n-gram / true", 4),
    ("baseline", "n-gram", None),
    ("epochs", "epochs", None),
    ("best_epoch", "best epoch", None),
    ("seconds", "seconds", None),
    ("tuned", "tune chose", None),  # only in a --tune run
)


def csv_text(results: list[dict]) -> str:
    """The results as CSV: the columns of the table first, then any other key.

    >>> print(csv_text([{"problem": 1, "true_perplexity": 29.9, "extra": "x"}]), end="")
    problem,true_perplexity,extra
    1,29.9,x
    """
    keys = [key for key, _, _ in COLUMNS if any(key in r for r in results)]
    keys += sorted({key for r in results for key in r} - set(keys))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(results)
    return buffer.getvalue()


def report_html(document: dict) -> str:
    """The page of ``results.json``'s document: the plot, the table, the settings."""
    from compare.page import render

    results = document["problems"]
    columns = [column for column in COLUMNS if column[0] != "tuned" or any("tuned" in r for r in results)]
    rows = [[_cell(r.get(key), decimals) for key, _, decimals in columns] for r in results]
    return render("pautomac.html", title="PAutomaC results", rows=rows,
                  headers=[heading for _, heading, _ in columns],
                  plot=_ratio_plot(results) if results else None,
                  settings=document["settings"],
                  settings_text=json.dumps(document["settings"], indent=1))


def _cell(value, decimals: int | None) -> str:
    """A value for the table.

    >>> _cell(29.89789, 3), _cell(83.47, None), _cell("order-3 Markov", None), _cell(None, 3)
    ('29.898', '83', 'order-3 Markov', '—')
    """
    if decimals is not None or value is None:
        return number(value, decimals or 0)
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def _ratio_plot(results: list[dict]):
    """SVG markup of model/true and baseline/true per problem, 1 (the truth) marked."""
    from compare.page import axes, svg

    figure, ax = axes(max(6.4, 0.25 * len(results) + 2), 3.4)
    positions = range(len(results))
    for key, label, marker in (("model_ratio", "RNN / true", "o"),
                               ("baseline_ratio", "n-gram / true", "s")):
        ax.plot(positions, [r[key] for r in results], marker, label=label, alpha=0.8)
    ax.axhline(1.0, color="#888", linewidth=0.8)
    ax.set(xlabel="problem", ylabel="perplexity / true perplexity", xticks=list(positions),
           xticklabels=[str(r["problem"]) for r in results])
    ax.legend()
    return svg(figure)
