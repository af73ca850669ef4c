#!/usr/bin/python3
"""PNG map of a Vigie what-if scenario: the baseline, the scenario and their difference, side by side.

Usage:
  scenario_maps.py SCENARIO_JSON [--out DIR]

Reads scenario.json as written by `vigie scenario` (schema_version 1) and delta.h5 beside it, and writes
DIR/map_scenario.png (default DIR: the folder of the JSON) with three panels:
  baseline_total | scenario_total   expected incidents per cell over the scenario's window without and with the
                                    scenario (member 0), on one colour scale (square root, so both the many quiet
                                    cells and the few busy ones are readable);
  delta_total                       scenario - baseline per cell, on a diverging scale centred on 0 (red: more
                                    incidents, blue: fewer).
Every panel shows the study outline (doc["outline"]["rings_xy"] when the document has one, else the edge of
/fields/mask), the areas the scenario's events, works and interventions act on (contour of /fields/influence,
dashed) and, in grey, the cells the privacy rule does not publish (/fields/published == 0). The difference
panel marks the top 5 cells of doc["top_cells"] with their rank; the legend under it gives their area and
change. The footer gives the expected extra incidents over the window with their 80% interval (p10-p90), the
relative change against the baseline, and says when the interval includes 0. Labels are in French when
doc["lang"] is "fr".
Row j = 0 of every field is the southern row, so the maps are drawn with origin 'lower' over the grid's extent.

Exit status: 0 on success, 2 when the JSON or delta.h5 is missing, unreadable or not a scenario of
schema_version 1 (the message names the file and the reason).
"""
import argparse
import math
import os
import sys

import h5py
import matplotlib

# Agg draws without a display, as on compute nodes and in CI.
matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.patches as mpatches  # noqa: E402
import matplotlib.patheffects as patheffects  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# The forecast maps' helpers: reading and checking the document, drawing a grid map (cells, grey suppressed
# cells, outline, colour bar, axes in km), rank markers and labels that avoid each other, place names, times.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forecast_maps import (DPI, SUPPRESSED_GREY, check_outline, colour_bar, draw_cells, draw_outline,  # noqa: E402
                           finite_number, frame_map, grid_extent, load_grid_doc, pretty_time, rank_markers,
                           report_errors, size_rank_markers, spot_place, sqrt_norm)

PANEL_WIDTH_IN = 5.6  # each of the three maps; the height follows the grid's aspect
TOP_CELLS = 5
OUTLINE_COLOUR = "#303030"
INFLUENCE_COLOUR = "#5b2a86"
RANK_COLOUR = "#111111"  # black: navy would read as "fewer incidents" on the diverging map

