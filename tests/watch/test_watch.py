#!/usr/bin/python3
"""End-to-end checks of `vigie watch` on a small Vancouver case (history October-December 2022, a replay of
1-8 January 2023 made by scripts/replay):
- the same stream at 1, 2 and 4 ranks gives identical cycles, alerts, forecast and state;
- the store equals a straight `vigie ingest` of the history and the stream, and alerts.jsonl exists;
- the same stream sent again appends nothing and runs no cycle;
- a stop signal after cycle 3 exits 8 and a second start finishes with the uninterrupted run's results;
- malformed lines go to rejects.csv with the stream's line and reason, and the watcher goes on;
- a stream without a header needs watch.header; with it, the counts are the same;
- a FIFO and a file that grows while it is watched give the same store;
- an injected cluster (15 events within 300 m in 6 hours) raises an alert on its day, near its place."""
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import watch_common as wc  # noqa: E402

ic = wc.ic
args = ic.parse_args(__doc__)
c = ic.Checks()
w = args.work
hist = os.path.join(w, "hist.csv.gz")
ic.vpd_subset(args, hist, wc.history_q4_2022)
stream = wc.make_stream(args, os.path.join(w, "stream.csv"))
DAYS = 8


def out_of(name):
    return os.path.join(w, name)


def run(name, ranks=2, stream_path=stream, **kw):
    cfg = wc.make_case(args, name, hist, out_of(name), kw.pop("extra_ini", ""))
    r = wc.watch(args, cfg, stream_path, ranks=ranks, **kw)
    return cfg, r


def ok(r, what, code=0):
    err = r.stderr if isinstance(r.stderr, str) else r.stderr.decode(errors="replace")
    return c.check(r.returncode == code, "%s exits %d" % (what, code), "exit %d: %s" % (r.returncode, err[-1500:]))


# Rank invariance.
for n in (1, 2, 4):
    _, r = run("np%d" % n, ranks=n)
    ok(r, "watch at %d rank(s)" % n)
ref = out_of("np2")
cyc = wc.cycles(ref)
c.check(len(cyc) == DAYS and [x["cycle"] for x in cyc] == list(range(DAYS)),
        "one record per cycle, 8 daily cycles", str([x["cycle"] for x in cyc]))
c.check(all(x["covered"] and x["analysis"]["observations"] > 0 for x in cyc), "every cycle assimilated")
for n in (1, 4):
    o = out_of("np%d" % n)
    c.check(wc.cycles(o) == cyc, "cycles at %d rank(s) = at 2" % n)
    c.check(wc.alerts(o) == wc.alerts(ref), "alerts at %d rank(s) = at 2" % n)
    for f in ("forecast.h5", "state.h5"):
        d = wc.same_fields(os.path.join(o, "watch", f), os.path.join(ref, "watch", f))
        c.check(d == "", "watch/%s at %d rank(s) = at 2, bit for bit" % (f, n), d)
c.check(os.path.exists(os.path.join(ref, "alerts.jsonl")), "alerts.jsonl exists")
with open(os.path.join(ref, "alerts.geojson")) as fh:
    gj = json.load(fh)
c.check(gj["type"] == "FeatureCollection" and len(gj["features"]) == len(wc.alerts(ref)),
        "alerts.geojson holds one feature per alert")
doc = json.load(open(os.path.join(ref, "watch", "watch.json")))
c.check(doc["schema"] == "vigie.watch/1" and doc["cycles_done"] == DAYS and doc["events_appended"] > 0,
        "watch.json: schema, cycles, events", json.dumps(doc)[:400])

# The store equals a straight ingest of the history and the stream.
straight = out_of("straight")
cfg = wc.make_case(args, "straight", hist, straight)
with open(cfg) as fh:
    text = fh.read().replace("events = %s" % hist, "events = %s,%s" % (hist, stream))
with open(cfg, "w") as fh:
    fh.write(text)
r = ic.vigie(args, ["ingest", "--config", cfg], ranks=2)
ok(r, "straight ingest")
d = wc.counts_equal(os.path.join(ref, "obs.h5"), os.path.join(straight, "obs.h5"))
c.check(d == "", "watched store = straight ingest of history + stream", d)

# The same stream again: nothing new.
cfg2 = os.path.join(w, "np2.ini")
r = wc.watch(args, cfg2, stream)
ok(r, "the same stream again")
again = json.load(open(os.path.join(ref, "watch", "watch.json")))
c.check(again["events_appended"] == 0 and again["cycles_this_run"] == 0, "sent again: no event, no cycle",
        json.dumps(again)[:300])
c.check(wc.cycles(ref) == cyc, "sent again: cycles unchanged")
d = wc.counts_equal(os.path.join(ref, "obs.h5"), os.path.join(straight, "obs.h5"))
c.check(d == "", "sent again: store unchanged", d)

# A stop signal after cycle 3, then a second start.
cfg, r = run("term", env={"VIGIE_FAULT": "watch:3"})
ok(r, "watch stopped by SIGTERM after cycle 3", 8)
c.check(len(wc.cycles(out_of("term"))) == 4, "4 cycles committed before the stop")
r = wc.watch(args, cfg, stream)
ok(r, "watch started again")
c.check(wc.cycles(out_of("term")) == cyc, "stopped and resumed: same cycles as uninterrupted")
for f in ("forecast.h5", "state.h5"):
    d = wc.same_fields(os.path.join(out_of("term"), "watch", f), os.path.join(ref, "watch", f))
    c.check(d == "", "stopped and resumed: watch/%s = uninterrupted" % f, d)

