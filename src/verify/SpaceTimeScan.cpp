#include "verify/SpaceTimeScan.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"

namespace vigie::verify {

namespace {

using core::Error;
using core::ExitCode;

/// Windows are held in blocks of kLanes doubles per cell (window w + 1 cycles at lane w), so the inner loop
/// over windows has a fixed length the compiler vectorises; lanes past max_window stay 0.
constexpr int kLanes = 8;
constexpr double kEulerGamma = 0.57721566490153286;

/// A cell offset of the circle template and its squared distance in cells.
struct Offset {
  int di = 0;
  int dj = 0;
  std::int64_t d2 = 0;
};

/// The cells within `radius_m` of a cell centre, in order of distance then of global index (dj, then di: the
/// order of j * nx + i for cells of one grid).
std::vector<Offset> circleTemplate(double radius_m, double cell_m) {
  const double r_cells = radius_m / cell_m;
  const int reach = static_cast<int>(std::floor(r_cells + 1e-9));
  const double limit = r_cells * r_cells * (1.0 + 1e-12) + 1e-12;
  std::vector<Offset> offsets;
  for (int dj = -reach; dj <= reach; ++dj) {
    for (int di = -reach; di <= reach; ++di) {
      const std::int64_t d2 = static_cast<std::int64_t>(di) * di + static_cast<std::int64_t>(dj) * dj;
      if (static_cast<double>(d2) <= limit) offsets.push_back({di, dj, d2});
    }
  }
  std::sort(offsets.begin(), offsets.end(), [](const Offset& a, const Offset& b) {
    if (a.d2 != b.d2) return a.d2 < b.d2;
    if (a.dj != b.dj) return a.dj < b.dj;
    return a.di < b.di;
  });
  return offsets;
}

/// Every centre's circle as a list of compact active-cell indices (CSR), built once.
struct Geometry {
  std::vector<std::int64_t> active;     ///< compact index -> global index
  std::vector<std::int64_t> centres;    ///< compact indices of the centres
  std::vector<std::size_t> start;       ///< centre c's members: members[start[c] .. start[c + 1])
  std::vector<std::int32_t> members;    ///< compact indices
  std::vector<std::int64_t> member_d2;  ///< squared distance (cells) of each member to its centre
};

Geometry buildGeometry(const ScanInput& in, const ScanOptions& opt) {
  Geometry g;
  const std::int64_t n = static_cast<std::int64_t>(in.nx) * in.ny;
  std::vector<std::int32_t> compact(static_cast<std::size_t>(n), -1);
  for (std::int64_t k = 0; k < n; ++k) {
    if (in.mask[static_cast<std::size_t>(k)] != 0) {
      compact[static_cast<std::size_t>(k)] = static_cast<std::int32_t>(g.active.size());
      g.active.push_back(k);
    }
  }
  for (std::size_t a = 0; a < g.active.size(); a += static_cast<std::size_t>(opt.centre_stride)) {
    g.centres.push_back(static_cast<std::int64_t>(a));
  }
  const std::vector<Offset> offsets = circleTemplate(opt.max_radius_m, in.cell_m);
  g.start.reserve(g.centres.size() + 1);
  g.start.push_back(0);
  for (const std::int64_t c : g.centres) {
    const std::int64_t gc = g.active[static_cast<std::size_t>(c)];
    const int ci = static_cast<int>(gc % in.nx);
    const int cj = static_cast<int>(gc / in.nx);
    for (const Offset& o : offsets) {
      const int i = ci + o.di;
      const int j = cj + o.dj;
      if (i < 0 || i >= in.nx || j < 0 || j >= in.ny) continue;
      const std::int32_t a = compact[static_cast<std::size_t>(j) * static_cast<std::size_t>(in.nx) +
                                     static_cast<std::size_t>(i)];
      if (a < 0) continue;
      g.members.push_back(a);
      g.member_d2.push_back(o.d2);
    }
    g.start.push_back(g.members.size());
  }
  return g;
}

/// The best zone of one centre: score, prefix length k (cells = k + 1) and window lane w (w + 1 cycles).
struct CentreBest {
  double score = 0.0;
  int k = -1;
  int w = -1;
  double observed = 0.0;
  double expected = 0.0;
};

/// What the scans share, built once: each circle prefix's expected count per window, and for each active cell
/// the (centre, position) pairs of the circles that hold it.
struct Tables {
  int windows = 0;
  std::vector<double> eprefix;      ///< [member entry][window]: expected count of the prefix
  std::vector<std::size_t> rstart;  ///< active cell a's pairs: rcentre/rpos[rstart[a] .. rstart[a+1])
  std::vector<std::int32_t> rcentre;
  std::vector<std::int32_t> rpos;
};

Tables buildTables(const Geometry& g, const std::vector<double>& expc, int windows) {
  Tables t;
  t.windows = windows;
  const auto ww = static_cast<std::size_t>(windows);
  t.eprefix.assign(g.members.size() * ww, 0.0);
  for (std::size_t c = 0; c + 1 < g.start.size(); ++c) {
    std::vector<double> acc(ww, 0.0);
    for (std::size_t m = g.start[c]; m < g.start[c + 1]; ++m) {
      const std::size_t a = static_cast<std::size_t>(g.members[m]) * kLanes;
      for (std::size_t w = 0; w < ww; ++w) {
        acc[w] += expc[a + w];
        t.eprefix[m * ww + w] = acc[w];
      }
    }
  }
  const std::size_t na = g.active.size();
  t.rstart.assign(na + 1, 0);
  for (const std::int32_t a : g.members) ++t.rstart[static_cast<std::size_t>(a) + 1];
  for (std::size_t a = 0; a < na; ++a) t.rstart[a + 1] += t.rstart[a];
  t.rcentre.resize(g.members.size());
  t.rpos.resize(g.members.size());
  std::vector<std::size_t> fill(t.rstart.begin(), t.rstart.end() - 1);
  for (std::size_t c = 0; c + 1 < g.start.size(); ++c) {
    for (std::size_t m = g.start[c]; m < g.start[c + 1]; ++m) {
      const std::size_t slot = fill[static_cast<std::size_t>(g.members[m])]++;
      t.rcentre[slot] = static_cast<std::int32_t>(c);
      t.rpos[slot] = static_cast<std::int32_t>(m - g.start[c]);
    }
  }
  return t;
}

/// One scan of a set of counts (`obs`: kLanes window sums per active cell). Only the cells with events
/// matter: a prefix whose newest cell adds no events to a window has the same C as the prefix before it and a
/// larger E, so a lower score. For each centre the cells with events are visited in circle order, and a zone
/// is scored only when it might beat the best so far: C log(C/E) - (C - E) <= (C - E)^2 / (2E) (from log x <=
/// (x - 1/x) / 2 for x >= 1), so a zone with (C - E)^2 <= 2 E best is skipped. Ties keep the first zone in
/// (centre, prefix, window) order. Scratch space is reused between scans.
class Scanner {
 public:
  Scanner(const Geometry& g, const Tables& t, double min_observed)
      : m_g(g), m_t(t), m_min(min_observed), m_count(g.centres.size() + 1, 0) {}

