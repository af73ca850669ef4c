#!/usr/bin/python3
"""The Vancouver replay report of `vigie watch` (docs/realtime.md):

    scripts/watch_replay_report.py --vigie build/src/vigie --work out/replay2023 [--ranks 2]

1. The history: the VPD rows before 2023 (scripts/replay --split-history), the store of the Vancouver case.
2. Plain replay: scripts/replay streams 2023 as fast as the watcher takes it into `vigie watch` at --ranks
   ranks. Reported: rows/s of the journaled append, rows/s end to end, the cycle latency (append + analysis +
   scan + forecast refresh + commit), and the alerts per year at the 1-year recurrence threshold.
3. Injected replay: the same with a synthetic cluster (--inject, default 15 events within 300 m in 6 hours
   on 14 June 2023 in a quiet residential block); reported: whether an alert names it, on which cycle, and its
   p-value and recurrence interval.
The figures go to <work>/report.json and <work>/report.md."""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vigie", default=os.path.join(ROOT, "build", "src", "vigie"))
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--work", default=os.path.join(ROOT, "out", "replay2023"))
    p.add_argument("--from", dest="start", default="2023-01-01")
    p.add_argument("--to", dest="end", default="2024-01-01")
    p.add_argument("--inject", default="494500,5452000,2023-06-14T12:00,6,15,300",
                   help="X,Y,START,HOURS,N,RADIUS (UTM 10N metres) of the synthetic cluster")
    p.add_argument("--skip-plain", action="store_true", help="only the injected replay")
    return p.parse_args()


def case(args, name, history):
    """The Vancouver case reading the history, writing to <work>/<name>."""
    src = os.path.join(ROOT, "inputs", "vancouver", "config.ini")
    out = os.path.join(args.work, name)
    lines = []
    with open(src) as fh:
        for line in fh:
            if line.startswith("events ="):
                line = "events = %s\n" % history
            elif line.startswith("profile ="):
                line = "profile = %s\n" % os.path.join(ROOT, "inputs", "vancouver", "vpd.profile.ini")
            elif line.startswith("dir ="):
                line = "dir = %s\n" % out
            lines.append(line)
    cfg = os.path.join(args.work, name + ".ini")
    with open(cfg, "w") as fh:
        fh.writelines(lines)
    shutil.rmtree(out, ignore_errors=True)
    return cfg, out


def replay_into_watch(args, cfg, inject=None):
    replay = [sys.executable, os.path.join(HERE, "replay"), os.path.join(ROOT, "inputs", "vancouver",
                                                                          "vpd_2018_2020-2023.csv.gz"),
              "--from", args.start, "--to", args.end]
    if inject:
        replay += ["--inject", inject]
    watch = [args.mpiexec, "-n", str(args.ranks), args.vigie, "watch", "--config", cfg, "--stream", "-", "--quiet"]
    t0 = time.time()
    rp = subprocess.Popen(replay, stdout=subprocess.PIPE)
    wp = subprocess.Popen(watch, stdin=rp.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rp.stdout.close()
    out, err = wp.communicate()
    rp.wait()
    wall = time.time() - t0
    if wp.returncode != 0:
        sys.exit("watch failed (%d): %s" % (wp.returncode, err.decode(errors="replace")[-3000:]))
    return wall, out.decode(errors="replace")


def read_jsonl(path):
    with open(path) as fh:
        return [json.loads(x) for x in fh if x.strip()]


def summary(out, wall):
    doc = json.load(open(os.path.join(out, "watch", "watch.json")))
    cycles = read_jsonl(os.path.join(out, "watch", "cycles.jsonl"))
    alerts = read_jsonl(os.path.join(out, "alerts.jsonl"))
    lat = sorted(c["cycle_s"] + c["append_s"] for c in cycles)
    proc = sorted(c["cycle_s"] for c in cycles)
    days = sum(1 for c in cycles if c["covered"])
    q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]
    return {
        "rows_read": doc["rows_read"], "events_appended": doc["events_appended"], "rows_rejected": doc["rows_rejected"],
        "cycles": len(cycles), "covered_cycles": days, "wall_s": wall,
        "rows_per_s_append": doc["events_per_second"], "rows_per_s_end_to_end": doc["rows_read"] / wall,
        "cycle_latency_s": {"mean": sum(lat) / len(lat), "p50": q(lat, 0.5), "p95": q(lat, 0.95), "max": lat[-1]},
        "cycle_processing_s": {"mean": sum(proc) / len(proc), "max": proc[-1]},
        "alerts": len(alerts), "alerts_per_year": len(alerts) * 365.25 / max(days, 1),
        "alerts_continued": doc["alerts_continued"],
        "observed_total": sum(c["observed"] for c in cycles), "expected_total": sum(c["expected"] for c in cycles),
        "model_expected_total": sum(c["model_expected"] for c in cycles),
        "alert_list": [{k: a[k] for k in ("id", "observed", "expected", "radius_m", "window_cycles", "p_value",
                                          "recurrence_days")} for a in alerts],
    }


