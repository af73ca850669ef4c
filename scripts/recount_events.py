#!/usr/bin/python3
"""Independent recount of a Vigie observation store from the source CSV files.

Usage:
  recount_events.py vancouver --config CASE.ini --events A.csv[.gz] [B.csv ...] --obs obs.h5
                    [--audit audit.jsonl] [--rejects rejects.csv]
  recount_events.py marseille --config CASE.ini --events baac.csv --obs obs.h5 [--audit ...] [--rejects ...]

A second code path, written apart from the C++ reader, on purpose: Python's csv and gzip modules, pyproj for
lon/lat, datetime with zoneinfo for local calendar bins and their UTC starts. The script rebuilds, per
(category, bin, cell), the counts Vigie should have stored and compares them exactly with /counts/<category>,
the hour-of-day profiles, /time/bin_start, /time/bin_start_iso and /time/missing. Vancouver's study area
(cells whose centre lies within grid.mask_events_within_m of the centre of a cell holding an event dated up to
grid.mask_events_until) is computed here as well and compared with /mask; Marseille's mask is taken from /mask
(its rasterisation is tested elsewhere). With --audit, the last ingest record's `extra` must hold the same
rows read, accepted and per-reason rejected counts; with --rejects, rejects.csv must hold exactly the
recount's (file, line, reason) triples for these files. Exit status 0 when everything matches, 1 otherwise.

A row with several faults gets the first of: malformed row, unknown category, unparseable time, missing
coordinates, withheld location, outside grid, outside coverage, outside mask (the order in which
src/ingest/EventReader.cpp and IngestPipeline.cpp check them). Only the type, time and coordinate columns are
looked at; nothing of a row is printed.
"""
import argparse
import collections
import configparser
import csv
import datetime as dt
import gzip
import json
import math
import sys
from zoneinfo import ZoneInfo

import h5py
import numpy as np

# VPD TYPE -> Vigie category, written out here rather than read from the profile.
VPD_TYPES = {
    "Other Theft": "theft",
    "Theft from Vehicle": "theft_from_vehicle",
    "Mischief": "mischief",
    "Offence Against a Person": "person_offence",
    "Break and Enter Commercial": "break_enter_commercial",
    "Break and Enter Residential/Other": "break_enter_residential",
    "Theft of Bicycle": "bicycle_theft",
    "Theft of Vehicle": "vehicle_theft",
    "Vehicle Collision or Pedestrian Struck (with Injury)": "collision_injury",
    "Vehicle Collision or Pedestrian Struck (with Fatality)": "collision_fatal",
    "Homicide": "homicide",
}


class Case:
    """The parts of a case configuration the recount needs."""

    def __init__(self, path):
        cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"), strict=False)
        with open(path) as fh:
            cp.read_file(fh)
        g = cp["grid"]
        self.x0, self.y0 = float(g["x0"]), float(g["y0"])
        self.cell = float(g["cell_m"])
        self.nx, self.ny = int(g["nx"]), int(g["ny"])
        self.epsg = g["crs"].strip()
        self.mask_radius = float(g.get("mask_events_within_m", "0") or 0)
        until = g.get("mask_events_until", "").strip()
        self.mask_until = dt.date.fromisoformat(until) if until else dt.date.max
        i = cp["ingest"]
        self.categories = [c.strip() for c in i["categories"].split(",") if c.strip()]
        self.bin = i.get("bin", "day").strip()
        self.tz = ZoneInfo(i.get("timezone", "UTC").strip())
        self.coverage = []
        for item in i.get("coverage", "").split(","):
            item = item.strip()
            if not item:
                continue
            start, _, end = item.partition("/")
            self.coverage.append((dt.date.fromisoformat(start.strip()),
                                  dt.date.fromisoformat(end.strip()) if end.strip() else dt.date.max))

    def covered(self, day):
        return not self.coverage or any(a <= day <= b for a, b in self.coverage)

    def cell_of(self, x, y):
        """(i, j) of a grid-CRS point, or None outside the grid; row 0 is the southern edge."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        i = math.floor((x - self.x0) / self.cell)
        j = math.floor((y - self.y0) / self.cell)
        if 0 <= i < self.nx and 0 <= j < self.ny:
            return i, j
        return None

    def bin_key(self, day):
        return day if self.bin == "day" else (day.year, day.month)

    def bin_days(self, key):
        """First and last local day of a bin."""
        if self.bin == "day":
            return key, key
        y, m = key
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        return dt.date(y, m, 1), nxt - dt.timedelta(days=1)


def open_text(path):
    """A text stream over a plain or gzip file, told apart by the magic bytes."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")
    return open(path, "r", encoding="utf-8", errors="surrogateescape", newline="")