  /// per_centre != nullptr: each centre's own best zone (pruned against that centre's best); otherwise only
  /// the overall maximum is needed (pruned against the running maximum). Returns the maximum score.
  double scan(const double* obs, std::vector<CentreBest>* per_centre) {
    const std::size_t nc = m_g.centres.size();
    const std::size_t na = m_g.active.size();
    const int windows = m_t.windows;
    const auto ww = static_cast<std::size_t>(windows);
    // Bucket (position, cell) pairs by centre: count, prefix sums, fill.
    std::fill(m_count.begin(), m_count.end(), std::size_t{0});
    m_events.clear();
    for (std::size_t a = 0; a < na; ++a) {
      if (obs[a * kLanes + ww - 1] > 0.0) {
        m_events.push_back(static_cast<std::int32_t>(a));
        for (std::size_t q = m_t.rstart[a]; q < m_t.rstart[a + 1]; ++q) {
          ++m_count[static_cast<std::size_t>(m_t.rcentre[q]) + 1];
        }
      }
    }
    for (std::size_t c = 0; c < nc; ++c) m_count[c + 1] += m_count[c];
    m_entries.resize(m_count[nc]);
    m_fill.assign(m_count.begin(), m_count.end() - 1);
    for (const std::int32_t a : m_events) {
      const auto au = static_cast<std::size_t>(a);
      for (std::size_t q = m_t.rstart[au]; q < m_t.rstart[au + 1]; ++q) {
        const auto c = static_cast<std::size_t>(m_t.rcentre[q]);
        m_entries[m_fill[c]++] =
            (static_cast<std::int64_t>(m_t.rpos[q]) << 32) | static_cast<std::int64_t>(a);
      }
    }
    // Centre c + kAhead's bucket is sorted and its prefix rows prefetched while centre c is scanned: the rows
    // are spread over a large table, and the loads would otherwise wait on memory one after another.
    constexpr std::size_t kAhead = 3;
    const auto prepare = [&](std::size_t c) {
      const auto lo = static_cast<std::ptrdiff_t>(m_count[c]);
      const auto hi = static_cast<std::ptrdiff_t>(m_count[c + 1]);
      std::sort(m_entries.begin() + lo, m_entries.begin() + hi);
      for (auto q = lo; q < hi; ++q) {
        const auto k = static_cast<std::size_t>(m_entries[static_cast<std::size_t>(q)] >> 32);
        const double* row = m_t.eprefix.data() + (m_g.start[c] + k) * ww;
        __builtin_prefetch(row);
        __builtin_prefetch(row + ww - 1);
      }
    };
    for (std::size_t c = 0; c < std::min(kAhead, nc); ++c) prepare(c);
    double overall = 0.0;
    for (std::size_t c = 0; c < nc; ++c) {
      if (c + kAhead < nc) prepare(c + kAhead);
      const std::size_t lo = m_count[c];
      const std::size_t hi = m_count[c + 1];
      if (lo == hi) continue;
      CentreBest best;
      double bar = per_centre != nullptr ? 0.0 : overall;
      double cw[kLanes] = {};
      for (std::size_t q = lo; q < hi; ++q) {
        const auto k = static_cast<std::size_t>(m_entries[q] >> 32);
        const auto a = static_cast<std::size_t>(m_entries[q] & 0xffffffff);
        const double* o = obs + a * kLanes;
        const double* e = m_t.eprefix.data() + (m_g.start[c] + k) * ww;
        for (std::size_t w = 0; w < ww; ++w) {
          if (!(o[w] > 0.0)) continue;
          cw[w] += o[w];
          const double d = cw[w] - e[w];
          if (d > 0.0 && cw[w] >= m_min && d * d > 2.0 * e[w] * bar) {
            const double s = SpaceTimeScan::score(cw[w], e[w]);
            if (s > bar) {
              bar = s;
              best = {s, static_cast<int>(k), static_cast<int>(w), cw[w], e[w]};
            }
          }
        }
      }
      if (per_centre != nullptr) (*per_centre)[c] = best;
      overall = std::max(overall, bar);
    }
    return overall;
  }