TEXT = {
    "en": {
        "title": "Scenario: {name}",
        "baseline": "Baseline (without the scenario)",
        "scenario": "With the scenario",
        "delta": "Difference: scenario - baseline",
        "unit": "expected incidents per cell over the window (both maps)",
        "delta_unit": "extra incidents per cell over the window (red: more, blue: fewer)",
        "outline": "study area",
        "mask_edge": "edge of the study grid",
        "influence": "where the scenario's events, works or interventions act",
        "suppressed": "not published (privacy)",
        "top": "top {k} changes (rank)",
        "x": "x (km, {crs})",
        "y": "y (km, {crs})",
        "headline": "Expected extra incidents over the window: {delta} {interval} (80% interval, p10-p90)",
        "relative": "{base} without the scenario, {with_} with it ({rel})",
        "no_totals": "Totals not available in scenario.json",
        "straddle": "The interval includes 0: there could be no change.",
        "method": "Intervals over expected counts ({members} members), without the Poisson noise of actual incidents",
        "model": "model {model}",
        "issued": "issued {issued}",
        "outside": "(outside the named areas)",
    },
    "fr": {
        "title": "Sc\u00e9nario\u00a0: {name}",
        "baseline": "R\u00e9f\u00e9rence (sans le sc\u00e9nario)",
        "scenario": "Avec le sc\u00e9nario",
        "delta": "Diff\u00e9rence\u00a0: sc\u00e9nario - r\u00e9f\u00e9rence",
        "unit": "incidents attendus par maille sur la p\u00e9riode (les deux cartes)",
        "delta_unit": "incidents suppl\u00e9mentaires par maille sur la p\u00e9riode (rouge\u00a0: plus, "
                      "bleu\u00a0: moins)",
        "outline": "zone d'\u00e9tude",
        "mask_edge": "bord de la grille d'\u00e9tude",
        "influence": "zones o\u00f9 agissent les \u00e9v\u00e9nements, travaux ou interventions du sc\u00e9nario",
        "suppressed": "non publi\u00e9 (confidentialit\u00e9)",
        "top": "{k} plus fortes variations (rang)",
        "x": "x (km, {crs})",
        "y": "y (km, {crs})",
        "headline": "Incidents suppl\u00e9mentaires attendus sur la p\u00e9riode\u00a0: {delta} {interval} "
                    "(intervalle \u00e0 80\u00a0%, p10-p90)",
        "relative": "{base} sans le sc\u00e9nario, {with_} avec ({rel})",
        "no_totals": "Totaux non disponibles dans scenario.json",
        "straddle": "L'intervalle contient 0\u00a0: il pourrait n'y avoir aucun changement.",
        "method": "Intervalles sur les nombres attendus ({members} membres), sans le bruit de Poisson des incidents "
                  "r\u00e9els",
        "model": "mod\u00e8le {model}",
        "issued": "\u00e9mis le {issued}",
        "outside": "(hors des zones nomm\u00e9es)",
    },
}


class ScenarioError(Exception):
    """The scenario cannot be drawn; the message names the file and the reason."""


def require(condition, path, reason):
    if not condition:
        raise ScenarioError(f"{path}: {reason}")


def load_doc(path):
    """Reads scenario.json and checks the fields the map uses, so a malformed file fails here with its name."""
    doc = load_grid_doc(path, "scenario.json", ScenarioError)
    scenario = doc.get("scenario")
    require(scenario is None or isinstance(scenario, dict), path, "'scenario' is neither null nor an object")
    totals = doc.get("totals")
    require(totals is None or isinstance(totals, dict), path, "'totals' is neither null nor an object")
    cells = doc.get("top_cells")
    require(cells is None or isinstance(cells, list), path, "'top_cells' is neither null nor a list")
    for k, c in enumerate(cells or []):
        located = isinstance(c, dict) and ((finite_number(c.get("x")) and finite_number(c.get("y")))
                                           or (isinstance(c.get("i"), int) and isinstance(c.get("j"), int)))
        require(located and isinstance(c.get("rank"), int), path, f"top_cells[{k}] lacks a rank or a position "
                "(x, y or i, j)")
    check_outline(doc, path, ScenarioError)
    return doc


def read_fields(path, nx, ny):
    """The [ny][nx] planes of delta.h5: baseline, scenario and delta totals, mask, published, influence."""
    if not os.path.isfile(path):
        raise ScenarioError(f"{path}: no such file (delta.h5 is read from beside scenario.json)")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ScenarioError(f"{path}: not a readable HDF5 file ({e})")
    with f:
        require("fields" in f and isinstance(f["fields"], h5py.Group), path, "no /fields group")
        fields = f["fields"]

        def plane(name, required=True):
            if name not in fields:
                require(not required, path, f"no dataset /fields/{name}")
                return None
            data = np.asarray(fields[name][...])
            require(data.shape == (ny, nx), path,
                    f"/fields/{name} has shape {data.shape}, expected [ny][nx] = ({ny}, {nx}) as in scenario.json")
            return data

        out = {"mask": plane("mask") != 0}
        published = plane("published", required=False)
        out["published"] = np.ones((ny, nx), dtype=bool) if published is None else published != 0
        influence = plane("influence", required=False)
        out["influence"] = np.zeros((ny, nx), dtype=bool) if influence is None else influence != 0
        for name in ("baseline_total", "scenario_total", "delta_total"):
            data = plane(name).astype(float)
            require(np.all(np.isfinite(data[out["mask"]])), path, f"/fields/{name} is not finite inside the mask")
            out[name] = data
        require(np.all(out["baseline_total"][out["mask"]] >= 0) and np.all(out["scenario_total"][out["mask"]] >= 0),
                path, "/fields/baseline_total or scenario_total has negative values")
    return out


