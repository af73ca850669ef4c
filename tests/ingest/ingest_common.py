"""Helpers shared by the end-to-end ingest tests: running vigie, case copies, event subsets, stores."""
import argparse
import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np


def parse_args(description, extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--vigie", required=True)
    p.add_argument("--mpiexec", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--work", required=True, help="this test's own folder; emptied first")
    if extra:
        extra(p)
    args = p.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    return args


class Checks:
    """Counts failed checks and prints each one; the test's exit status follows."""

    def __init__(self):
        self.failures = 0
        self.passes = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passes += 1
            print("ok   " + name)
        else:
            self.failures += 1
            print("FAIL " + name + (": " + detail if detail else ""))
        sys.stdout.flush()
        return ok

    def finish(self):
        print("%d passed, %d failed" % (self.passes, self.failures))
        return 1 if self.failures else 0


def vigie(args, arguments, ranks=1, timeout=300):
    """Runs vigie (under mpiexec when ranks > 1); returns the CompletedProcess with text output."""
    cmd = [args.vigie] + arguments
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + cmd
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                          timeout=timeout)


def case_copy(args, dst, events, out, coverage=None):
    """A copy of the Vancouver case with absolute paths and the given events, output folder and coverage."""
    src = os.path.join(args.source_dir, "inputs", "vancouver", "config.ini")
    profile = os.path.join(args.source_dir, "inputs", "vancouver", "vpd.profile.ini")
    lines = []
    with open(src) as fh:
        for line in fh:
            if line.startswith("events ="):
                line = "events = %s\n" % ",".join(events)
            elif line.startswith("profile ="):
                line = "profile = %s\n" % profile
            elif line.startswith("dir ="):
                line = "dir = %s\n" % out
            elif line.startswith("coverage =") and coverage is not None:
                line = "coverage = %s\n" % coverage
            lines.append(line)
    with open(dst, "w") as fh:
        fh.writelines(lines)
    return dst


def vpd_file(args):
    return os.path.join(args.source_dir, "inputs", "vancouver", "vpd_2018_2020-2023.csv.gz")


def vpd_subset(args, dst, keep):
    """Writes header + the rows of the VPD file for which keep(fields) is true, byte for byte, gzipped."""
    with gzip.open(vpd_file(args), "rb") as fh:
        data = fh.read()
    lines = data.split(b"\n")
    out = [lines[0]]
    for raw in lines[1:]:
        if raw and keep(raw):
            out.append(raw)
    with gzip.open(dst, "wb", compresslevel=1) as fh:
        fh.write(b"\n".join(out) + b"\n")
    return len(out) - 1


def year_is(*years):
    prefixes = tuple(b"," + str(y).encode() + b"," for y in years)
    return lambda raw: any(raw[raw.index(b","):].startswith(p) for p in prefixes)


def ingest_records(audit_path):
    """The audit records of ingest subcommands, oldest first."""
    out = []
    if not os.path.exists(audit_path):
        return out
    with open(audit_path) as fh:
        for text in fh:
            r = json.loads(text)
            if r["what"]["subcommand"].startswith("ingest"):
                out.append(r["what"])
    return out


def datasets(path):
    """Every dataset of an HDF5 file as {name: array}."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]

        f.visititems(visit)
    return out


def counts(path):
    """{category: counts array} and the store's root attributes of interest."""
    with h5py.File(path, "r") as f:
        c = {name: f["counts"][name][()] for name in f["counts"]}
        attrs = {k: f.attrs[k] for k in ("journal_records", "dirty") if k in f.attrs}
        attrs["bin_start"] = f["time/bin_start"][()]
    return c, attrs


def same_datasets(a, b):
    """'' when every dataset of a and b has the same shape, type and bytes; else a description."""
    da, db = datasets(a), datasets(b)
    if sorted(da) != sorted(db):
        return "dataset lists differ"
    for name in sorted(da):
        x, y = da[name], db[name]
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            return "%s differs" % name
    return ""


def temp_files(folder):
    return [n for n in os.listdir(folder) if ".tmp" in n or n.endswith("~")]


def documented_reasons(source_dir):
    """The reject reasons listed in docs/ingest.md's table."""
    with open(os.path.join(source_dir, "docs", "ingest.md")) as fh:
        return set(re.findall(r"^\| `([a-z_]+)` \|", fh.read(), flags=re.M))


def rejects_rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def session_pids(sid):
    """Processes still alive in the session the killed command started (its ranks included)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(name))
    return pids