 private:
  const Geometry& m_g;
  const Tables& m_t;
  double m_min;
  std::vector<std::size_t> m_count;
  std::vector<std::size_t> m_fill;
  std::vector<std::int32_t> m_events;
  std::vector<std::int64_t> m_entries;  ///< position << 32 | cell, bucketed by centre
};

void validate(const ScanInput& in, const ScanOptions& opt) {
  const auto usage = [](const std::string& what) {
    throw Error(ExitCode::Usage, "space-time scan: " + what, true);
  };
  const auto data = [](const std::string& what) {
    throw Error(ExitCode::InputData, "space-time scan: " + what, true);
  };
  if (!(opt.max_radius_m >= 0.0) || !std::isfinite(opt.max_radius_m)) usage("max radius must be >= 0 m");
  if (opt.max_window < 1 || opt.max_window > kLanes) {
    usage("max window must be 1.." + std::to_string(kLanes) + " cycles, got " +
          std::to_string(opt.max_window));
  }
  if (opt.replicates < 0) usage("replicates must be >= 0, got " + std::to_string(opt.replicates));
  if (opt.centre_stride < 1) usage("centre stride must be >= 1, got " + std::to_string(opt.centre_stride));
  if (!(opt.cycle_days > 0.0) || !std::isfinite(opt.cycle_days)) usage("cycle length must be > 0 days");
  if (opt.secondary < 0) usage("secondary cluster count must be >= 0");
  if (in.nx <= 0 || in.ny <= 0) data("grid must have nx, ny > 0");
  if (!(in.cell_m > 0.0) || !std::isfinite(in.cell_m)) data("cell size must be > 0 m");
  const std::size_t n = static_cast<std::size_t>(in.nx) * static_cast<std::size_t>(in.ny);
  if (in.mask.size() != n)
    data("mask has " + std::to_string(in.mask.size()) + " cells, grid " + std::to_string(n));
  if (in.observed.empty()) data("no cycles of observed counts");
  if (in.expected.size() != in.observed.size()) {
    data("observed has " + std::to_string(in.observed.size()) + " cycles, expected " +
         std::to_string(in.expected.size()));
  }
  for (std::size_t t = 0; t < in.observed.size(); ++t) {
    if (in.observed[t].size() != n || in.expected[t].size() != n) {
      data("cycle " + std::to_string(t) + " does not have nx * ny = " + std::to_string(n) + " cells");
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (in.observed[t][k] < 0) data("negative observed count in cycle " + std::to_string(t));
      const double e = in.expected[t][k];
      if (!(e >= 0.0) || !std::isfinite(e))
        data("negative or non-finite expected count in cycle " + std::to_string(t));
    }
  }
}

/// Fills the cluster's p-values and recurrence interval from the replicate maxima.
void significance(ScanCluster& cl, const ScanResult& res, const ScanOptions& opt) {
  const auto r = static_cast<std::int64_t>(res.replicate_maxima.size());
  if (r == 0 || !(cl.score > 0.0)) {
    cl.p_monte_carlo = 1.0;
    cl.p_gumbel = 1.0;
    cl.p_value = 1.0;
  } else {
    std::int64_t exceed = 0;
    for (const double m : res.replicate_maxima) exceed += (m >= cl.score) ? 1 : 0;
    cl.p_monte_carlo = static_cast<double>(1 + exceed) / static_cast<double>(r + 1);
    cl.p_gumbel = SpaceTimeScan::gumbelTail(cl.score, res.gumbel_location, res.gumbel_scale);
    // Fewer than 10 replicates at or above the score: the Monte Carlo p is too coarse, use the Gumbel tail.
    cl.p_value = (exceed < 10 && res.gumbel_scale > 0.0) ? cl.p_gumbel : cl.p_monte_carlo;
  }
  cl.recurrence_days = cl.p_value > 0.0 ? opt.cycle_days / cl.p_value : HUGE_VAL;
}

}  // namespace

double SpaceTimeScan::score(double observed, double expected) noexcept {
  if (!(observed > expected)) return 0.0;
  if (!(expected > 0.0)) return HUGE_VAL;  // events where none were expected
  return observed * std::log(observed / expected) - (observed - expected);
}

double SpaceTimeScan::gumbelTail(double score, double mu, double beta) noexcept {
  if (!(beta > 0.0)) return 1.0;
  return -std::expm1(-std::exp(-(score - mu) / beta));
}

ScanResult SpaceTimeScan::run(MPI_Comm comm, const ScanInput& input, const ScanOptions& options) {
  validate(input, options);
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));

  const Geometry g = buildGeometry(input, options);
  const int total_cycles = static_cast<int>(input.observed.size());
  const int windows = std::min(options.max_window, total_cycles);
  const std::size_t na = g.active.size();

  // Window sums per active cell: lane w = the last w + 1 cycles.
  std::vector<double> expc(na * kLanes, 0.0);
  std::vector<double> obs(na * kLanes, 0.0);
  for (std::size_t a = 0; a < na; ++a) {
    const auto gi = static_cast<std::size_t>(g.active[a]);
    double ce = 0.0;
    double co = 0.0;
    for (int w = 0; w < windows; ++w) {
      const auto t = static_cast<std::size_t>(total_cycles - 1 - w);
      ce += input.expected[t][gi];
      co += static_cast<double>(input.observed[t][gi]);
      expc[a * kLanes + static_cast<std::size_t>(w)] = ce;
      obs[a * kLanes + static_cast<std::size_t>(w)] = co;
    }
  }

  ScanResult res;
  res.centres = static_cast<std::int64_t>(g.centres.size());
  res.zones = static_cast<std::int64_t>(g.members.size()) * windows;

  // Observed scan: each centre's best zone.
  const Tables tables = buildTables(g, expc, windows);
  std::vector<CentreBest> per_centre(g.centres.size());
  {
    Scanner scanner(g, tables, static_cast<double>(std::max<std::int64_t>(1, options.min_observed)));
    (void)scanner.scan(obs.data(), &per_centre);
  }

  // Replicates: rank q draws and scans [R q / P, R (q + 1) / P).
  const std::int64_t reps = options.replicates;
  const std::int64_t first = reps * rank / size;
  const std::int64_t last = reps * (rank + 1) / size;
  std::vector<double> local(static_cast<std::size_t>(last - first), 0.0);