def fmt(value, lang, sign=False):
    """An incident count as scenario.md writes it: about three significant digits (two below 0.01), decimal comma
    in French."""
    if not finite_number(value):
        return "n.d." if lang == "fr" else "n/a"
    a = abs(value)
    if a == 0:
        return "0"
    if a < 1e-6:
        text = "-<0.000001" if value < 0 else ("+" if sign else "") + "<0.000001"
        return text.replace(".", ",") if lang == "fr" else text
    decimals = 0 if a >= 99.5 else 1 if a >= 0.995 else 2 if a >= 0.0995 else 3
    if a < 0.00995:  # two significant digits: a cell's change over a few hours is often ten-thousandths
        decimals = math.ceil(-math.log10(float(f"{a:.1e}")) - 1e-9) + 1  # 0.000998 is 0.0010, not 0.00100
    text = f"{value:.{decimals}f}"
    if "." in text and set(text.split(".")[1]) == {"0"}:
        text = text.split(".")[0]
    if sign and value > 0:
        text = "+" + text
    return text.replace(".", ",") if lang == "fr" else text


def fmt_percent(fraction, lang):
    x = 100.0 * fraction
    text = f"{x:+.1f}" if abs(x) < 9.95 else f"{x:+.0f}"
    if text.endswith(".0"):
        text = text[:-2]
    return (text.replace(".", ",") + "\u00a0%") if lang == "fr" else text + "%"


def interval(lo, hi, lang):
    if not (finite_number(lo) and finite_number(hi)):
        return ""
    sep = "\u00a0; " if lang == "fr" else ", "
    return f"[{fmt(lo, lang, True)}{sep}{fmt(hi, lang, True)}]"


def footer_lines(doc, words, lang):
    totals = doc.get("totals") or {}
    delta = totals.get("delta") if isinstance(totals.get("delta"), dict) else {}
    base = totals.get("baseline") if isinstance(totals.get("baseline"), dict) else {}
    scen = totals.get("scenario") if isinstance(totals.get("scenario"), dict) else {}
    lines = []
    e, lo, hi = delta.get("expected"), delta.get("p10"), delta.get("p90")
    if finite_number(e):
        line = words["headline"].format(delta=fmt(e, lang, True), interval=interval(lo, hi, lang)).replace("  ", " ")
        b, s = base.get("expected"), scen.get("expected")
        if finite_number(b) and finite_number(s):
            rel = fmt_percent(e / b, lang) if b > 0 else "n/a"
            line += "; " if lang == "en" else "\u00a0; "
            line += words["relative"].format(base=fmt(b, lang), with_=fmt(s, lang), rel=rel)
        lines.append(line + ".")
        if finite_number(lo) and finite_number(hi) and lo <= 0 <= hi and not (lo == 0 == hi):
            lines.append(words["straddle"])
    else:
        lines.append(words["no_totals"] + ".")
    tail = []
    members = doc.get("members")
    if isinstance(members, int) and not isinstance(members, bool):
        tail.append(words["method"].format(members=members))
    if isinstance(doc.get("model"), str):
        tail.append(words["model"].format(model=doc["model"]))
    if doc.get("issued_utc"):
        tail.append(words["issued"].format(issued=pretty_time(doc["issued_utc"])))
    if tail:
        lines.append("  \u2022  ".join(tail))
    return lines


