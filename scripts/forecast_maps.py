#!/usr/bin/python3
"""PNG maps of a Vigie forecast: where at least one event is likely over each horizon, and how uncertain it is.

Usage:
  forecast_maps.py FORECAST_JSON [--out DIR]

Reads forecast.json as written by `vigie forecast` and forecast.h5 beside it, and writes into DIR (default: the
folder of the JSON), for every horizon H of the JSON:
  map_<H>.png              per cell, the probability of at least one event over the whole horizon: the
                           file's whole-horizon map /fields/H.total_p_any when it has one (the ensemble members'
                           mean of 1 - exp(-their intensity summed over the steps)), else 1 - prod over steps
                           (1 - p_any) from /fields/H.p_any (steps taken as independent), else
                           1 - exp(-sum of /fields/H.expected); the title says which. Cells outside the study
                           area are left blank, cells the privacy rule does not publish (/fields/published == 0)
                           are grey. The study outline, the top 10 hotspots (their rank on the map; the area name
                           and value of the top 3 in the legend), and in the footer the backtest skill against the
                           best baseline (or "no backtest").
  map_<H>_uncertainty.png  per cell, the width p90 - p10 of the ensemble's 80% band in events per cell: of the
                           members' horizon totals (/fields/H.total_p10, total_p90) when the file has them, else
                           the per-step widths (/fields/H.p10, H.p90) summed over the steps; same layout.
Row j = 0 of every field is the southern row, so the maps are drawn with origin 'lower' over the grid's extent.

Exit status: 0 on success, 2 when the JSON or the HDF5 file is missing, unreadable or not a forecast of
schema_version 1 (the message names the file and the reason).
"""
import argparse
import json
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
from matplotlib.ticker import FuncFormatter  # noqa: E402
from mpl_toolkits.axes_grid1 import make_axes_locatable  # noqa: E402

DPI = 110
FIGSIZE = (8, 8)
TOP_HOTSPOTS = 10
NAMED_HOTSPOTS = 3
SUPPRESSED_GREY = "#c8c8c8"

TEXT = {
    "en": {
        "prob_title": "Probability of at least one event",
        "unc_title": "Forecast uncertainty (p90 - p10)",
        "from": "from",
        "model": "model",
        "method_total": "mean over members of 1 - exp(-\u03a3 \u03bb) over {n} step(s)",
        "method_pany": "1 - \u220f(1 - p_any) over {n} step(s)",
        "method_exp": "1 - exp(-\u03a3 expected) over {n} step(s)",
        "prob_unit": "probability of \u2265 1 event over the horizon (%)",
        "unc_unit": "p90 - p10 (expected events per cell, sum of {n} step(s))",
        "unc_unit_total": "p90 - p10 of the members' totals over {n} step(s) (events per cell)",
        "suppressed": "not published (privacy)",
        "hotspot": "top {k} hotspots (rank)",
        "outline": "study area",
        "x": "x (km, {crs})",
        "y": "y (km, {crs})",
        "skill": "Backtest ({windows} {bin} windows): {model} PAI@5% / best baseline ({baseline}) = {ratio}{ci}",
        "skill_undefined": "Backtest ({windows} {bin} windows): {model} vs best baseline ({baseline}): PAI@5% "
                           "ratio undefined",
        "no_backtest": "no backtest",
        "issued": "issued {issued}",
        "members": "{members} members",
    },
    "fr": {
        "prob_title": "Probabilit\u00e9 d'au moins un \u00e9v\u00e9nement",
        "unc_title": "Incertitude de la pr\u00e9vision (p90 - p10)",
        "from": "\u00e0 partir du",
        "model": "mod\u00e8le",
        "method_total": "moyenne sur les membres de 1 - exp(-\u03a3 \u03bb) sur {n} pas",
        "method_pany": "1 - \u220f(1 - p_any) sur {n} pas",
        "method_exp": "1 - exp(-\u03a3 esp\u00e9rance) sur {n} pas",
        "prob_unit": "probabilit\u00e9 d'au moins 1 \u00e9v\u00e9nement sur l'horizon (%)",
        "unc_unit": "p90 - p10 (nombre attendu par maille, somme de {n} pas)",
        "unc_unit_total": "p90 - p10 des totaux des membres sur {n} pas (\u00e9v\u00e9nements par maille)",
        "suppressed": "non publi\u00e9 (confidentialit\u00e9)",
        "hotspot": "{k} premiers points chauds (rang)",
        "outline": "zone d'\u00e9tude",
        "x": "x (km, {crs})",
        "y": "y (km, {crs})",
        "skill": "Backtest ({windows} fen\u00eatres, pas {bin}) : PAI@5% de {model} / meilleure r\u00e9f\u00e9rence "
                 "({baseline}) = {ratio}{ci}",
        "skill_undefined": "Backtest ({windows} fen\u00eatres, pas {bin}) : {model} / meilleure r\u00e9f\u00e9rence "
                           "({baseline}) : rapport PAI@5% ind\u00e9fini",
        "no_backtest": "pas de backtest",
        "issued": "\u00e9mis le {issued}",
        "members": "{members} membres",
    },
}


