#!/usr/bin/python3
"""Text summary of the fields in a Vigie HDF5 file, and comparison with an expected summary.

Usage:
  field_summary.py FILE.h5                      print the summary
  field_summary.py FILE.h5 --expected EXP.txt   compare; exit 1 on a difference
  field_summary.py A.h5 --same-as B.h5          every dataset of A and B (all groups) identical (integers
                                                exactly, floats within --rtol, default 0 = bit-identical)

A summary line is "<dataset> <statistic> <value>". Integer statistics must match exactly, floating-point
ones within a relative tolerance (default 1e-10), as the rank-invariance convention requires.
"""
import argparse
import math
import sys

import h5py
import numpy as np


def summarise(path):
    out = []
    with h5py.File(path, "r") as f:
        g = f["grid"].attrs
        out.append(("grid", "epsg", int(g["epsg"])))
        out.append(("grid", "nx", int(g["nx"])))
        out.append(("grid", "ny", int(g["ny"])))
        out.append(("grid", "cell_m", float(g["cell_m"])))
        for name in sorted(f["fields"]):
            d = f["fields"][name][()]
            key = "fields/" + name
            out.append((key, "shape", "x".join(str(s) for s in d.shape)))
            if np.issubdtype(d.dtype, np.integer):
                out.append((key, "sum", int(d.astype(np.int64).sum())))
                out.append((key, "nonzero", int(np.count_nonzero(d))))
                out.append((key, "max", int(d.max())))
            else:
                flat = d.astype(np.float64)
                out.append((key, "sum", float(math.fsum(flat.ravel()))))
                out.append((key, "max", float(flat.max())))
                out.append((key, "min", float(flat.min())))
                out.append((key, "l2", float(math.sqrt(math.fsum((flat.ravel()) ** 2)))))
                if flat.ndim == 3:
                    for t in range(flat.shape[0]):
                        out.append((key, "sum_t%d" % t, float(math.fsum(flat[t].ravel()))))
    return out


def fmt(v):
    if isinstance(v, float):
        return repr(v)
    return str(v)


def parse_expected(path):
    rows = {}
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3:
                sys.exit("%s:%d: expected '<dataset> <statistic> <value>'" % (path, n))
            rows[(parts[0], parts[1])] = parts[2]
    return rows


def compare_summary(actual, expected_path, rtol):
    expected = parse_expected(expected_path)
    bad = 0
    seen = set()
    for key, stat, value in actual:
        seen.add((key, stat))
        if (key, stat) not in expected:
            print("missing from expected: %s %s %s" % (key, stat, fmt(value)))
            bad += 1
            continue
        want = expected[(key, stat)]
        if isinstance(value, float):
            w = float(want)
            if not math.isclose(value, w, rel_tol=rtol, abs_tol=1e-300):
                print("%s %s: %r, expected %r (rtol %g)" % (key, stat, value, w, rtol))
                bad += 1
        elif fmt(value) != want:
            print("%s %s: %s, expected %s" % (key, stat, fmt(value), want))
            bad += 1
    for k in expected:
        if k not in seen:
            print("expected but absent: %s %s" % k)
            bad += 1
    return bad


def datasets(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj

    f.visititems(visit)
    return out


def compare_files(a, b, rtol):
    """Every dataset of A and B (any group: /fields, /counts, /time, /covariates, ...) must match."""
    bad = 0
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for attr in ("epsg", "nx", "ny", "x0", "y0", "cell_m"):
            if fa["grid"].attrs[attr] != fb["grid"].attrs[attr]:
                print("grid attribute %s differs" % attr)
                bad += 1
        da_all, db_all = datasets(fa), datasets(fb)
        if sorted(da_all) != sorted(db_all):
            print("dataset lists differ: %s vs %s" % (sorted(da_all), sorted(db_all)))
            return bad + 1
        for name in sorted(da_all):
            da, db = da_all[name][()], db_all[name][()]
            if da.shape != db.shape or da.dtype != db.dtype:
                print("%s: shape/type %s %s vs %s %s" % (name, da.shape, da.dtype, db.shape, db.dtype))
                bad += 1
            elif da.dtype.kind in "SOU" or np.issubdtype(da.dtype, np.integer) or rtol == 0:
                if not np.array_equal(da, db):
                    print("%s: %d values differ" % (name, int(np.count_nonzero(da != db))))
                    bad += 1
            elif not np.allclose(da, db, rtol=rtol, atol=0):
                print("%s: values differ beyond rtol %g" % (name, rtol))
                bad += 1
    return bad


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file")
    p.add_argument("--expected")
    p.add_argument("--same-as")
    p.add_argument("--rtol", type=float, default=None)
    args = p.parse_args()
    if args.same_as:
        bad = compare_files(args.file, args.same_as, args.rtol or 0.0)
        print("%s vs %s: %s" % (args.file, args.same_as, "identical" if not bad else "%d differences" % bad))
        return 1 if bad else 0
    summary = summarise(args.file)
    if args.expected:
        bad = compare_summary(summary, args.expected, 1e-10 if args.rtol is None else args.rtol)
        print("%s vs %s: %s" % (args.file, args.expected, "match" if not bad else "%d differences" % bad))
        return 1 if bad else 0
    for key, stat, value in summary:
        print(key, stat, fmt(value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
