#!/usr/bin/python3
"""Crash safety of `vigie ingest --append`: the append is killed with SIGKILL (the whole process group, all
ranks at once) after delays spanning its run, once or twice in a row, then run again to completion with the
same file. The final store must count exactly the events of a clean single ingest of the same rows: nothing
lost, nothing counted twice."""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_common as ic  # noqa: E402

args = ic.parse_args(__doc__, lambda p: p.add_argument("--seed", type=int, default=20240611))
c = ic.Checks()
w = args.work
# The base store holds January to June 2018; the append brings the whole of 2018 (its axis grows).
a = os.path.join(w, "vpd_2018_h1.csv.gz")
b = os.path.join(w, "vpd_2018.csv.gz")
ic.vpd_subset(args, a, lambda raw: raw.split(b",")[1] == b"2018" and int(raw.split(b",")[2]) <= 6)
ic.vpd_subset(args, b, ic.year_is(2018))
coverage = "2018-01-01/"


def config(out, events):
    return ic.case_copy(args, os.path.join(w, os.path.basename(out) + ".ini"), [events], out, coverage)


def killed_append(cfg, ranks, delay):
    """Starts the append in its own session and SIGKILLs all of it after `delay` s; True if it was killed."""
    cmd = [args.vigie, "ingest", "--append", "--config", cfg]
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    was_running = p.poll() is None
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    deadline = time.time() + 10
    while ic.session_pids(p.pid) and time.time() < deadline:
        for pid in ic.session_pids(p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return was_running


# The reference: one clean ingest of the 2018 rows.
ref_out = os.path.join(w, "reference")
t0 = time.time()
r = ic.vigie(args, ["ingest", "--config", config(ref_out, b)])
clean_s = time.time() - t0
c.check(r.returncode == 0, "clean ingest of the 2018 rows", r.stderr[-2000:])
ref_counts, ref_attrs = ic.counts(os.path.join(ref_out, "obs.h5"))
ref_profiles = {k: v for k, v in ic.datasets(os.path.join(ref_out, "obs.h5")).items()
                if k.startswith("profiles/")}

# The store the appends start from: the 2018 rows only.
base = os.path.join(w, "base")
r = ic.vigie(args, ["ingest", "--config", config(base, a)])
c.check(r.returncode == 0, "base ingest of the January-June 2018 rows", r.stderr[-2000:])
t0 = time.time()
probe = os.path.join(w, "probe")
shutil.copytree(base, probe)
r = ic.vigie(args, ["ingest", "--append", "--config", config(probe, b)])
append_s = time.time() - t0
c.check(r.returncode == 0, "an uninterrupted append", r.stderr[-2000:])
print("clean ingest %.2f s, uninterrupted append %.2f s" % (clean_s, append_s))

# Delays spread over the whole append (start-up, read, journal, store), with a fixed seed.
rng = random.Random(args.seed)
spots = [0.05, 0.3, 0.7, 1.2, 1.8, 2.4, 3.0]
trials = []
for k, spot in enumerate(spots):
    delays = [max(0.02, spot + rng.uniform(-0.1, 0.1))]
    if k % 2 == 1:
        delays.append(rng.uniform(0.05, 3.0))  # a second kill, during the recovery of the first
    trials.append((2 if k >= len(spots) - 2 else 1, delays))

for k, (ranks, delays) in enumerate(trials):
    out = os.path.join(w, "trial%d" % k)
    shutil.copytree(base, out)
    cfg = config(out, b)
    kills = []
    for d in delays:
        kills.append("%.2fs:%s" % (d, "killed" if killed_append(cfg, ranks, d) else "had finished"))
    r = ic.vigie(args, ["ingest", "--append", "--config", cfg], ranks=ranks)
    name = "trial %d (%d rank%s, %s)" % (k, ranks, "s" if ranks > 1 else "", ", ".join(kills))
    if not c.check(r.returncode == 0, name + ": the next append completes", r.stderr[-2000:]):
        continue
    h5 = os.path.join(out, "obs.h5")
    got, attrs = ic.counts(h5)
    diff = [cat for cat in ref_counts if cat not in got or got[cat].shape != ref_counts[cat].shape
            or not np.array_equal(got[cat], ref_counts[cat])]
    detail = "; ".join("%s: total %d vs %d" % (cat, int(got[cat].sum()) if cat in got else -1,
                                                int(ref_counts[cat].sum())) for cat in diff)
    c.check(not diff and sorted(got) == sorted(ref_counts), name + ": /counts/* equal the clean ingest's",
            detail)
    c.check(np.array_equal(attrs["bin_start"], ref_attrs["bin_start"]), name + ": same time axis")
    c.check(int(attrs["journal_records"]) == int(ref_attrs["journal_records"]) and int(attrs["dirty"]) == 0,
            name + ": journal_records equal, dirty = 0",
            "%s vs %s, dirty %s" % (attrs["journal_records"], ref_attrs["journal_records"], attrs["dirty"]))
    profiles = {k2: v for k2, v in ic.datasets(h5).items() if k2.startswith("profiles/")}
    same_profiles = sorted(profiles) == sorted(ref_profiles) and all(
        np.array_equal(profiles[k2], ref_profiles[k2]) for k2 in ref_profiles)
    c.check(same_profiles, name + ": hour-of-day profiles equal the clean ingest's")
    extra = ic.ingest_records(os.path.join(out, "audit.jsonl"))[-1]["extra"]
    c.check(extra["accepted"] == int(ref_attrs["journal_records"]),
            name + ": the last append accepted every row")
    leftovers = ic.temp_files(out)
    if leftovers:
        print("note %s: files left by the killed runs: %s" % (name, leftovers))
    shutil.rmtree(out)
sys.exit(c.finish())
