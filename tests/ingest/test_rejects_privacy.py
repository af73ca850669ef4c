#!/usr/bin/python3
"""The ingest summary and privacy at the door. rejects.csv: header `file,line,reason`, one line per rejected
row (as many as the audit record's rejected counts), every reason one of docs/ingest.md's table, never any
field of the row: no HUNDRED_BLOCK (an address) of a rejected row appears in rejects.csv. Nor does any
HUNDRED_BLOCK value of the rows appear in obs.h5, the journal, the audit log, the XDMF sidecar or what vigie
prints. Checked on a store of the full Vancouver file (--store, written by the ingest_vancouver_np1 test) and
on the hand-made good file with its quoted addresses."""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_common as ic  # noqa: E402

args = ic.parse_args(__doc__, lambda p: (p.add_argument("--store", required=True),
                                         p.add_argument("--events", required=True)))
c = ic.Checks()
reasons = ic.documented_reasons(args.source_dir)
c.check(len(reasons) >= 10, "docs/ingest.md lists the reject reasons", str(sorted(reasons)))


def blocks_by_line(path):
    """{first physical line: HUNDRED_BLOCK} of a VPD file, read with Python's csv module."""
    out = {}
    with ic.gzip.open(path, "rt", newline="") if path.endswith(".gz") else open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        col = header.index("HUNDRED_BLOCK")
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if len(row) > col:
                out[line] = row[col]
    return out


def check_folder(tag, folder, events, printed=""):
    rows = ic.rejects_rows(os.path.join(folder, "rejects.csv"))
    c.check(rows and rows[0] == ["file", "line", "reason"], tag + ": rejects.csv header is file,line,reason")
    body = rows[1:]
    c.check(all(len(r) == 3 for r in body), tag + ": every reject line has exactly 3 fields")
    bad = sorted({r[2] for r in body if len(r) == 3} - reasons)
    c.check(not bad, tag + ": every reason is documented", str(bad))
    c.check(all(len(r) == 3 and r[0] == events and r[1].isdigit() for r in body),
            tag + ": every line names the source file and a line number")
    extra = ic.ingest_records(os.path.join(folder, "audit.jsonl"))[-1]["extra"]
    c.check(len(body) == sum(extra["rejected"].values()),
            tag + ": one reject line per rejected row (%d)" % len(body))
    from collections import Counter
    c.check(Counter(r[2] for r in body) == Counter({k: v for k, v in extra["rejected"].items() if v}),
            tag + ": reasons in rejects.csv match the summary's counts")

    blocks = blocks_by_line(events)
    rejected_blocks = {blocks[int(r[1])] for r in body if len(r) == 3 and int(r[1]) in blocks}
    rejected_blocks = {b for b in rejected_blocks if len(b.strip()) >= 4}
    c.check(len(rejected_blocks) > 0, tag + ": rejected rows have addresses to look for (%d distinct)"
            % len(rejected_blocks))
    with open(os.path.join(folder, "rejects.csv"), "rb") as fh:
        text = fh.read()
    leaked = sorted(b for b in rejected_blocks if b.encode() in text)
    c.check(not leaked, tag + ": no HUNDRED_BLOCK of a rejected row in rejects.csv", "%d found" % len(leaked))
    # Every address of the file, against every other output vigie writes or prints.
    everything = {b for b in blocks.values() if len(b.strip()) >= 4}
    if len(everything) > 2000:
        everything = rejected_blocks
    for name in ("obs.h5", "obs.journal", "audit.jsonl", "obs.h5.xmf"):
        with open(os.path.join(folder, name), "rb") as fh:
            data = fh.read()
        leaked = sorted(b for b in everything if b.encode() in data)
        c.check(not leaked, tag + ": no HUNDRED_BLOCK in " + name, "%d found" % len(leaked))
    if printed:
        leaked = sorted(b for b in everything if b in printed)
        c.check(not leaked, tag + ": no HUNDRED_BLOCK in vigie's output", "%d found" % len(leaked))


check_folder("vancouver", args.store, args.events)

good = os.path.join(args.source_dir, "tests", "data", "ingest", "vpd_good.csv")
out = os.path.join(args.work, "good")
cfg = ic.case_copy(args, os.path.join(args.work, "case.ini"), [good], out, coverage="2018-01-01/2018-12-31")
r = ic.vigie(args, ["ingest", "--config", cfg])
c.check(r.returncode == 0, "vpd_good.csv ingests", r.stderr[-1000:])
check_folder("vpd_good", out, good, printed=r.stdout + r.stderr)
sys.exit(c.finish())