def main():
    args = parse()
    os.makedirs(args.work, exist_ok=True)
    history = os.path.join(args.work, "history.csv.gz")
    if not os.path.exists(history):
        subprocess.run([sys.executable, os.path.join(HERE, "replay"),
                        os.path.join(ROOT, "inputs", "vancouver", "vpd_2018_2020-2023.csv.gz"), "--from", args.start,
                        "--split-history", history], check=True)
    report = {"ranks": args.ranks, "period": [args.start, args.end], "inject": args.inject}
    if not args.skip_plain:
        cfg, out = case(args, "plain", history)
        wall, _ = replay_into_watch(args, cfg)
        report["plain"] = summary(out, wall)
    cfg, out = case(args, "injected", history)
    wall, stdout = replay_into_watch(args, cfg, args.inject)
    inj = summary(out, wall)
    x, y, start = args.inject.split(",")[:3]
    hits = []
    for a in read_jsonl(os.path.join(out, "alerts.jsonl")):
        d = math.hypot(a["centre"]["x"] - float(x), a["centre"]["y"] - float(y))
        if d <= 500.0:
            hits.append({"id": a["id"], "cycle_start": a["cycle_start"], "distance_m": d, "observed": a["observed"],
                         "expected": a["expected"], "radius_m": a["radius_m"], "p_value": a["p_value"],
                         "recurrence_days": a["recurrence_days"], "window_cycles": a["window_cycles"]})
    inj["injected_hits"] = hits
    inj["injected_detected"] = bool(hits)
    inj["stdout_lines"] = [line for line in stdout.splitlines() if line.startswith("ALERT") and start[:10] in line]
    report["injected"] = inj
    with open(os.path.join(args.work, "report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    lines = ["# Vancouver %s replay through vigie watch (%d ranks)" % (args.start[:4], args.ranks), ""]
    for name in ("plain", "injected"):
        if name not in report:
            continue
        r = report[name]
        lines += ["## %s" % name,
                  "- rows read %d, new events %d, rejected %d, cycles %d" % (r["rows_read"], r["events_appended"],
                                                                           r["rows_rejected"], r["cycles"]),
                  "- journaled append %.0f rows/s; end to end %.0f rows/s over %.0f s" % (
                      r["rows_per_s_append"], r["rows_per_s_end_to_end"], r["wall_s"]),
                  "- cycle latency mean %.2f s, p50 %.2f s, p95 %.2f s, max %.2f s" % (
                      r["cycle_latency_s"]["mean"], r["cycle_latency_s"]["p50"], r["cycle_latency_s"]["p95"],
                      r["cycle_latency_s"]["max"]),
                  "- observed %d events, forecast (with correction) %.0f, model alone %.0f" % (
                      r["observed_total"], r["expected_total"], r["model_expected_total"]),
                  "- alerts at the 1-year recurrence threshold: %d (%.1f per year), %d continuations" % (
                      r["alerts"], r["alerts_per_year"], r["alerts_continued"]), ""]
    lines += ["## injected cluster %s" % args.inject,
              "- detected: %s" % ("yes" if inj["injected_detected"] else "no")]
    for h in hits:
        lines.append("- %s (cycle from %s): %d observed vs %.2f expected within %.0f m, %.0f m from the injection "
                     "centre, p = %.2g, recurrence %.0f days" % (h["id"], h["cycle_start"], h["observed"],
                                                                 h["expected"], h["radius_m"], h["distance_m"],
                                                                 h["p_value"], h["recurrence_days"]))
    with open(os.path.join(args.work, "report.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
