#!/usr/bin/python3
"""The Marseille case (BAAC 2018: month and time of day only, lon/lat) ingested at 2 ranks matches the
independent recount of scripts/recount_events.py per (month, cell, category), its hour-of-day profile, its
time axis, its audit record and its rejects. The recount must also be able to fail: one count changed in a
copy of the store is reported."""
import os
import shutil
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_common as ic  # noqa: E402

args = ic.parse_args(__doc__)
c = ic.Checks()
config = os.path.join(args.source_dir, "inputs", "marseille", "config.ini")
events = os.path.join(args.source_dir, "inputs", "marseille", "baac_2018_marseille.csv")
out = os.path.join(args.work, "store")
r = ic.vigie(args, ["ingest", "--config", config, "--output.dir=" + out, "--ingest.events=" + events],
             ranks=2)
c.check(r.returncode == 0, "Marseille ingest at 2 ranks", r.stderr[-2000:])


def recount(obs, full=True):
    cmd = [sys.executable, os.path.join(args.source_dir, "scripts", "recount_events.py"), "marseille",
           "--config", config, "--events", events, "--obs", obs]
    if full:
        cmd += ["--audit", os.path.join(out, "audit.jsonl"), "--rejects", os.path.join(out, "rejects.csv")]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(p.stdout, end="")
    return p.returncode


c.check(recount(os.path.join(out, "obs.h5")) == 0, "store matches the independent recount")
with h5py.File(os.path.join(out, "obs.h5"), "r") as f:
    c.check(int(f["counts/road_injury"].shape[0]) == 12, "twelve monthly bins")

changed = os.path.join(args.work, "changed.h5")
shutil.copy(os.path.join(out, "obs.h5"), changed)
with h5py.File(changed, "r+") as f:
    d = f["counts/road_injury"]
    v = d[5, 100, 100]
    d[5, 100, 100] = v + 1
c.check(recount(changed, full=False) == 1, "the recount reports a store with one count changed")
sys.exit(c.finish())