def padded(grid, plane):
    """Cell-centre coordinates and the plane with a ring of zeros around it, so contours close at the grid edge."""
    x0, y0, cell = float(grid["x0"]), float(grid["y0"]), float(grid["cell_m"])
    nx, ny = int(grid["nx"]), int(grid["ny"])
    xs = x0 + (np.arange(-1, nx + 1) + 0.5) * cell
    ys = y0 + (np.arange(-1, ny + 1) + 0.5) * cell
    return xs, ys, np.pad(plane.astype(float), 1)


def draw_panel(ax, fig, doc, words, values, fields, cmap, norm, title, bar_label, show_bar):
    grid = doc["grid"]
    extent = grid_extent(grid)
    mask, published = fields["mask"], fields["published"]
    image = draw_cells(ax, extent, np.where(mask & published, values, np.nan), mask & ~published, cmap, norm)
    # Every panel gets a colour bar slot, so the three maps have the same size; only some show theirs.
    colour_bar(fig, ax, image, bar_label, 0.1, 8, show_bar)

    rings = draw_outline(ax, doc, OUTLINE_COLOUR)
    if not rings and mask.any():
        ax.contour(*padded(grid, mask), levels=[0.5], colors=OUTLINE_COLOUR, linewidths=0.8, zorder=2)
    if fields["influence"].any():
        lines = ax.contour(*padded(grid, fields["influence"]), levels=[0.5], colors=INFLUENCE_COLOUR, linewidths=1.3,
                           linestyles="--", zorder=3)
        # A white halo keeps the dashed line visible over the darkest cells.
        halo = [patheffects.withStroke(linewidth=3.2, foreground="white")]
        for artist in ([lines] if hasattr(lines, "set_path_effects") else lines.collections):
            artist.set_path_effects(halo)

    frame_map(ax, doc, words, extent, title, 8)
    return bool(rings)


def cell_xy(spot, grid):
    """The cell centre of a top cell: its x, y when given, else from i, j."""
    if finite_number(spot.get("x")) and finite_number(spot.get("y")):
        return float(spot["x"]), float(spot["y"])
    cell = float(grid["cell_m"])
    return float(grid["x0"]) + (spot["i"] + 0.5) * cell, float(grid["y0"]) + (spot["j"] + 0.5) * cell