def rows_of(path):
    """(first physical line, fields) for each data row; blank lines are not rows."""
    with open_text(path) as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:
                continue
            yield header, line, row


def number(text):
    try:
        v = float(text.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


class Recount:
    def __init__(self, case):
        self.case = case
        self.rows = 0
        self.duplicates = 0
        self.rejects = []  # (file, line, reason)
        self.candidates = []  # (file, line, category, local day, hour or None, i, j)

    def reject(self, path, line, reason):
        self.rejects.append((path, line, reason))


def read_vancouver(rc, path):
    seen = set()
    for header, line, row in rows_of(path):
        rc.rows += 1
        key = tuple(row)
        if key in seen:
            rc.duplicates += 1
        seen.add(key)
        if len(row) != len(header):
            rc.reject(path, line, "malformed_row")
            continue
        f = dict(zip(header, (v.strip() for v in row)))
        category = VPD_TYPES.get(f["TYPE"])
        if category is None or category not in rc.case.categories:
            rc.reject(path, line, "unknown_category")
            continue
        try:
            when = dt.datetime.strptime(f["DATETIME"], "%Y-%m-%dT%H:%M")
        except ValueError:
            rc.reject(path, line, "unparseable_time")
            continue
        x, y = number(f["X"]), number(f["Y"])
        if x is None or y is None:
            rc.reject(path, line, "missing_coordinates")
            continue
        if x == 0.0 and y == 0.0:
            rc.reject(path, line, "withheld_location")
            continue
        cell = rc.case.cell_of(x, y)
        if cell is None:
            rc.reject(path, line, "outside_grid")
            continue
        # VPD writes 00:00 for "time unknown": such a row is known to the day only, without an hour of day.
        hour = None if (when.hour == 0 and when.minute == 0) else when.hour
        rc.candidates.append((path, line, category, when.date(), hour) + cell)


def read_marseille(rc, path):
    from pyproj import Transformer

    to_grid = Transformer.from_crs("EPSG:4326", rc.case.epsg, always_xy=True)
    pending = []
    seen = set()
    for header, line, row in rows_of(path):
        rc.rows += 1
        key = tuple(row)
        if key in seen:
            rc.duplicates += 1
        seen.add(key)
        if len(row) != len(header):
            rc.reject(path, line, "malformed_row")
            continue
        f = dict(zip(header, (v.strip() for v in row)))
        if not (f["mois"].isdigit() and f["hrmn"].isdigit()):
            rc.reject(path, line, "unparseable_time")
            continue
        month, hhmm = int(f["mois"]), int(f["hrmn"])
        hour, minute = divmod(hhmm, 100)
        if not (1 <= month <= 12 and hour < 24 and minute < 60):
            rc.reject(path, line, "unparseable_time")
            continue
        lon, lat = number(f["long"]), number(f["lat"])
        if lon is None or lat is None:
            rc.reject(path, line, "missing_coordinates")
            continue
        pending.append((line, month, hour, lon, lat))
    if pending:
        lons = np.array([p[3] for p in pending])
        lats = np.array([p[4] for p in pending])
        xs, ys = to_grid.transform(lons, lats)
        for (line, month, hour, lon, lat), x, y in zip(pending, np.atleast_1d(xs), np.atleast_1d(ys)):
            cell = rc.case.cell_of(float(x), float(y)) if abs(lon) <= 180 and abs(lat) <= 90 else None
            if cell is None:
                rc.reject(path, line, "outside_grid")
                continue
            rc.candidates.append((path, line, "road_injury", dt.date(2018, month, 1), hour) + cell)


def event_mask(case, seeds):
    """Cells whose centre is within case.mask_radius of the centre of a seed cell."""
    mask = np.zeros((case.ny, case.nx), dtype=np.uint8)
    reach = int(case.mask_radius // case.cell) + 1
    js, is_ = np.nonzero(seeds)
    for dj in range(-reach, reach + 1):
        for di in range(-reach, reach + 1):
            if math.hypot(di * case.cell, dj * case.cell) > case.mask_radius + 1e-6:
                continue
            jj, ii = js + dj, is_ + di
            ok = (jj >= 0) & (jj < case.ny) & (ii >= 0) & (ii < case.nx)
            mask[jj[ok], ii[ok]] = 1
    return mask


def compare(rc, obs_path, case_name, failures):
    case = rc.case
    with h5py.File(obs_path, "r") as f:
        stored_mask = f["mask"][()]
        if case_name == "vancouver":
            seeds = np.zeros((case.ny, case.nx), dtype=bool)
            for c in rc.candidates:
                if case.covered(c[3]) and c[3] <= case.mask_until:
                    seeds[c[6], c[5]] = True
            mask = event_mask(case, seeds)
            if not np.array_equal(mask, stored_mask):
                failures.append("/mask: %d cells differ from the recount's event mask (recount %d cells, "
                                "stored %d)" % (int(np.count_nonzero(mask != stored_mask)),
                                               int(mask.sum()), int(stored_mask.sum())))
        else:
            mask = stored_mask
        accepted = []
        for c in rc.candidates:
            path, line, category, day, hour, i, j = c
            if not case.covered(day):
                rc.reject(path, line, "outside_coverage")
            elif not mask[j, i]:
                rc.reject(path, line, "outside_mask")
            else:
                accepted.append(c)
        rc.accepted = accepted

        iso = [s.decode() if isinstance(s, bytes) else str(s) for s in f["time/bin_start_iso"][()]]
        starts = f["time/bin_start"][()]
        missing = f["time/missing"][()]
        nt = len(iso)
        keys = []
        for k, s in enumerate(iso):
            day = dt.date.fromisoformat(s[:10])
            key = case.bin_key(day)
            keys.append(key)
            first, last = case.bin_days(key)
            local = dt.datetime(first.year, first.month, first.day, tzinfo=case.tz)
            offset = local.strftime("%z")
            want_iso = local.strftime("%Y-%m-%dT%H:%M") + offset[:3] + ":" + offset[3:]
            if s != want_iso or first != day:
                failures.append("/time/bin_start_iso[%d] = %s, expected %s" % (k, s, want_iso))
            if int(starts[k]) != int(local.timestamp()):
                failures.append("/time/bin_start[%d] = %d, expected %d (%s)" % (k, int(starts[k]),
                                                                               int(local.timestamp()), s))
            covered = all(case.covered(first + dt.timedelta(days=d)) for d in range((last - first).days + 1))
            if int(missing[k]) != (0 if covered else 1):
                failures.append("/time/missing[%d] (%s) = %d, expected %d" % (k, s, int(missing[k]),
                                                                              0 if covered else 1))
            if k > 0:
                prev_last = case.bin_days(keys[k - 1])[1]
                if first != prev_last + dt.timedelta(days=1):
                    failures.append("time axis not contiguous at bin %d (%s)" % (k, s))
        index = {key: k for k, key in enumerate(keys)}

        # Sparse on both sides: (flat index, count) pairs, so a multi-year daily store is never held twice.
        flat = {c: [] for c in case.categories}
        hours = {c: np.zeros((24, case.ny, case.nx), dtype=np.int64) for c in case.categories}
        outside_axis = 0
        for path, line, category, day, hour, i, j in accepted:
            k = index.get(case.bin_key(day))
            if k is None:
                outside_axis += 1
                continue
            flat[category].append((k * case.ny + j) * case.nx + i)
            if hour is not None:
                hours[category][hour, j, i] += 1
        if outside_axis:
            failures.append("%d accepted events fall outside the stored time axis" % outside_axis)
        for c in case.categories:
            dset = f["counts/" + c]
            if dset.shape != (nt, case.ny, case.nx):
                failures.append("/counts/%s: shape %s, expected %s" % (c, dset.shape, (nt, case.ny, case.nx)))
                continue
            stored = dset[()].ravel()
            got_idx = np.flatnonzero(stored)
            got_val = stored[got_idx].astype(np.int64)
            want_idx, want_val = np.unique(np.array(flat[c], dtype=np.int64), return_counts=True)
            if (stored < 0).any():
                failures.append("/counts/%s: negative counts" % c)
            if not (np.array_equal(got_idx, want_idx) and np.array_equal(got_val, want_val)):
                both = np.union1d(got_idx, want_idx)
                s_map = dict(zip(got_idx.tolist(), got_val.tolist()))
                w_map = dict(zip(want_idx.tolist(), want_val.tolist()))
                bad = [b for b in both.tolist() if s_map.get(b, 0) != w_map.get(b, 0)]
                t, rest = divmod(bad[0], case.ny * case.nx)
                j, i = divmod(rest, case.nx)
                failures.append("/counts/%s: %d (bin, cell) values differ; first at bin %s cell "
                                "(i=%d, j=%d): stored %d, recount %d (stored total %d, recount %d)"
                                % (c, len(bad), iso[t], i, j, s_map.get(bad[0], 0), w_map.get(bad[0], 0),
                                   int(got_val.sum()), int(want_val.sum())))
            name = "profiles/hour_of_day/" + c
            if name in f:
                prof = f[name][()].astype(np.int64)
                if prof.shape != hours[c].shape or not np.array_equal(prof, hours[c]):
                    failures.append("/%s: differs from the recount (stored total %d, recount %d)"
                                    % (name, int(prof.sum()), int(hours[c].sum())))
            else:
                failures.append("/%s: missing" % name)
        if int(f.attrs["journal_records"]) != len(accepted):
            failures.append("journal_records %d, recount accepted %d" % (int(f.attrs["journal_records"]),
                                                                          len(accepted)))


def check_audit(rc, audit_path, failures):
    record = None
    with open(audit_path) as fh:
        for text in fh:
            r = json.loads(text)
            if r["what"]["subcommand"].startswith("ingest"):
                record = r
    if record is None:
        failures.append("%s: no ingest record" % audit_path)
        return
    extra = record["what"]["extra"]
    reasons = collections.Counter(reason for _, _, reason in rc.rejects)
    if extra.get("rows_read") != rc.rows:
        failures.append("audit rows_read %s, recount %d data rows" % (extra.get("rows_read"), rc.rows))
    if extra.get("accepted") != len(rc.accepted):
        failures.append("audit accepted %s, recount %d" % (extra.get("accepted"), len(rc.accepted)))
    stored = {k: v for k, v in extra.get("rejected", {}).items() if v}
    if stored != dict(reasons):
        failures.append("audit rejected %s, recount %s" % (stored, dict(reasons)))
    if extra.get("accepted", 0) + sum(stored.values()) != extra.get("rows_read"):
        failures.append("audit: accepted + rejected != rows_read")
    if extra.get("duplicate_rows") != rc.duplicates:
        failures.append("audit duplicate_rows %s, recount %d" % (extra.get("duplicate_rows"), rc.duplicates))


def check_rejects(rc, rejects_path, files, failures):
    with open(rejects_path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        got = collections.Counter((r[0], int(r[1]), r[2]) for r in reader if r and r[0] in files)
    if header != ["file", "line", "reason"]:
        failures.append("%s: header %s" % (rejects_path, header))
    want = collections.Counter(rc.rejects)
    if got != want:
        extra, lacking = got - want, want - got
        failures.append("%s: %d lines not in the recount (e.g. %s), %d recount rejects absent (e.g. %s)"
                        % (rejects_path, sum(extra.values()), list(extra)[:3], sum(lacking.values()),
                           list(lacking)[:3]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case", choices=["vancouver", "marseille"])
    p.add_argument("--config", required=True)
    p.add_argument("--events", required=True, nargs="+", help="the files, as given to vigie ingest")
    p.add_argument("--obs", required=True)
    p.add_argument("--audit")
    p.add_argument("--rejects")
    args = p.parse_args()

    case = Case(args.config)
    rc = Recount(case)
    for path in args.events:
        (read_vancouver if args.case == "vancouver" else read_marseille)(rc, path)
    failures = []
    compare(rc, args.obs, args.case, failures)
    if args.audit:
        check_audit(rc, args.audit, failures)
    if args.rejects:
        check_rejects(rc, args.rejects, set(args.events), failures)
    reasons = collections.Counter(reason for _, _, reason in rc.rejects)
    print("recount %s: %d rows, %d accepted, %d rejected %s, %d exact duplicate rows"
          % (args.case, rc.rows, len(rc.accepted), len(rc.rejects), dict(sorted(reasons.items())),
             rc.duplicates))
    for msg in failures:
        print("MISMATCH " + msg)
    print("recount vs %s: %s" % (args.obs, "match" if not failures else "%d mismatches" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
