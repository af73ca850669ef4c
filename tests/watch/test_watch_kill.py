#!/usr/bin/python3
"""kill -9 of `vigie watch` at random points of a replay: scripts/replay sends 1-31 January 2023 into a
watcher at 2 ranks, the whole pipeline (replay, mpiexec, ranks) is SIGKILLed after a random delay and started
again with the same replay, 20 times, then once more to the end. Nothing may be lost or counted twice: the
store equals a straight `vigie ingest` of the history and the replayed rows; every cycle is recorded once; the
alerts, the rejects, the refreshed forecast and the filter's state equal those of an uninterrupted watch."""
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import watch_common as wc  # noqa: E402

ic = wc.ic
args = ic.parse_args(__doc__, lambda p: (p.add_argument("--seed", type=int, default=20230101),
                                         p.add_argument("--kills", type=int, default=20)))
c = ic.Checks()
w = args.work
rng = random.Random(args.seed)
hist = os.path.join(w, "hist.csv.gz")
ic.vpd_subset(args, hist, wc.history_q4_2022)
START, END, DAYS = "2023-01-01", "2023-02-01", 31
stream = wc.make_stream(args, os.path.join(w, "stream.csv"), START, END)
replay = [sys.executable, os.path.join(args.source_dir, "scripts", "replay"), ic.vpd_file(args), "--from", START,
          "--to", END]


def pipeline(cfg):
    """scripts/replay | mpiexec -n 2 vigie watch --stream -, as one shell pipeline in a session of its own."""
    watch = [args.mpiexec, "-n", "2", args.vigie, "watch", "--config", cfg, "--stream", "-", "--quiet",
             "--watch.scan_replicates=999"]
    cmd = " ".join(shlex.quote(x) for x in replay) + " | " + " ".join(shlex.quote(x) for x in watch)
    p = subprocess.Popen(["bash", "-o", "pipefail", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    return p, p


def kill_all(rp, wp):
    for _ in range(200):
        pids = ic.session_pids(rp.pid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    rp.wait()


# The uninterrupted watch, and how long it takes to reach its first cycle.
clean = os.path.join(w, "clean")
cfg_clean = wc.make_case(args, "clean", hist, clean)
t0 = time.time()
rp, wp = pipeline(cfg_clean)
_, err = wp.communicate(timeout=900)
rp.wait()
clean_s = time.time() - t0
c.check(wp.returncode == 0, "uninterrupted watch exits 0", err.decode(errors="replace")[-1500:])
ref_cycles = wc.cycles(clean)
c.check(len(ref_cycles) == DAYS, "uninterrupted watch: %d cycles" % DAYS, str(len(ref_cycles)))
print("uninterrupted watch: %.1f s for %d cycles" % (clean_s, DAYS))

# The straight ingest of the history and the replayed rows.
straight = os.path.join(w, "straight")
cfg = wc.make_case(args, "straight", hist, straight)
with open(cfg) as fh:
    text = fh.read().replace("events = %s" % hist, "events = %s,%s" % (hist, stream))
with open(cfg, "w") as fh:
    fh.write(text)
r = ic.vigie(args, ["ingest", "--config", cfg], ranks=2)
c.check(r.returncode == 0, "straight ingest exits 0", r.stderr[-1000:])

# Kills at random delays: from the start-up to a couple of cycles in.
killed = os.path.join(w, "killed")
cfg_killed = wc.make_case(args, "killed", hist, killed)
kills, attempts, progress = 0, 0, []
# Each attempt should commit a few cycles at most: delays up to the time a start takes when there is
# nothing left to do (a second run over the finished folder) plus four cycles.
with open(os.path.join(clean, "watch", "cycles.jsonl")) as fh:
    per_cycle = sum(json.loads(x)["cycle_s"] + json.loads(x)["append_s"] for x in fh) / DAYS
t0 = time.time()
rp, wp = pipeline(cfg_clean)
wp.communicate(timeout=900)
startup = time.time() - t0
c.check(len(wc.cycles(clean)) == DAYS, "a second run over the finished folder adds no cycle")
max_delay = startup + 4.0 * per_cycle
while kills < args.kills and attempts < 3 * args.kills:
    attempts += 1
    delay = rng.uniform(0.2, max_delay)
    rp, wp = pipeline(cfg_killed)
    time.sleep(delay)
    running = wp.poll() is None
    kill_all(rp, wp)
    if running:
        kills += 1
    progress.append(len(wc.cycles(killed)))
print("%d kills in %d attempts (start-up %.1f s, %.2f s a cycle, delays up to %.1f s); cycles committed after "
      "each: %s" % (kills, attempts, startup, per_cycle, max_delay, progress))
c.check(kills == args.kills, "%d kills while the watcher ran" % args.kills, "%d kills" % kills)
c.check(progress and progress[-1] < DAYS, "the kills happened before the end of the replay", str(progress))

# Started once more, it finishes the replay.
rp, wp = pipeline(cfg_killed)
_, err = wp.communicate(timeout=900)
rp.wait()
c.check(wp.returncode == 0, "the watcher started after the kills exits 0", err.decode(errors="replace")[-1500:])
d = wc.counts_equal(os.path.join(killed, "obs.h5"), os.path.join(straight, "obs.h5"))
c.check(d == "", "after %d kills: the store = a straight ingest (nothing lost, nothing twice)" % kills, d)
got = wc.cycles(killed)
c.check([x["cycle"] for x in got] == list(range(DAYS)), "every cycle recorded once",
        str([x["cycle"] for x in got]))
c.check(got == ref_cycles, "cycle records = uninterrupted")
c.check(wc.alerts(killed) == wc.alerts(clean), "alerts = uninterrupted",
        "%d vs %d" % (len(wc.alerts(killed)), len(wc.alerts(clean))))
for f in ("forecast.h5", "state.h5"):
    d = wc.same_fields(os.path.join(killed, "watch", f), os.path.join(clean, "watch", f))
    c.check(d == "", "watch/%s = uninterrupted, bit for bit" % f, d)


def stream_rejects(out):
    rows = [tuple(r) for r in ic.rejects_rows(os.path.join(out, "rejects.csv")) if r and r[0] == "stdin"]
    return rows


rk, rc_ = stream_rejects(killed), stream_rejects(clean)
c.check(len(rk) == len(set(rk)) and sorted(rk) == sorted(rc_), "stream rejects logged once each, as uninterrupted",
        "%d (%d distinct) vs %d" % (len(rk), len(set(rk)), len(rc_)))
doc = json.load(open(os.path.join(killed, "watch", "watch.json")))
print("final start: %s" % json.dumps({k: doc[k] for k in ("cycles_this_run", "cycles_done", "events_appended")}))
sys.exit(c.finish())