# Malformed lines in the middle of the stream.
lines = open(stream).read().splitlines()
bad = {40: "this is not a row", 41: "Theft from Vehicle,2023,1,1,,,X,Y,1,2,3,4,not-a-date", 42: "\x01\x02binary",
       120: "Mischief,2023,1,2,3,4,5,6", 121: '"unbalanced,quote'}
mixed = list(lines)
for ln in sorted(bad):  # so that line ln of the stream is bad[ln]
    mixed.insert(ln - 1, bad[ln])
mixed_path = os.path.join(w, "mixed.csv")
with open(mixed_path, "w") as fh:
    fh.write("\n".join(mixed) + "\n")
_, r = run("malformed", stream_path=mixed_path)
ok(r, "a stream with malformed lines")
rej = [row for row in ic.rejects_rows(os.path.join(out_of("malformed"), "rejects.csv")) if row[0] == "stdin"]
by_line = {int(row[1]): row[2] for row in rej}
c.check(all(k in by_line for k in bad), "each malformed line is in rejects.csv with its stream line",
        str(sorted(by_line)[:10]))
c.check(by_line.get(40) == "malformed_row" and by_line.get(41) == "unparseable_time" and
        by_line.get(42) == "malformed_row" and by_line.get(121) == "malformed_row",
        "the reasons are named", "%s %s" % (by_line.get(40), by_line.get(41)))
d = wc.counts_equal(os.path.join(out_of("malformed"), "obs.h5"), os.path.join(ref, "obs.h5"))
c.check(d == "", "malformed lines change no count", d)

# No header line.
body = "\n".join(lines[1:]) + "\n"
_, r = run("noheader", stdin_text=body)
ok(r, "a stream without a header and no watch.header", 3)
c.check(b"stdin:1" in r.stderr and b"watch.header" in r.stderr, "the error names stdin:1 and watch.header",
        r.stderr.decode(errors="replace")[-500:])
shutil.rmtree(out_of("noheader"))
_, r = run("noheader", stdin_text=body, extra=["--watch.header", lines[0]])
ok(r, "a stream without a header, with watch.header")
d = wc.counts_equal(os.path.join(out_of("noheader"), "obs.h5"), os.path.join(ref, "obs.h5"))
c.check(d == "", "headerless stream: same counts", d)

# A FIFO written in two halves, and a file that grows while it is watched.
half = len(lines) // 2
fifo = os.path.join(w, "events.fifo")
os.mkfifo(fifo)


def write_fifo():
    with open(fifo, "w") as fh:
        fh.write("\n".join(lines[:half]) + "\n")
        fh.flush()
        time.sleep(1.5)
        fh.write("\n".join(lines[half:]) + "\n")


t = threading.Thread(target=write_fifo)
t.start()
cfg = wc.make_case(args, "fifo", hist, out_of("fifo"))
r = subprocess.run([args.mpiexec, "-n", "2", args.vigie, "watch", "--config", cfg, "--stream", fifo],
                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
t.join()
ok(r, "watch on a FIFO")
d = wc.counts_equal(os.path.join(out_of("fifo"), "obs.h5"), os.path.join(ref, "obs.h5"))
c.check(d == "", "FIFO: same counts", d)
c.check(wc.cycles(out_of("fifo")) == cyc, "FIFO: same cycles")

growing = os.path.join(w, "growing.csv")
with open(growing, "w") as fh:
    fh.write("\n".join(lines[:half]) + "\n")
cfg = wc.make_case(args, "growing", hist, out_of("growing"))
p = subprocess.Popen([args.mpiexec, "-n", "2", args.vigie, "watch", "--config", cfg, "--stream", growing,
                      "--watch.follow=true", "--watch.idle_exit_s=8"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
time.sleep(3)
with open(growing, "a") as fh:
    fh.write("\n".join(lines[half:]) + "\n")
so, se = p.communicate(timeout=600)
c.check(p.returncode == 0, "watch following a growing file exits 0", se.decode(errors="replace")[-800:])
d = wc.counts_equal(os.path.join(out_of("growing"), "obs.h5"), os.path.join(ref, "obs.h5"))
c.check(d == "", "growing file: same counts", d)
c.check(wc.cycles(out_of("growing")) == cyc, "growing file: same cycles")

# An injected cluster in a quiet residential area: 15 events within 300 m over 6 hours on 5 January.
X, Y = 494500.0, 5452000.0
inj = wc.make_stream(args, os.path.join(w, "injected.csv"),
                     inject=["%.1f,%.1f,2023-01-05T12:00,6,15,300" % (X, Y)])
_, r = run("injected", stream_path=inj)
ok(r, "watch on the stream with an injected cluster")


def near(a):
    return math.hypot(a["centre"]["x"] - X, a["centre"]["y"] - Y) <= 500.0


hits = [a for a in wc.alerts(out_of("injected")) if near(a)]
c.check(len(hits) == 1 and hits[0]["cycle_start"].startswith("2023-01-05"),
        "the injected cluster raises one alert, on 5 January, within 500 m",
        json.dumps(wc.alerts(out_of("injected")))[:1500])
if hits:
    c.check(hits[0]["observed"] >= 10 and hits[0]["recurrence_days"] >= 365,
            "the alert counts the injected events and passes the 1-year recurrence", json.dumps(hits[0]))
    print("injected cluster: %s" % json.dumps({k: hits[0][k] for k in (
        "id", "observed", "expected", "radius_m", "p_value", "recurrence_days")}))
c.check(not [a for a in wc.alerts(ref) if near(a)], "without the injection, no alert there")
c.check(b"ALERT 2023-01-05" in r.stdout, "the alert is printed on stdout", r.stdout.decode()[-500:])
sys.exit(c.finish())
