"""Helpers shared by the `vigie watch` tests: a small Vancouver case (history October to December 2022, a
stream of the first days of January 2023), running the watcher on a stream, and reading what it wrote."""
import json
import os
import signal
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ingest"))
import ingest_common as ic  # noqa: E402,F401

# Settings that keep a test cycle short: fewer members and replicates than the defaults.
WATCH_SETTINGS = """
[watch]
members = 8
scan_replicates = 199
scan_window = 2
"""


def history_q4_2022(raw):
    f = raw.split(b",")
    return f[1] == b"2022" and int(f[2]) >= 10


def make_case(args, name, history, out, extra=""):
    """A copy of the Vancouver case reading `history`, writing to `out`, covering October 2022 to January
    2023, with its study area from the history's events."""
    cfg = os.path.join(args.work, name + ".ini")
    ic.case_copy(args, cfg, [history], out, "2022-10-01/2023-01-31")
    with open(cfg) as fh:
        text = fh.read().replace("mask_events_until = 2021-12-31", "mask_events_until = 2022-12-31")
    # The case's own [watch] section (its last) gives way to the test's settings.
    if "\n[watch]" in text:
        text = text[:text.index("\n[watch]") + 1]
    with open(cfg, "w") as fh:
        fh.write(text + WATCH_SETTINGS + extra)
    return cfg


def make_stream(args, dst, start="2023-01-01", end="2023-01-09", inject=None):
    """The replay of [start, end) of the VPD file, as scripts/replay sends it, saved to `dst`."""
    cmd = [sys.executable, os.path.join(args.source_dir, "scripts", "replay"), ic.vpd_file(args), "--from", start,
           "--to", end, "--output", dst]
    for spec in inject or []:
        cmd += ["--inject", spec]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return dst


def watch(args, cfg, stream_path, ranks=2, extra=None, env=None, stdin_text=None, timeout=600):
    """Runs `vigie watch --stream -` with the file's bytes on standard input; returns the CompletedProcess."""
    cmd = [args.vigie, "watch", "--config", cfg, "--stream", "-"] + (extra or [])
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + cmd
    data = stdin_text.encode() if stdin_text is not None else open(stream_path, "rb").read()
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=e)


def cycles(out):
    """watch/cycles.jsonl without the timings."""
    rows = []
    path = os.path.join(out, "watch", "cycles.jsonl")
    if not os.path.exists(path):
        return rows
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            r.pop("cycle_s", None)
            r.pop("append_s", None)
            rows.append(r)
    return rows


def alerts(out):
    with open(os.path.join(out, "alerts.jsonl")) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def fields(path):
    with h5py.File(path, "r") as f:
        return {k: f["fields"][k][()] for k in f["fields"]}


def same_fields(a, b):
    """'' when the /fields datasets of two files are bit-identical, else what differs."""
    fa, fb = fields(a), fields(b)
    if sorted(fa) != sorted(fb):
        return "field lists differ: %s vs %s" % (sorted(fa), sorted(fb))
    for k in sorted(fa):
        if fa[k].shape != fb[k].shape or fa[k].tobytes() != fb[k].tobytes():
            return "%s differs (max |diff| %g)" % (k, float(np.max(np.abs(fa[k] - fb[k]))))
    return ""


def counts_equal(a, b):
    """'' when two stores hold the same counts per category, bin and cell and the same time axis."""
    ca, aa = ic.counts(a)
    cb, ab = ic.counts(b)
    if sorted(ca) != sorted(cb):
        return "categories differ"
    if not np.array_equal(aa["bin_start"], ab["bin_start"]):
        return "time axes differ"
    for k in ca:
        if not np.array_equal(ca[k], cb[k]):
            return "%s counts differ: %d vs %d events" % (k, int(ca[k].sum()), int(cb[k].sum()))
    if int(aa.get("journal_records", -1)) != int(ab.get("journal_records", -2)):
        return "journal_records differ: %s vs %s" % (aa.get("journal_records"), ab.get("journal_records"))
    return ""


def kill_session(p):
    """SIGKILLs the process group of `p` (mpiexec and its ranks, or a pipeline) and reaps it."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
