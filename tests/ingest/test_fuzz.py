#!/usr/bin/python3
"""Fuzzed event files through `vigie ingest`: mutated variants of a small good VPD snippet (byte flips,
truncations, inserted delimiters, quotes and NULs, garbage and overlong lines, deleted and repeated lines,
CRLF endings, gzip with a damaged stream), from a fixed seed. Each run must end with exit 0 or 3, never a
crash, a signal, a hang or another code. Exit 0: accepted + rejected = data rows read (audit record),
rejects.csv holds its header and exactly one line per rejected row, the store counts exactly the accepted
events. Exit 3: the message names the file, and no obs.h5 is left. A failing variant stays in the work folder
for reproduction."""
import concurrent.futures
import gzip
import os
import random
import shutil
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_common as ic  # noqa: E402

args = ic.parse_args(__doc__, lambda p: (p.add_argument("--seed", type=int, default=20240611),
                                         p.add_argument("--variants", type=int, default=200),
                                         p.add_argument("--jobs", type=int, default=2)))
c = ic.Checks()
w = args.work

# The snippet: the first rows of the real file (1 January 2018, withheld locations among them) and rows with
# quoted fields, an embedded comma and doubled quotes, and a quoted line break.
with gzip.open(ic.vpd_file(args), "rb") as fh:
    head = b"".join(fh.readline() for _ in range(41))
snippet = head + (
    b'Theft of Bicycle,2018,1,2,23,59,"4XX QUOTED ST, ""NORTH""",Fairview,491200.5,5456100.25,-123.1,49.2,'
    b"2018-01-02T23:59\n"
    b'Mischief,2018,1,2,12,0,"7XX LINE\nBREAK ST",Fairview,491250,5456150,-123.1,49.2,2018-01-02T12:00\n'
    b"Other Theft,2018,1,3,10,0,3XX MADEUP RD,Fairview,,,,,2018-01-03T10:00\n")
with open(os.path.join(w, "snippet.csv"), "wb") as fh:
    fh.write(snippet)


def mutate(rng, data):
    kind = rng.randrange(11)
    pos = rng.randrange(len(data) + 1) if data else 0
    lines = data.split(b"\n")
    if kind == 0 and data:
        pos = min(pos, len(data) - 1)
        return data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1:]
    if kind == 1:
        return data[:pos]
    if kind == 2:
        return data[:pos] + b"," + data[pos:]
    if kind == 3:
        return data[:pos] + b'"' + data[pos:]
    if kind == 4:
        return data[:pos] + b"\0" + data[pos:]
    if kind == 5:
        k = rng.randrange(len(lines) + 1)
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 81))).replace(b"\n", b"")
        return b"\n".join(lines[:k] + [garbage] + lines[k:])
    if kind == 6 and len(lines) > 1:
        k = rng.randrange(len(lines))
        return b"\n".join(lines[:k] + lines[k + 1:])
    if kind == 7:
        k = rng.randrange(len(lines))
        return b"\n".join(lines[:k + 1] + [lines[k]] * rng.randrange(1, 4) + lines[k + 1:])
    if kind == 8:
        return data.replace(b"\n", b"\r\n")
    if kind == 9:
        return data[:pos] + b"A" * rng.choice([300, 70000, 2_000_000]) + data[pos:]
    if data:
        return data[:pos] + data[pos + 1:]
    return data


rng = random.Random(args.seed)
variants = []
for k in range(args.variants):
    data = snippet
    for _ in range(rng.randrange(1, 4)):
        data = mutate(rng, data)
    name = "v%03d.csv" % k
    if k % 6 == 5:
        data = gzip.compress(data, mtime=0)
        name += ".gz"
        if k % 12 == 11:  # damage the compressed stream itself
            pos = rng.randrange(10, len(data))
            data = data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1:] if k % 24 == 11 else data[:pos]
    path = os.path.join(w, name)
    with open(path, "wb") as fh:
        fh.write(data)
    variants.append(path)

case = ic.case_copy(args, os.path.join(w, "case.ini"), [os.path.join(w, "snippet.csv")],
                    os.path.join(w, "out"), coverage="2018-01-01/2018-01-07")


def run(path):
    """Returns (path, problems, exit code)."""
    out = path + ".out"
    problems = []
    try:
        r = ic.vigie(args, ["ingest", "--config", case, "--output.dir=" + out, "--ingest.events=" + path],
                     timeout=120)
    except subprocess.TimeoutExpired:
        return path, ["hung (no exit within 120 s)"], None
    if r.returncode not in (0, 3):
        problems.append("exit %d (%s): %s" % (r.returncode, "signal %d" % -r.returncode if r.returncode < 0
                                              else "unexpected code", r.stderr[-300:]))
        return path, problems, r.returncode
    if r.returncode == 3:
        if path not in r.stderr:
            problems.append("exit 3 without naming the file: " + r.stderr[-300:])
        if os.path.exists(os.path.join(out, "obs.h5")):
            problems.append("exit 3 left an obs.h5")
    else:
        records = ic.ingest_records(os.path.join(out, "audit.jsonl"))
        if not records:
            return path, ["exit 0 without an audit record"], 0
        extra = records[-1]["extra"]
        rejected = sum(extra["rejected"].values())
        if extra["accepted"] + rejected != extra["rows_read"]:
            problems.append("accepted %d + rejected %d != rows read %d" % (extra["accepted"], rejected,
                                                                         extra["rows_read"]))
        rows = ic.rejects_rows(os.path.join(out, "rejects.csv"))
        if not rows or rows[0] != ["file", "line", "reason"]:
            problems.append("rejects.csv lacks its header")
        body = rows[1:]
        if len(body) != rejected:
            problems.append("rejects.csv has %d lines for %d rejected rows" % (len(body), rejected))
        if any(len(r) != 3 or r[0] != path or not r[1].isdigit() for r in body):
            problems.append("a rejects.csv line is not 'file,line,reason' for this file")
        with h5py.File(os.path.join(out, "obs.h5"), "r") as f:
            total = sum(int(f["counts"][n][()].sum()) for n in f["counts"])
            if total != extra["accepted"] or int(f.attrs["journal_records"]) != extra["accepted"]:
                problems.append("store counts %d events, journal_records %d, accepted %d"
                                % (total, int(f.attrs["journal_records"]), extra["accepted"]))
    if ic.temp_files(out):
        problems.append("temporary files left: %s" % ic.temp_files(out))
    if not problems:
        shutil.rmtree(out, ignore_errors=True)
        os.remove(path)
    return path, problems, r.returncode


codes = {}
with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
    for path, problems, code in pool.map(run, variants):
        codes[code] = codes.get(code, 0) + 1
        if problems:
            c.check(False, os.path.basename(path), "; ".join(problems) + " (variant kept: %s)" % path)
print("exit codes over %d variants: %s" % (len(variants), dict(sorted(codes.items(), key=str))))
c.check(codes.get(0, 0) > 0 and codes.get(3, 0) > 0, "the variants reach both outcomes (0 and 3)")
c.check(set(codes) <= {0, 3}, "every variant ended with exit 0 or 3")
sys.exit(c.finish())