#pragma omp parallel
  {
    std::vector<double> robs(na * kLanes, 0.0);
    Scanner scanner(g, tables, static_cast<double>(std::max<std::int64_t>(1, options.min_observed)));
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t r = first; r < last; ++r) {
      for (std::size_t a = 0; a < na; ++a) {
        const auto gi = static_cast<std::size_t>(g.active[a]);
        double co = 0.0;
        for (int w = 0; w < windows; ++w) {
          const int t = total_cycles - 1 - w;
          const double mean = input.expected[static_cast<std::size_t>(t)][gi];
          if (mean > 0.0) {
            core::RandomStream rs(options.seed, static_cast<std::uint64_t>(g.active[a]),
                                  static_cast<std::uint32_t>(r * total_cycles + t));
            co += static_cast<double>(rs.poisson(mean));
          }
          robs[a * kLanes + static_cast<std::size_t>(w)] = co;
        }
      }
      local[static_cast<std::size_t>(r - first)] = scanner.scan(robs.data(), nullptr);
    }
  }

  // Gather in replicate order (contiguous blocks in rank order).
  std::vector<int> counts(static_cast<std::size_t>(size));
  std::vector<int> displs(static_cast<std::size_t>(size));
  for (int q = 0; q < size; ++q) {
    displs[static_cast<std::size_t>(q)] = static_cast<int>(reps * q / size);
    counts[static_cast<std::size_t>(q)] = static_cast<int>(reps * (q + 1) / size - reps * q / size);
  }
  res.replicate_maxima.assign(static_cast<std::size_t>(reps), 0.0);
  VIGIE_CHECK_MPI(MPI_Allgatherv(local.data(), static_cast<int>(local.size()), MPI_DOUBLE,
                                 res.replicate_maxima.data(), counts.data(), displs.data(), MPI_DOUBLE,
                                 comm));

  // Gumbel fit by moments (fixed-order sums: the same on every rank).
  if (reps >= 2) {
    double mean = 0.0;
    for (const double m : res.replicate_maxima) mean += m;
    mean /= static_cast<double>(reps);
    double var = 0.0;
    for (const double m : res.replicate_maxima) var += (m - mean) * (m - mean);
    var /= static_cast<double>(reps - 1);
    if (var > 0.0) {
      res.gumbel_scale = std::sqrt(6.0 * var) / std::numbers::pi;
      res.gumbel_location = mean - kEulerGamma * res.gumbel_scale;
    }
  }

  // Clusters: centres by decreasing best score (ties: lower centre first); the first is the most likely
  // cluster, then secondary ones sharing no cell with an earlier cluster.
  std::vector<std::size_t> order(g.centres.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return per_centre[x].score > per_centre[y].score; });
  std::vector<std::uint8_t> taken(na, 0);
  const auto makeCluster = [&](std::size_t c) {
    const CentreBest& b = per_centre[c];
    ScanCluster cl;
    const std::int64_t gc = g.active[static_cast<std::size_t>(g.centres[c])];
    cl.centre = gc;
    cl.centre_i = static_cast<int>(gc % input.nx);
    cl.centre_j = static_cast<int>(gc / input.nx);
    cl.cells = b.k + 1;
    cl.window = b.w + 1;
    cl.observed = static_cast<std::int64_t>(std::llround(b.observed));
    cl.expected = b.expected;
    cl.score = b.score;
    const std::size_t last_member = g.start[c] + static_cast<std::size_t>(b.k);
    cl.radius_m = std::sqrt(static_cast<double>(g.member_d2[last_member])) * input.cell_m;
    for (std::size_t m = g.start[c]; m <= last_member; ++m) {
      cl.members.push_back(g.active[static_cast<std::size_t>(g.members[m])]);
    }
    significance(cl, res, options);
    return cl;
  };
  bool have_best = false;
  for (const std::size_t c : order) {
    if (!(per_centre[c].score > 0.0)) break;
    if (have_best && static_cast<int>(res.secondary.size()) >= options.secondary) break;
    bool overlaps = false;
    const std::size_t end = g.start[c] + static_cast<std::size_t>(per_centre[c].k) + 1;
    for (std::size_t m = g.start[c]; m < end && !overlaps; ++m) {
      overlaps = taken[static_cast<std::size_t>(g.members[m])] != 0;
    }
    if (overlaps) continue;
    for (std::size_t m = g.start[c]; m < end; ++m) taken[static_cast<std::size_t>(g.members[m])] = 1;
    if (!have_best) {
      res.best = makeCluster(c);
      have_best = true;
    } else {
      res.secondary.push_back(makeCluster(c));
    }
  }
  if (!have_best) significance(res.best, res, options);
  return res;
}

}  // namespace vigie::verify
