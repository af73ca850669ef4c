#!/usr/bin/python3
"""PNG of the final snapshot of a Vigie field time series (vigie simulate output).

Usage:
  plot_field.py FILE.h5 [--field NAME] [--out PNG]

Draws the last time index of /fields/NAME (default: attractiveness if present, else intensity) of a file
written by `vigie simulate`, masked cells blank, into PNG (default: FILE without .h5 + _NAME_final.png).
Exit status: 0 on success, 2 when the file or the field is missing.
"""
import argparse
import os
import sys

import h5py
import matplotlib

# Agg draws without a display, as on compute nodes and in CI.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--field")
    parser.add_argument("--out")
    args = parser.parse_args()
    if not os.path.isfile(args.file):
        print(f"plot_field: {args.file}: no such file", file=sys.stderr)
        return 2
    with h5py.File(args.file, "r") as f:
        fields = f.get("fields")
        if fields is None:
            print(f"plot_field: {args.file}: no /fields group", file=sys.stderr)
            return 2
        name = args.field or ("attractiveness" if "attractiveness" in fields else "intensity")
        if name not in fields:
            print(f"plot_field: {args.file}: no field {name} (have: {', '.join(fields)})", file=sys.stderr)
            return 2
        data = fields[name]
        plane = np.array(data[-1] if data.ndim == 3 else data[...], dtype=float)
        mask = np.array(fields["mask"][...]) if "mask" in fields else np.ones_like(plane)
        times = f.attrs.get("times_days", b"")
        times = times.decode() if isinstance(times, bytes) else str(times)
        model = f.attrs.get("model", b"")
        model = model.decode() if isinstance(model, bytes) else str(model)
    plane[mask == 0] = np.nan
    last = times.split(",")[-1] if times else "?"
    out = args.out or os.path.splitext(args.file)[0] + f"_{name}_final.png"
    fig, ax = plt.subplots(figsize=(6, 5.5))
    image = ax.imshow(plane, origin="lower", cmap="magma", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.85, label=name)
    ax.set_title(f"{model} {name}, day {last}")
    ax.set_xlabel("cell i")
    ax.set_ylabel("cell j")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot_field: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
