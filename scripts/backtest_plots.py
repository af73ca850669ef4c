#!/usr/bin/python3
"""PNG plots of a Vigie backtest, linked from its Markdown report.

Usage:
  backtest_plots.py BACKTEST_JSON [--out DIR]

Reads backtest.json as written by `vigie backtest` and writes, into DIR (default: the folder of the JSON):
  backtest_hit_rate_vs_area.png   hit rate against flagged area per model, with the random-forecast diagonal
  backtest_reliability.png        pooled reliability diagram per model (empty probability bins left out)
  backtest_pai5_per_window.png    PAI at 5% of the area for each window over time, per model
Then it writes a "## Plots" section with links to these images at the end of the backtest.md next to the JSON,
replacing the section a previous run wrote, so running it twice leaves one section.

Exit status: 0 on success, 2 when the JSON is missing or is not a backtest report.
"""
import argparse
import datetime
import json
import math
import os
import sys

import matplotlib

# Agg draws without a display, as on compute nodes and in CI.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HIT_RATE_PNG = "backtest_hit_rate_vs_area.png"
RELIABILITY_PNG = "backtest_reliability.png"
PAI5_PNG = "backtest_pai5_per_window.png"
PLOTS_HEADING = "## Plots"


class ReportError(Exception):
    """The backtest JSON cannot be used; the message names the file and the reason."""


def require(condition, path, reason):
    if not condition:
        raise ReportError(f"{path}: {reason}")


def load_report(path):
    """Reads and checks the fields the plots use, so a malformed file fails here with its name, not in matplotlib."""
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file")
    except OSError as e:
        raise ReportError(f"{path}: cannot read ({e.strerror})")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReportError(f"{path}: not valid JSON ({e})")
    require(isinstance(report, dict), path, "top level is not a JSON object")
    require(report.get("schema_version") == 1, path,
            f"schema_version is {report.get('schema_version')!r}, expected 1")
    models = report.get("models")
    require(isinstance(models, dict) and models, path, "'models' is missing or empty")
    coverages = report.get("coverages_percent", [1, 5, 10])
    require(isinstance(coverages, list) and all(isinstance(c, (int, float)) for c in coverages), path,
            "'coverages_percent' is not a list of numbers")
    for name, scores in models.items():
        require(isinstance(scores, dict), path, f"models.{name} is not an object")
        hit_rate = scores.get("hit_rate")
        require(isinstance(hit_rate, dict), path, f"models.{name}.hit_rate is missing")
        for c in coverages:
            require(coverage_key(c) in hit_rate, path, f"models.{name}.hit_rate has no entry for {c}%")
        require(isinstance(scores.get("reliability", []), list), path,
                f"models.{name}.reliability is not a list")
    require(isinstance(report.get("per_window", []), list), path, "'per_window' is not a list")
    return report


def coverage_key(percent):
    """The JSON keys coverages as integers when they are whole ("5"), as the engine writes them."""
    return str(int(percent)) if float(percent).is_integer() else repr(float(percent))


def finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def plot_hit_rate(report, out_path):
    coverages = sorted(float(c) for c in report.get("coverages_percent", [1, 5, 10]))
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    top = max(coverages) / 100.0
    # A forecast with no skill finds events in proportion to the area it flags.
    ax.plot([0.0, top], [0.0, top], color="grey", linestyle="--", label="random")
    for name in sorted(report["models"]):
        hit_rate = report["models"][name]["hit_rate"]
        xs, ys = [0.0], [0.0]
        for c in coverages:
            value = hit_rate[coverage_key(c)]
            if finite(value):
                xs.append(c / 100.0)
                ys.append(value)
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_xlabel("fraction of area flagged")
    ax.set_ylabel("hit rate (fraction of events in flagged cells)")
    ax.set_title(f"Hit rate vs flagged area ({report.get('case', 'backtest')})")
    ax.set_xlim(0.0, top * 1.05)
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def plot_reliability(report, out_path):
    names = sorted(report["models"])
    cols = min(len(names), 2)
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 4.0 * rows), squeeze=False)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), names):
        ax.plot([0.0, 1.0], [0.0, 1.0], color="grey", linestyle="--", label="perfect")
        bins = [b for b in report["models"][name].get("reliability", [])
                if isinstance(b, dict) and b.get("cells", 0) > 0 and finite(b.get("mean_forecast_p"))
                and finite(b.get("observed_frequency"))]
        if bins:
            ax.plot([b["mean_forecast_p"] for b in bins], [b["observed_frequency"] for b in bins], marker="o",
                    label=name)
        else:
            ax.text(0.5, 0.5, "no populated bins", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(name)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel("mean forecast P(at least one event)")
        ax.set_ylabel("observed frequency")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left")
    fig.suptitle(f"Reliability, pooled over windows ({report.get('case', 'backtest')})")
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def window_start(window, index):
    """The window's start as a date; the window's position when the start is absent or unreadable."""
    start = window.get("start") if isinstance(window, dict) else None
    if isinstance(start, str):
        try:
            return datetime.datetime.fromisoformat(start)
        except ValueError:
            pass
    return index


def plot_pai5(report, out_path):
    windows = report.get("per_window", [])
    starts = [window_start(w, i) for i, w in enumerate(windows)]
    # Mixing dates and positions on one axis fails in matplotlib; fall back to positions for all windows.
    if not all(isinstance(s, datetime.datetime) for s in starts):
        starts = list(range(len(windows)))
    fig, ax = plt.subplots(figsize=(8.0, 4.8))
    ax.axhline(1.0, color="grey", linestyle="--", label="random (PAI = 1)")
    for name in sorted(report["models"]):
        xs, ys = [], []
        for start, window in zip(starts, windows):
            scores = window.get("models", {}).get(name, {}) if isinstance(window, dict) else {}
            value = scores.get("pai5") if isinstance(scores, dict) else None
            # A window without events has no PAI; it is left as a gap rather than drawn as zero.
            if finite(value):
                xs.append(start)
                ys.append(value)
        if xs:
            ax.plot(xs, ys, marker="o", markersize=3, label=name)
    ax.set_xlabel("window start" if starts and isinstance(starts[0], datetime.datetime) else "window")
    ax.set_ylabel("PAI at 5% of the area")
    ax.set_title(f"PAI@5% per window ({report.get('case', 'backtest')})")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def plots_section(md_dir, out_dir):
    rel = os.path.relpath(out_dir, md_dir)
    link = (lambda f: f) if rel == "." else (lambda f: f"{rel}/{f}")
    return "\n".join([
        PLOTS_HEADING,
        "",
        "Hit rate against the fraction of the area flagged (dashed: a forecast with no skill).",
        "",
        f"![Hit rate vs flagged area]({link(HIT_RATE_PNG)})",
        "",
        "Reliability: mean forecast probability of at least one event against the observed frequency, pooled "
        "over windows (dashed: perfectly calibrated; empty bins left out).",
        "",
        f"![Reliability diagram]({link(RELIABILITY_PNG)})",
        "",
        "PAI at 5% of the area, window by window.",
        "",
        f"![PAI@5% per window]({link(PAI5_PNG)})",
        "",
    ])


def replace_plots_section(text, section):
    """Drops a previous "## Plots" section (up to the next level-2 heading) and appends the new one at the end."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.rstrip() == PLOTS_HEADING:
            skipping = True
            continue
        if skipping and line.startswith("## "):
            skipping = False
        if not skipping:
            kept.append(line)
    body = "\n".join(kept).rstrip("\n")
    return (body + "\n\n" if body else "") + section


def main():
    parser = argparse.ArgumentParser(description="PNG plots of a Vigie backtest.json, linked from backtest.md.")
    parser.add_argument("backtest_json")
    parser.add_argument("--out", help="folder for the PNGs (default: the folder of the JSON)")
    args = parser.parse_args()

    try:
        report = load_report(args.backtest_json)
    except ReportError as e:
        print(f"backtest_plots: {e}", file=sys.stderr)
        return 2

    md_dir = os.path.dirname(os.path.abspath(args.backtest_json))
    out_dir = os.path.abspath(args.out) if args.out else md_dir
    os.makedirs(out_dir, exist_ok=True)
    plot_hit_rate(report, os.path.join(out_dir, HIT_RATE_PNG))
    plot_reliability(report, os.path.join(out_dir, RELIABILITY_PNG))
    plot_pai5(report, os.path.join(out_dir, PAI5_PNG))

    md_path = os.path.join(md_dir, "backtest.md")
    text = ""
    if os.path.exists(md_path):
        with open(md_path, encoding="utf-8") as f:
            text = f.read()
    # Written to a temporary name and renamed, so an interrupted run never leaves a truncated report.
    tmp_path = md_path + ".tmp"
    with open(tmp_path, "w", encoding="utf-8") as f:
        f.write(replace_plots_section(text, plots_section(md_dir, out_dir)))
    os.replace(tmp_path, md_path)
    print(f"backtest_plots: wrote {HIT_RATE_PNG}, {RELIABILITY_PNG}, {PAI5_PNG} in {out_dir}; updated {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