def draw_map(doc, fields, out_path):
    lang = doc.get("lang") if doc.get("lang") in TEXT else "en"
    words = TEXT[lang]
    grid = doc["grid"]
    mask, shown = fields["mask"], fields["mask"] & fields["published"]

    counts_norm = sqrt_norm(np.concatenate([fields["baseline_total"][shown], fields["scenario_total"][shown]]))
    spread = float(np.abs(fields["delta_total"][shown]).max()) if shown.any() else 0.0
    if not spread > 0:
        spread = 1.0  # no change anywhere: an all-white panel, still centred on 0
    delta_norm = mcolors.TwoSlopeNorm(vcenter=0.0, vmin=-spread, vmax=spread)

    aspect = int(grid["ny"]) / int(grid["nx"])
    fig, axes = plt.subplots(1, 3, figsize=(3 * PANEL_WIDTH_IN + 1.5, PANEL_WIDTH_IN * aspect + 1.2))
    has_outline = draw_panel(axes[0], fig, doc, words, fields["baseline_total"], fields, "YlOrRd", counts_norm,
                             words["baseline"], "", False)
    draw_panel(axes[1], fig, doc, words, fields["scenario_total"], fields, "YlOrRd", counts_norm, words["scenario"],
               words["unit"], True)
    draw_panel(axes[2], fig, doc, words, fields["delta_total"], fields, "RdBu_r", delta_norm, words["delta"],
               words["delta_unit"], True)

    scenario = doc.get("scenario") if isinstance(doc.get("scenario"), dict) else {}
    name = scenario.get("name") or scenario.get("file") or "?"
    head = [words["title"].format(name=name)]
    start, end = scenario.get("start"), scenario.get("end")
    if start or end:
        head.append(f"{pretty_time(start)} \u2192 {pretty_time(end)}  ({doc.get('case') or '?'})")

    # What the lines and the grey mean, under the first two panels.
    general = [plt.Line2D([], [], color=OUTLINE_COLOUR, linewidth=0.9,
                          label=words["outline"] if has_outline else words["mask_edge"])]
    if fields["influence"].any():
        general.append(plt.Line2D([], [], color=INFLUENCE_COLOUR, linewidth=1.3, linestyle="--",
                                  label=words["influence"]))
    if (mask & ~fields["published"]).any():
        general.append(mpatches.Patch(facecolor=SUPPRESSED_GREY, edgecolor="none", label=words["suppressed"]))

    cells = sorted((c for c in (doc.get("top_cells") or []) if c["rank"] >= 1), key=lambda c: c["rank"])
    spots = []
    for c in cells[:TOP_CELLS]:
        x, y = cell_xy(c, grid)
        spots.append(dict(c, x=x, y=y))
    named = []
    markers = None
    colon = "\u00a0: " if lang == "fr" else ": "
    if spots:
        markers, handle = rank_markers(axes[2], spots, RANK_COLOUR, words["top"].format(k=len(spots)), 4)
        general.append(handle)
        for s in spots:
            place = s["area"] if isinstance(s.get("area"), str) and s["area"] else (
                spot_place({k: v for k, v in s.items() if k != "area"}) if finite_number(s.get("lon"))
                else words["outside"])
            change = fmt(s.get("delta"), lang, True)
            iv = interval(s.get("delta_p10"), s.get("delta_p90"), lang)
            named.append(plt.Line2D([], [], marker=f"${s['rank']}$", linestyle="none", color=RANK_COLOUR,
                                    markersize=7, label=f"{place}{colon}{change} {iv}".rstrip()))

    legends = [axes[0].legend(handles=general, loc="upper left", bbox_to_anchor=(0.0, -0.09), fontsize=8,
                              frameon=False, handletextpad=0.6)]
    if named:
        legends.append(axes[2].legend(handles=named, loc="upper left", bbox_to_anchor=(0.0, -0.09), fontsize=8,
                                      frameon=False, handletextpad=0.6))
    fig.tight_layout()
    if spots:
        size_rank_markers(axes[2], markers, spots, float(grid["cell_m"]), RANK_COLOUR)
    fig.canvas.draw()
    # The title just above the panels (a suptitle at the top of the figure would leave a gap over wide grids).
    top = max(ax.get_tightbbox().y1 for ax in axes)
    fig.text(0.5, (top + 10) / fig.bbox.height, "\n".join(head), ha="center", va="bottom", fontsize=12)
    lowest = min(legend.get_window_extent().y0 for legend in legends)
    footer_y = (lowest - 8) / fig.bbox.height
    fig.text(0.5, footer_y, "\n".join(footer_lines(doc, words, lang)), ha="center", va="top", fontsize=9,
             color="#222222", linespacing=1.5)
    fig.savefig(out_path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


def draw_all(args):
    """map_scenario.png of args.scenario_json; 0 once written."""
    doc = load_doc(args.scenario_json)
    grid = doc["grid"]
    folder = os.path.dirname(os.path.abspath(args.scenario_json))
    fields = read_fields(os.path.join(folder, "delta.h5"), int(grid["nx"]), int(grid["ny"]))
    out_dir = args.out or folder
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "map_scenario.png")
    draw_map(doc, fields, out)
    print(f"scenario_maps: wrote {out}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario_json")
    parser.add_argument("--out", help="folder of the PNG file (default: the folder of the JSON)")
    return report_errors("scenario_maps", ScenarioError, lambda: draw_all(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