class ForecastError(Exception):
    """The forecast cannot be drawn; the message names the file and the reason."""


def require(condition, path, reason, error=ForecastError):
    if not condition:
        raise error(f"{path}: {reason}")


def finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---- Shared with scenario_maps.py: reading a Vigie document, and drawing a grid map.

def load_grid_doc(path, expected, error):
    """Reads a Vigie JSON document (`expected`: its file name) and checks its schema_version and grid, so a
    malformed file fails here with its name; `error` is the exception class to raise."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise error(f"{path}: no such file")
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected {expected}")
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise error(f"{path}: not valid JSON ({e})")
    require(isinstance(doc, dict), path, "top level is not a JSON object", error)
    require(doc.get("schema_version") == 1, path, f"schema_version is {doc.get('schema_version')!r}, expected 1",
            error)
    grid = doc.get("grid")
    require(isinstance(grid, dict), path, "'grid' is missing or not an object", error)
    for key in ("x0", "y0", "cell_m"):
        require(finite_number(grid.get(key)), path, f"grid.{key} is missing or not a finite number", error)
    require(grid["cell_m"] > 0, path, f"grid.cell_m is {grid['cell_m']}, expected > 0", error)
    for key in ("nx", "ny"):
        require(isinstance(grid.get(key), int) and not isinstance(grid.get(key), bool) and grid[key] > 0, path,
                f"grid.{key} is missing or not a positive integer", error)
    return doc


def check_outline(doc, path, error):
    """doc["outline"] is null or an object whose rings_xy are lists of [x, y] points."""
    outline = doc.get("outline")
    if outline is not None:
        require(isinstance(outline, dict) and isinstance(outline.get("rings_xy"), list), path,
                "outline is neither null nor an object with rings_xy", error)
        for r, ring in enumerate(outline["rings_xy"]):
            ok = isinstance(ring, list) and all(isinstance(p, list) and len(p) >= 2 and finite_number(p[0])
                                                and finite_number(p[1]) for p in ring)
            require(ok, path, f"outline.rings_xy[{r}] is not a list of [x, y] points", error)


def grid_extent(grid):
    """(left, right, bottom, top) of the grid in its CRS, for imshow with origin 'lower'."""
    x0, y0, cell = float(grid["x0"]), float(grid["y0"]), float(grid["cell_m"])
    return (x0, x0 + int(grid["nx"]) * cell, y0, y0 + int(grid["ny"]) * cell)


def sqrt_norm(values):
    """A square-root colour scale from 0 to the largest value (1 when there is none): values concentrated near
    zero with a few hot cells stay readable."""
    vmax = float(values.max()) if values.size else 1.0
    if not vmax > 0:
        vmax = 1.0
    return mcolors.PowerNorm(gamma=0.5, vmin=0.0, vmax=vmax)


def draw_cells(ax, extent, values, suppressed, cmap, norm):
    """The cells in grey where the privacy rule suppresses them, `values` (NaN: not drawn) over them."""
    ax.set_facecolor("white")
    grey = np.where(suppressed, 1.0, np.nan)
    ax.imshow(grey, origin="lower", extent=extent, cmap=mcolors.ListedColormap([SUPPRESSED_GREY]), vmin=0, vmax=1,
              interpolation="nearest")
    return ax.imshow(values, origin="lower", extent=extent, cmap=cmap, norm=norm, interpolation="nearest")


def colour_bar(fig, ax, image, label, pad, fontsize, show=True):
    """A colour bar right of the map; with show False only its slot, so maps side by side keep one size."""
    bar_ax = make_axes_locatable(ax).append_axes("right", size="3.5%", pad=pad)
    if not show:
        bar_ax.set_axis_off()
        return
    bar = fig.colorbar(image, cax=bar_ax)
    bar.set_label(label, fontsize=fontsize)
    bar.ax.tick_params(labelsize=fontsize - 1)


def draw_outline(ax, doc, colour):
    """The study outline (doc["outline"]["rings_xy"]); the number of rings drawn."""
    outline = doc.get("outline")
    rings = outline.get("rings_xy", []) if isinstance(outline, dict) else []
    rings = [r for r in rings if len(r) >= 2]
    for ring in rings:
        xy = np.asarray(ring, dtype=float)[:, :2]
        ax.plot(xy[:, 0], xy[:, 1], color=colour, linewidth=0.9, zorder=2)
    return len(rings)


def frame_map(ax, doc, words, extent, title, fontsize):
    """Limits, equal aspect, axes in km with the CRS named, and the title."""
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    crs = doc.get("crs") or "grid"
    ax.xaxis.set_major_formatter(km_formatter())
    ax.yaxis.set_major_formatter(km_formatter())
    ax.set_xlabel(words["x"].format(crs=crs), fontsize=fontsize)
    ax.set_ylabel(words["y"].format(crs=crs), fontsize=fontsize)
    ax.tick_params(labelsize=fontsize - 1)
    ax.set_title(title, fontsize=10)


def rank_markers(ax, spots, colour, label, zorder):
    """Open circles on the ranked cells, and their legend entry; size them with size_rank_markers once the layout
    is final."""
    markers = ax.scatter([s["x"] for s in spots], [s["y"] for s in spots], s=36, facecolors="none",
                         edgecolors=colour, linewidths=1.2, zorder=zorder)
    handle = plt.Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", markeredgecolor=colour,
                        markeredgewidth=1.2, label=label)
    return markers, handle


def size_rank_markers(ax, markers, spots, cell_m, colour):
    """After tight_layout: the circles a little wider than a cell, and the rank labels beside them."""
    marker_pt = marker_diameter_pt(ax, cell_m)
    markers.set_sizes([marker_pt**2])
    place_rank_labels(ax, spots, 8, colour, marker_pt)


def report_errors(tool, error, body):
    """Runs body(); `error` and OSError become a message on stderr and exit status 2."""
    try:
        return body()
    except error as e:
        print(f"{tool}: {e}", file=sys.stderr)
    except OSError as e:
        print(f"{tool}: {e.filename or ''}: cannot write ({e.strerror})", file=sys.stderr)
    return 2


# ---- The forecast.

def load_doc(path):
    """Reads forecast.json and checks the fields the maps use, so a malformed file fails here with its name."""
    doc = load_grid_doc(path, "forecast.json", ForecastError)
    horizons = doc.get("horizons")
    require(isinstance(horizons, list) and horizons, path, "'horizons' is missing or empty")
    for k, h in enumerate(horizons):
        require(isinstance(h, dict) and isinstance(h.get("name"), str) and h["name"], path,
                f"horizons[{k}] has no name")
        require(all(c.isalnum() or c in "_-." for c in h["name"]), path,
                f"horizons[{k}].name {h['name']!r} is not usable in a file name")
        require(isinstance(h.get("hotspots", []), list), path, f"horizons[{k}].hotspots is not a list")
        for s, spot in enumerate(h.get("hotspots", [])):
            require(isinstance(spot, dict) and finite_number(spot.get("x")) and finite_number(spot.get("y"))
                    and isinstance(spot.get("rank"), int), path,
                    f"horizons[{k}].hotspots[{s}] lacks a rank or finite x, y")
    check_outline(doc, path, ForecastError)
    return doc


class FieldReader:
    """forecast.h5 beside the JSON: the [ny][nx] planes and [nsteps][ny][nx] series of every horizon."""

    def __init__(self, path, nx, ny):
        self.path, self.nx, self.ny = path, nx, ny
        if not os.path.isfile(path):
            raise ForecastError(f"{path}: no such file (forecast.h5 is read from beside forecast.json)")
        try:
            self.file = h5py.File(path, "r")
        except OSError as e:
            raise ForecastError(f"{path}: not a readable HDF5 file ({e})")
        require("fields" in self.file and isinstance(self.file["fields"], h5py.Group), path, "no /fields group")
        self.fields = self.file["fields"]

    def close(self):
        self.file.close()

    def has(self, name):
        return name in self.fields

    def plane(self, name):
        require(self.has(name), self.path, f"no dataset /fields/{name}")
        data = np.asarray(self.fields[name][...])
        require(data.shape == (self.ny, self.nx), self.path,
                f"/fields/{name} has shape {data.shape}, expected [ny][nx] = ({self.ny}, {self.nx})")
        return data

    def series(self, name):
        require(self.has(name), self.path, f"no dataset /fields/{name}")
        data = np.asarray(self.fields[name][...], dtype=float)
        require(data.ndim == 3 and data.shape[1:] == (self.ny, self.nx) and data.shape[0] > 0, self.path,
                f"/fields/{name} has shape {data.shape}, expected [nsteps][ny][nx] with ny, nx = {self.ny}, "
                f"{self.nx}")
        require(np.all(np.isfinite(data)), self.path, f"/fields/{name} holds values that are not finite")
        return data


def horizon_steps(reader, name, horizon):
    """The horizon's number of steps: the first axis of its per-step fields, else the JSON's steps."""
    for field in ("expected", "p_any", "p10"):
        if reader.has(f"{name}.{field}") and len(reader.fields[f"{name}.{field}"].shape) == 3:
            return int(reader.fields[f"{name}.{field}"].shape[0])
    steps = horizon.get("steps")
    return steps if isinstance(steps, int) and steps > 0 else "?"


def horizon_probability(reader, name, horizon):
    """P(at least one event over the horizon) per cell, and the words saying how it was computed: the
    whole-horizon map /fields/H.total_p_any when the file has it (the members' mean of 1 - exp(-their summed
    intensity)), else 1 - prod(1 - p_any) over the steps, else 1 - exp(-sum of the expected counts)."""
    steps = horizon_steps(reader, name, horizon)
    if reader.has(f"{name}.total_p_any"):
        p = reader.plane(f"{name}.total_p_any").astype(float)
        require(np.all(np.isfinite(p) & (p >= 0) & (p <= 1)), reader.path,
                f"/fields/{name}.total_p_any has values outside [0, 1]")
        return p, "method_total", steps
    if reader.has(f"{name}.p_any"):
        p_any = reader.series(f"{name}.p_any")
        require(np.all((p_any >= 0) & (p_any <= 1)), reader.path, f"/fields/{name}.p_any has values outside [0, 1]")
        return 1.0 - np.prod(1.0 - p_any, axis=0), "method_pany", steps
    expected = reader.series(f"{name}.expected")
    require(np.all(expected >= 0), reader.path, f"/fields/{name}.expected has negative values")
    return 1.0 - np.exp(-expected.sum(axis=0)), "method_exp", steps


def horizon_band_width(reader, name, horizon):
    """p90 - p10 per cell over the whole horizon, and the words for its colour bar: of the members' horizon
    totals (/fields/H.total_p10, total_p90) when the file has them, else the per-step widths summed."""
    steps = horizon_steps(reader, name, horizon)
    if reader.has(f"{name}.total_p10") and reader.has(f"{name}.total_p90"):
        width = reader.plane(f"{name}.total_p90").astype(float) - reader.plane(f"{name}.total_p10").astype(float)
        require(np.all(np.isfinite(width)), reader.path, f"/fields/{name}.total_p10 or total_p90 is not finite")
        return width, "unc_unit_total", steps
    p10 = reader.series(f"{name}.p10")
    p90 = reader.series(f"{name}.p90")
    require(p10.shape == p90.shape, reader.path, f"/fields/{name}.p10 and .p90 have different shapes")
    return (p90 - p10).sum(axis=0), "unc_unit", steps


def pretty_time(text):
    """'2019-01-01T00:00+01:00' -> '2019-01-01 00:00 (+01:00)'; anything else unchanged."""
    if not isinstance(text, str) or "T" not in text:
        return str(text)
    date, _, clock = text.partition("T")
    for sign in ("+", "-"):
        if sign in clock:
            hm, _, offset = clock.partition(sign)
            return f"{date} {hm} ({sign}{offset})"
    if clock.endswith("Z"):
        return f"{date} {clock[:-1]} UTC"
    return f"{date} {clock}"


def skill_line(doc, words):
    skill = doc.get("skill")
    if not isinstance(skill, dict) or not skill.get("available"):
        reason = skill.get("reason") if isinstance(skill, dict) else None
        return words["no_backtest"] + (f" ({reason})" if isinstance(reason, str) and reason else "")
    fields = {
        "windows": skill.get("windows", "?"),
        "bin": skill.get("bin", "?"),
        "model": skill.get("model", doc.get("model", "?")),
        "baseline": skill.get("best_baseline", "?"),
    }
    ratio = skill.get("pai5_ratio")
    if not finite_number(ratio):
        return words["skill_undefined"].format(**fields)
    ci = skill.get("pai5_ratio_ci95")
    ci_text = ""
    if isinstance(ci, list) and len(ci) == 2 and all(finite_number(v) for v in ci):
        ci_text = f" [95%: {ci[0]:.2f}, {ci[1]:.2f}]"
    return words["skill"].format(ratio=f"{ratio:.2f}", ci=ci_text, **fields)


def km_formatter():
    return FuncFormatter(lambda v, _pos: f"{v / 1000.0:.0f}" if abs(v) >= 100000 else f"{v / 1000.0:.1f}")


def spot_cell(spot, grid):
    """(j, i) of a hotspot: its i, j when valid, else the cell holding its x, y; None outside the grid."""
    nx, ny = int(grid["nx"]), int(grid["ny"])
    i, j = spot.get("i"), spot.get("j")
    if not (isinstance(i, int) and isinstance(j, int)):
        i = math.floor((spot["x"] - float(grid["x0"])) / float(grid["cell_m"]))
        j = math.floor((spot["y"] - float(grid["y0"])) / float(grid["cell_m"]))
    return (j, i) if 0 <= i < nx and 0 <= j < ny else None


def spot_place(spot):
    area = spot.get("area")
    if isinstance(area, str) and area:
        return area
    lon, lat = spot.get("lon"), spot.get("lat")
    if finite_number(lon) and finite_number(lat):
        return f"{abs(lat):.4f}\u00b0{'N' if lat >= 0 else 'S'} {abs(lon):.4f}\u00b0{'E' if lon >= 0 else 'W'}"
    return f"x {spot['x']:.0f}, y {spot['y']:.0f}"


def marker_diameter_pt(ax, cell_m):
    """Hotspot markers a little wider than a cell, within 4 to 7.5 points: neighbouring hot cells stay apart."""
    fig = ax.figure
    fig.canvas.draw()
    cell_px = abs(ax.transData.transform((cell_m, 0.0))[0] - ax.transData.transform((0.0, 0.0))[0])
    return min(max(1.4 * cell_px * 72.0 / fig.dpi, 4.0), 7.5)


def place_rank_labels(ax, spots, fontsize, colour, marker_pt):
    """Rank numbers beside the hotspot markers, greedily placed so that no label covers another label or a
    marker (hotspots are often neighbouring cells); a thin leader line joins a label pushed away to its marker."""
    fig = ax.figure
    fig.canvas.draw()
    to_px = ax.transData.transform
    px_per_pt = fig.dpi / 72.0
    frame = ax.get_window_extent()
    centres = [to_px((s["x"], s["y"])) for s in spots]
    marker_r = 0.5 * marker_pt * px_per_pt + 1.0
    taken = [(c[0] - marker_r, c[1] - marker_r, c[0] + marker_r, c[1] + marker_r) for c in centres]
    directions = [(1, 1), (1, 0), (-1, 1), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, -1)]
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]

    def free(box):
        x0, y0, x1, y1 = box
        if x0 < frame.x0 or x1 > frame.x1 or y0 < frame.y0 or y1 > frame.y1:
            return False
        return all(x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1 for a0, b0, a1, b1 in taken)

    for spot, centre in zip(spots, centres):
        text = str(spot["rank"])
        w = (0.62 * len(text) + 0.3) * fontsize * px_per_pt
        h = 1.1 * fontsize * px_per_pt
        chosen = None
        for radius_pt in (0.5 * marker_pt + 2, 0.5 * marker_pt + 8, 20, 30, 42, 56):
            r = radius_pt * px_per_pt
            for dx, dy in directions:
                norm = math.hypot(dx, dy)
                cx = centre[0] + dx / norm * r + dx * w / 2
                cy = centre[1] + dy / norm * r + dy * h / 2
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                if free(box):
                    chosen = (cx, cy, box, radius_pt)
                    break
            if chosen:
                break
        if chosen is None:  # nowhere free: on the marker's upper right, overlapping
            cx, cy = centre[0] + marker_r + w / 2, centre[1] + marker_r + h / 2
            chosen = (cx, cy, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), 56)
        cx, cy, box, radius_pt = chosen
        taken.append(box)
        offset = ((cx - centre[0]) / px_per_pt, (cy - centre[1]) / px_per_pt)
        arrow = None
        if radius_pt > 0.5 * marker_pt + 2:
            arrow = dict(arrowstyle="-", color=colour, linewidth=0.6, shrinkA=0, shrinkB=0.5 * marker_pt)
        ax.annotate(text, (spot["x"], spot["y"]), xytext=offset, textcoords="offset points", ha="center",
                    va="center", fontsize=fontsize, fontweight="bold", color=colour, path_effects=halo,
                    arrowprops=arrow, zorder=4)


def draw_map(doc, horizon, values, mask, published, colour_label, title_lines, footer_lines, out_path, words,
             percent, value_text):
    grid = doc["grid"]
    extent = grid_extent(grid)
    inside = mask != 0
    shown = inside & (published != 0)
    suppressed = inside & (published == 0)

    data = np.where(shown, values * (100.0 if percent else 1.0), np.nan)
    norm = sqrt_norm(data[np.isfinite(data)])

    fig, ax = plt.subplots(figsize=FIGSIZE)
    image = draw_cells(ax, extent, data, suppressed, "YlOrRd", norm)
    colour_bar(fig, ax, image, colour_label, 0.12, 9)

    colour = "#0b3d91"
    general = []
    if draw_outline(ax, doc, "#303030"):
        general.append(plt.Line2D([], [], color="#303030", linewidth=0.9, label=words["outline"]))
    if suppressed.any():
        general.append(mpatches.Patch(facecolor=SUPPRESSED_GREY, edgecolor="none", label=words["suppressed"]))

    spots = sorted((s for s in horizon.get("hotspots", []) if s["rank"] >= 1), key=lambda s: s["rank"])
    spots = spots[:TOP_HOTSPOTS]
    named = []
    if spots:
        markers, handle = rank_markers(ax, spots, colour, words["hotspot"].format(k=len(spots)), 3)
        general.append(handle)
        # The top 3 with their area name (or position) and their value on this map, in the legend.
        for s in spots[:NAMED_HOTSPOTS]:
            cell_ji = spot_cell(s, grid)
            value = f": {value_text(values[cell_ji])}" if cell_ji is not None else ""
            named.append(plt.Line2D([], [], marker=f"${s['rank']}$", linestyle="none", color=colour,
                                    markersize=7, label=f"{spot_place(s)}{value}"))

    frame_map(ax, doc, words, extent, "\n".join(title_lines), 9)

    # Legend under the map: what the symbols are on the left, the top 3 on the right.
    rows = max(len(general), len(named))
    blank = plt.Line2D([], [], linestyle="none", label=" ")
    handles = general + [blank] * (rows - len(general)) + named + [blank] * (rows - len(named))
    legend = None
    if rows:
        legend = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.075), ncol=2 if named else 1,
                           fontsize=8, frameon=False, handletextpad=0.6, columnspacing=2.0)
    fig.tight_layout()
    if spots:
        size_rank_markers(ax, markers, spots, float(grid["cell_m"]), colour)
    fig.canvas.draw()
    below = legend.get_window_extent() if legend is not None else ax.get_tightbbox()
    footer_y = (below.y0 - 6) / fig.bbox.height
    fig.text(0.5, footer_y, "\n".join(footer_lines), ha="center", va="top", fontsize=8, color="#333333")
    fig.savefig(out_path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


def draw_all(args):
    """The maps of every horizon of args.forecast_json; 0 once written."""
    doc = load_doc(args.forecast_json)
    grid = doc["grid"]
    folder = os.path.dirname(os.path.abspath(args.forecast_json))
    out_dir = args.out or folder
    reader = FieldReader(os.path.join(folder, "forecast.h5"), int(grid["nx"]), int(grid["ny"]))
    try:
        mask = reader.plane("mask")
        published = reader.plane("published") if reader.has("published") else np.ones_like(mask)
        words = TEXT.get(doc.get("lang"), TEXT["en"])
        case = doc.get("case") or "?"
        start = pretty_time(doc.get("forecast_start"))
        model = doc.get("model") or "?"
        members = doc.get("members")
        model_text = f"{words['model']} {model}"
        if isinstance(members, int) and members > 0:
            model_text += ", " + words["members"].format(members=members)
        footer = [skill_line(doc, words)]
        if doc.get("issued_utc"):
            footer.append(words["issued"].format(issued=pretty_time(doc["issued_utc"])))
        footer = ["  \u2022  ".join(footer)]
        # Every horizon's fields are read and checked before anything is drawn: a bad file writes no map.
        planes = []
        for horizon in doc["horizons"]:
            name = horizon["name"]
            probability, method, steps = horizon_probability(reader, name, horizon)
            width, band_words, band_steps = horizon_band_width(reader, name, horizon)
            planes.append((horizon, probability, method, steps, width, band_words, band_steps))
    finally:
        reader.close()
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for horizon, probability, method, steps, width, band_words, band_steps in planes:
        name = horizon["name"]
        head = f"{case}: {name} {words['from']} {start}"
        out = os.path.join(out_dir, f"map_{name}.png")
        draw_map(doc, horizon, probability, mask, published, words["prob_unit"],
                 [words["prob_title"] + " = " + words[method].format(n=steps), head, model_text], footer, out,
                 words, percent=True, value_text=lambda v: f"{100.0 * v:.0f}%")
        written.append(out)
        out = os.path.join(out_dir, f"map_{name}_uncertainty.png")
        draw_map(doc, horizon, width, mask, published, words[band_words].format(n=band_steps),
                 [words["unc_title"], head, model_text], footer, out, words, percent=False,
                 value_text=lambda v: f"{v:.3g}")
        written.append(out)
    for path in written:
        print(f"forecast_maps: wrote {path}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("forecast_json")
    parser.add_argument("--out", help="folder of the PNG files (default: the folder of the JSON)")
    return report_errors("forecast_maps", ForecastError, lambda: draw_all(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
