#!/usr/bin/python3
"""Idempotent append: `vigie ingest --append` adds only the rows not yet in the store, the time axis grows,
and a second identical append adds nothing and changes no dataset. The final store matches the independent
recount."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_common as ic  # noqa: E402

args = ic.parse_args(__doc__)
c = ic.Checks()
w = args.work
a = os.path.join(w, "vpd_2018.csv.gz")
b = os.path.join(w, "vpd_2018_2020.csv.gz")
rows_a = ic.vpd_subset(args, a, ic.year_is(2018))
rows_b = ic.vpd_subset(args, b, ic.year_is(2018, 2020))
out = os.path.join(w, "store")
# An open-ended coverage: the time axis ends with the newest event and must grow when newer events arrive.
cfg = ic.case_copy(args, os.path.join(w, "case.ini"), [a], out, coverage="2018-01-01/2018-12-31, 2020-01-01/")
h5 = os.path.join(out, "obs.h5")
audit = os.path.join(out, "audit.jsonl")
rejects = os.path.join(out, "rejects.csv")

r = ic.vigie(args, ["ingest", "--config", cfg], ranks=2)
c.check(r.returncode == 0, "first ingest (2018) exits 0", r.stderr[-2000:])
first = ic.ingest_records(audit)[-1]["extra"]
c.check(first["rows_read"] == rows_a, "first ingest read every 2018 row", str(first["rows_read"]))
c.check(first["new_events"] == first["accepted"], "first ingest: every accepted event is new")
counts1, attrs1 = ic.counts(h5)
nt1 = len(attrs1["bin_start"])
c.check(nt1 == 365, "first store has the 365 days of 2018", str(nt1))
rejects_lines1 = len(ic.rejects_rows(rejects))

r = ic.vigie(args, ["ingest", "--append", "--config", cfg, "--ingest.events=" + b], ranks=2)
c.check(r.returncode == 0, "append 2018+2020 exits 0", r.stderr[-2000:])
second = ic.ingest_records(audit)[-1]["extra"]
c.check(second["rows_read"] == rows_b, "append read every row of the 2018+2020 file")
c.check(second["new_events"] == second["accepted"] - first["accepted"],
        "append adds only the 2020 rows (new_events = accepted 2020 events)",
        "new %d, accepted %d, accepted before %d"
        % (second["new_events"], second["accepted"], first["accepted"]))
counts2, attrs2 = ic.counts(h5)
nt2 = len(attrs2["bin_start"])
c.check(nt2 > nt1, "the time axis grew", "%d -> %d" % (nt1, nt2))
c.check(list(attrs2["bin_start"][:nt1]) == list(attrs1["bin_start"]), "existing bins kept their start times")
c.check(int(attrs2["journal_records"]) == second["accepted"] and int(attrs2["dirty"]) == 0,
        "journal_records = all accepted events, dirty = 0")
kept = all((counts2[k][:nt1] >= counts1[k]).all() for k in counts1)
c.check(kept, "no 2018 count went down")
total_new = sum(int(counts2[k].sum()) - int(counts1[k].sum()) for k in counts1)
c.check(total_new == second["new_events"], "counts grew by exactly new_events",
        "%d vs %d" % (total_new, second["new_events"]))
rejected2 = sum(second["rejected"].values())
c.check(len(ic.rejects_rows(rejects)) == rejects_lines1 + rejected2,
        "rejects.csv grew by the append's rejects (appended, never truncated)")

# The store after the append is the store of the union: the independent recount of the 2018+2020 file.
recount = os.path.join(args.source_dir, "scripts", "recount_events.py")
rc = subprocess.run([sys.executable, recount, "vancouver", "--config", cfg, "--events", b, "--obs", h5,
                     "--audit", audit],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
print(rc.stdout, end="")
c.check(rc.returncode == 0, "appended store matches the independent recount of the 2018+2020 rows")

before = ic.datasets(h5)
with open(os.path.join(out, "obs.journal"), "rb") as fh:
    journal_before = fh.read()
r = ic.vigie(args, ["ingest", "--append", "--config", cfg, "--ingest.events=" + b], ranks=2)
c.check(r.returncode == 0, "second identical append exits 0", r.stderr[-2000:])
third = ic.ingest_records(audit)[-1]["extra"]
c.check(third["new_events"] == 0, "second identical append adds 0 events", str(third["new_events"]))
after = ic.datasets(h5)
same = sorted(before) == sorted(after) and all(before[k].tobytes() == after[k].tobytes() for k in before)
c.check(same, "second identical append leaves every dataset identical")
with open(os.path.join(out, "obs.journal"), "rb") as fh:
    c.check(fh.read() == journal_before, "second identical append leaves the journal byte-identical")
c.check(not ic.temp_files(out), "no temporary file left", str(ic.temp_files(out)))
sys.exit(c.finish())
