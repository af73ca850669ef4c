#!/usr/bin/python3
"""The Vancouver replay report of `vigie watch` (docs/realtime.md):

    scripts/watch_replay_report.py --vigie build/src/vigie --work out/replay2023 [--ranks 2]

1. The history: the VPD rows before 2023 (scripts/replay --split-history), the store of the Vancouver case.
2. Plain replay: scripts/replay streams 2023 as fast as the watcher takes it into `vigie watch` at --ranks
   ranks. Reported: rows/s of the journaled append, rows/s end to end, the cycle latency (append + analysis +
   scan + forecast refresh + commit), and the alerts per year at the 1-year recurrence threshold.
3. Calibration (--calibrate-from/--calibrate-to, default 2022): the year before is replayed the same way on
   the history before it; the recurrence threshold that would have raised one alert a year there is applied to
   the plain replay's alerts: the false-alert rate at a threshold set on earlier data.
4. Injected replay: the same with a synthetic cluster (--inject, default 15 events within 300 m in 6 hours
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
    p.add_argument("--calibrate-from", default="2022-01-01")
    p.add_argument("--calibrate-to", default="2023-01-01")
    p.add_argument("--fresh", action="store_true",
                   help="replay again even where <work> holds a finished replay (otherwise it is reused)")
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


def replay_into_watch(args, cfg, inject=None, start=None, end=None):
    replay = [sys.executable, os.path.join(HERE, "replay"), os.path.join(ROOT, "inputs", "vancouver",
                                                                          "vpd_2018_2020-2023.csv.gz"),
              "--from", start or args.start, "--to", end or args.end]
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
    # How often the best cluster of a cycle passes a recurrence threshold: the alert rate each threshold would
    # give (the best cluster only; secondary clusters add to it).
    best = [c["scan"]["recurrence_days"] for c in cycles if c.get("scan")]
    passing = {str(y): sum(1 for r in best if r >= 365.25 * y) * 365.25 / max(days, 1)
               for y in (1, 10, 100, 1000, 10000, 1e6)}
    return {
        "best_cluster_passing_per_year": passing,
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
    walls = {}
    if os.path.exists(os.path.join(args.work, "walls.json")):
        walls = json.load(open(os.path.join(args.work, "walls.json")))
    if not args.skip_plain:
        out = os.path.join(args.work, "plain")
        if args.fresh or "plain" not in walls:
            cfg, out = case(args, "plain", history)
            walls["plain"], walls["plain_stdout"] = replay_into_watch(args, cfg)
            json.dump(walls, open(os.path.join(args.work, "walls.json"), "w"))
        report["plain"] = summary(out, walls["plain"])
    # Calibration on the year before.
    calib_history = os.path.join(args.work, "history_calibration.csv.gz")
    out = os.path.join(args.work, "calibration")
    if args.fresh or "calibration" not in walls:
        if not os.path.exists(calib_history):
            subprocess.run([sys.executable, os.path.join(HERE, "replay"),
                            os.path.join(ROOT, "inputs", "vancouver", "vpd_2018_2020-2023.csv.gz"), "--from",
                            args.calibrate_from, "--split-history", calib_history], check=True)
        cfg, out = case(args, "calibration", calib_history)
        walls["calibration"], _ = replay_into_watch(args, cfg, None, args.calibrate_from, args.calibrate_to)
        json.dump(walls, open(os.path.join(args.work, "walls.json"), "w"))
    cal = summary(out, walls["calibration"])
    rec = sorted((a["recurrence_days"] for a in read_jsonl(os.path.join(out, "alerts.jsonl"))), reverse=True)
    allowed = max(1, int(round(cal["covered_cycles"] / 365.25)))
    # The threshold: just above the (allowed + 1)-th rarest alert of the calibration year, so that `allowed`
    # alerts (one a year) would have passed it there.
    threshold = rec[allowed] * 1.000001 if len(rec) > allowed else 365.0
    cal["threshold_days"] = threshold
    report["calibration"] = {k: cal[k] for k in ("cycles", "alerts", "alerts_per_year", "best_cluster_passing_per_year",
                                                 "threshold_days", "cycle_latency_s")}
    if "plain" in report:
        plain_rec = [a["recurrence_days"] for a in read_jsonl(os.path.join(args.work, "plain", "alerts.jsonl"))]
        n = sum(1 for r in plain_rec if r >= threshold)
        report["plain"]["calibrated_threshold_days"] = threshold
        report["plain"]["alerts_at_calibrated_threshold"] = n
        report["plain"]["alerts_per_year_at_calibrated_threshold"] = n * 365.25 / max(report["plain"]["covered_cycles"], 1)
    out = os.path.join(args.work, "injected")
    if args.fresh or "injected" not in walls:
        cfg, out = case(args, "injected", history)
        walls["injected"], walls["injected_stdout"] = replay_into_watch(args, cfg, args.inject)
        json.dump(walls, open(os.path.join(args.work, "walls.json"), "w"))
    wall, stdout = walls["injected"], walls["injected_stdout"]
    inj = summary(out, wall)
    x, y, start = args.inject.split(",")[:3]
    hits = []
    for a in read_jsonl(os.path.join(out, "alerts.jsonl")):
        d = math.hypot(a["centre"]["x"] - float(x), a["centre"]["y"] - float(y))
        if d <= 500.0:
            hits.append({"id": a["id"], "cycle_start": a["cycle_start"], "distance_m": d, "observed": a["observed"],
                         "expected": a["expected"], "radius_m": a["radius_m"], "p_value": a["p_value"],
                         "recurrence_days": a["recurrence_days"], "window_cycles": a["window_cycles"]})
    for h in hits:
        h["passes_calibrated_threshold"] = h["recurrence_days"] >= threshold
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
                      r["alerts"], r["alerts_per_year"], r["alerts_continued"]),
                  "- best cluster of a cycle passing a recurrence of 1, 10, 100, 1000, 10^4, 10^6 years: "
                  + ", ".join("%.1f" % v for v in r["best_cluster_passing_per_year"].values()) + " per year", ""]
    c = report["calibration"]
    lines += ["## calibration on %s to %s" % (args.calibrate_from, args.calibrate_to),
              "- %d cycles, %d alerts at the nominal 1-year threshold (%.1f per year)" % (
                  c["cycles"], c["alerts"], c["alerts_per_year"]),
              "- threshold for one alert a year there: recurrence >= %.3g days (%.3g years)" % (
                  c["threshold_days"], c["threshold_days"] / 365.25)]
    if "plain" in report:
        lines.append("- applied to the plain replay: %d alerts (%.1f per year)" % (
            report["plain"]["alerts_at_calibrated_threshold"], report["plain"]["alerts_per_year_at_calibrated_threshold"]))
    lines += ["", "## injected cluster %s" % args.inject,
              "- detected: %s" % ("yes" if inj["injected_detected"] else "no")]
    for h in hits:
        lines.append("- %s (cycle from %s): %d observed vs %.2f expected within %.0f m, %.0f m from the injection "
                     "centre, p = %.2g, recurrence %.0f days" % (h["id"], h["cycle_start"], h["observed"],
                                                                 h["expected"], h["radius_m"], h["distance_m"],
                                                                 h["p_value"], h["recurrence_days"]))
        lines.append("  passes the calibrated threshold: %s" % ("yes" if h["passes_calibrated_threshold"] else "no"))
    with open(os.path.join(args.work, "report.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
