// The expectation-based Poisson space-time scan at 1, 2 and 4 ranks: the score formula on hand cases, a
// cluster injected into counts drawn from a flat forecast is found at its centre and window with p <= 0.01
// (and a second one as a secondary cluster), p-values under the null are not small too often, and the whole
// result (cluster, score, p, every replicate maximum) equals a run on MPI_COMM_SELF exactly. With
// VIGIE_SCAN_TIMING=1 a Vancouver-size scan (about 12,000 active cells, 500 m, 7 cycles, 999 replicates) is
// timed.
#include <gtest/gtest.h>
#include <mpi.h>
#include "../support/MpiTest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "verify/SpaceTimeScan.hpp"

using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::verify::ScanInput;
using vigie::verify::ScanOptions;
using vigie::verify::ScanResult;
using vigie::verify::SpaceTimeScan;

namespace {

using vigie::testing::commRank;

/// An nx x ny grid of 100 m cells, all active, `cycles` cycles with expected(i, j) from `mean` and observed
/// counts drawn from it with streams keyed by `draw_seed` (not the scan's seed).
template <class Mean>
ScanInput nullInput(int nx, int ny, int cycles, Mean mean, std::uint64_t draw_seed) {
  ScanInput in;
  in.nx = nx;
  in.ny = ny;
  in.cell_m = 100.0;
  in.mask.assign(static_cast<std::size_t>(nx * ny), 1);
  for (int t = 0; t < cycles; ++t) {
    std::vector<double> e(static_cast<std::size_t>(nx * ny));
    std::vector<std::int32_t> o(e.size());
    for (int j = 0; j < ny; ++j) {
      for (int i = 0; i < nx; ++i) {
        const std::size_t k = static_cast<std::size_t>(j * nx + i);
        e[k] = mean(i, j);
        vigie::core::RandomStream rs(draw_seed, k, static_cast<std::uint32_t>(t));
        o[k] = static_cast<std::int32_t>(rs.poisson(e[k]));
      }
    }
    in.expected.push_back(std::move(e));
    in.observed.push_back(std::move(o));
  }
  return in;
}

/// Adds `events` events, one per cell, to the cells nearest (ci, cj) in the last cycle.
void inject(ScanInput& in, int ci, int cj, int events) {
  std::vector<std::pair<int, int>> cells;  // (d2, index)
  for (int j = 0; j < in.ny; ++j) {
    for (int i = 0; i < in.nx; ++i) {
      cells.emplace_back((i - ci) * (i - ci) + (j - cj) * (j - cj), j * in.nx + i);
    }
  }
  std::sort(cells.begin(), cells.end());
  for (int n = 0; n < events; ++n)
    in.observed.back()[static_cast<std::size_t>(cells[static_cast<std::size_t>(n)].second)] += 1;
}

void expectSame(const ScanResult& a, const ScanResult& b) {
  EXPECT_EQ(a.best.centre, b.best.centre);
  EXPECT_EQ(a.best.cells, b.best.cells);
  EXPECT_EQ(a.best.window, b.best.window);
  EXPECT_EQ(a.best.observed, b.best.observed);
  EXPECT_EQ(a.best.expected, b.best.expected);
  EXPECT_EQ(a.best.score, b.best.score);
  EXPECT_EQ(a.best.p_value, b.best.p_value);
  EXPECT_EQ(a.best.p_gumbel, b.best.p_gumbel);
  EXPECT_EQ(a.best.members, b.best.members);
  EXPECT_EQ(a.replicate_maxima, b.replicate_maxima);
  EXPECT_EQ(a.gumbel_location, b.gumbel_location);
  EXPECT_EQ(a.gumbel_scale, b.gumbel_scale);
  ASSERT_EQ(a.secondary.size(), b.secondary.size());
  for (std::size_t s = 0; s < a.secondary.size(); ++s) {
    EXPECT_EQ(a.secondary[s].centre, b.secondary[s].centre);
    EXPECT_EQ(a.secondary[s].score, b.secondary[s].score);
    EXPECT_EQ(a.secondary[s].p_value, b.secondary[s].p_value);
  }
}

}  // namespace

TEST(SpaceTimeScan, ScoreOnHandCases) {
  EXPECT_NEAR(SpaceTimeScan::score(5.0, 2.0), 5.0 * std::log(2.5) - 3.0, 1e-14);
  EXPECT_NEAR(SpaceTimeScan::score(5.0, 2.0), 1.5814536593707755, 1e-12);
  EXPECT_EQ(SpaceTimeScan::score(2.0, 5.0), 0.0);
  EXPECT_EQ(SpaceTimeScan::score(3.0, 3.0), 0.0);
  EXPECT_TRUE(std::isinf(SpaceTimeScan::score(1.0, 0.0)));
  EXPECT_NEAR(SpaceTimeScan::gumbelTail(3.0, 1.0, 0.5), 1.0 - std::exp(-std::exp(-4.0)), 1e-15);
  EXPECT_EQ(SpaceTimeScan::gumbelTail(3.0, 1.0, 0.0), 1.0);

  // A 3 x 1 strip of 100 m cells, two cycles, expected 0.5 everywhere; counts (cycle 0 / cycle 1) per cell:
  // (0/1), (2/3), (0/0), all active, radius 100 m.
  // Zones around cell 1 (order: 1, then 0, then 2): window 1: C = 3, E = 0.5 -> 3 ln 6 - 2.5 = 2.875278;
  // window 2: C = 5, E = 1 -> 5 ln 5 - 4 = 4.047190; two cells window 2: C = 6, E = 2 -> 6 ln 3 - 4
  // = 2.591674.
  ScanInput in;
  in.nx = 3;
  in.ny = 1;
  in.cell_m = 100.0;
  in.mask = {1, 1, 1};
  in.observed = {{0, 2, 0}, {1, 3, 0}};
  in.expected = {{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}};
  ScanOptions opt;
  opt.max_radius_m = 100.0;
  opt.max_window = 2;
  opt.replicates = 0;
  const ScanResult r = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  EXPECT_EQ(r.best.centre, 1);
  EXPECT_EQ(r.best.cells, 1);
  EXPECT_EQ(r.best.window, 2);
  EXPECT_EQ(r.best.observed, 5);
  EXPECT_DOUBLE_EQ(r.best.expected, 1.0);
  EXPECT_NEAR(r.best.score, 5.0 * std::log(5.0) - 4.0, 1e-12);
  EXPECT_EQ(r.best.radius_m, 0.0);
  EXPECT_EQ(r.centres, 3);
  // Circles: centre 0 -> {0, 1}, centre 1 -> {1, 0, 2}, centre 2 -> {2, 1}: 7 prefixes x 2 windows.
  EXPECT_EQ(r.zones, 14);
  EXPECT_EQ(r.best.p_value, 1.0);  // no replicates

  // Masking the middle cell leaves cells 0 and 2 (200 m apart: one-cell circles): the best is cell 0 in
  // window 1, C = 1, E = 0.5 -> ln 2 - 0.5 (window 2 has C = E = 1: score 0).
  in.mask = {1, 0, 1};
  const ScanResult m = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  EXPECT_EQ(m.best.centre, 0);
  EXPECT_EQ(m.best.window, 1);
  EXPECT_NEAR(m.best.score, std::log(2.0) - 0.5, 1e-14);
  EXPECT_EQ(m.zones, 4);
  // With no events at all there is no zone with C > E.
  in.observed = {{0, 0, 0}, {0, 0, 0}};
  const ScanResult none = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  EXPECT_EQ(none.best.centre, -1);
  EXPECT_EQ(none.best.score, 0.0);
}

TEST(SpaceTimeScan, InjectedClusterIsFoundAndSignificant) {
  const auto flat = [](int, int) { return 0.01; };
  ScanInput in = nullInput(60, 60, 7, flat, 424242);
  inject(in, 30, 25, 15);  // 15 events within 300 m of cell (30, 25), last cycle
  inject(in, 10, 48, 8);   // a weaker one far away, for the secondary cluster
  ScanOptions opt;
  opt.max_radius_m = 300.0;
  opt.max_window = 7;
  opt.replicates = 999;
  opt.seed = 17;
  opt.secondary = 2;
  const double t0 = MPI_Wtime();
  const ScanResult r = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  const double t1 = MPI_Wtime();
  EXPECT_EQ(r.best.centre_i, 30);
  EXPECT_EQ(r.best.centre_j, 25);
  EXPECT_EQ(r.best.window, 1);
  EXPECT_GE(r.best.observed, 15);
  EXPECT_LE(r.best.radius_m, 300.0);
  EXPECT_LE(r.best.p_value, 0.01);
  EXPECT_LE(r.best.p_monte_carlo, 0.002);  // no replicate reaches it: 1 / 1000
  EXPECT_GT(r.best.recurrence_days, 100.0);
  ASSERT_EQ(r.replicate_maxima.size(), 999u);
  ASSERT_GE(r.secondary.size(), 1u);
  EXPECT_LE(std::abs(r.secondary[0].centre_i - 10), 1);
  EXPECT_LE(std::abs(r.secondary[0].centre_j - 48), 1);
  EXPECT_EQ(r.secondary[0].window, 1);
  for (const auto& s : r.secondary) {
    for (const auto g : s.members) {
      for (const auto h : r.best.members) EXPECT_NE(g, h);
    }
  }
  if (commRank() == 0) {
    std::cout << "injected: centre (" << r.best.centre_i << ", " << r.best.centre_j << ") radius "
              << r.best.radius_m << " window " << r.best.window << " C " << r.best.observed << " E "
              << r.best.expected << " score " << r.best.score << " p_mc " << r.best.p_monte_carlo
              << " p_gumbel " << r.best.p_gumbel << " p " << r.best.p_value << " RI "
              << r.best.recurrence_days << " d; secondary (" << r.secondary[0].centre_i << ", "
              << r.secondary[0].centre_j << ") score " << r.secondary[0].score << " p "
              << r.secondary[0].p_value << "; " << r.zones << " zones, scan " << (t1 - t0) << " s\n";
  }

  // Identical on MPI_COMM_SELF (one rank does every replicate).
  const ScanResult self = SpaceTimeScan::run(MPI_COMM_SELF, in, opt);
  expectSame(r, self);
}

TEST(SpaceTimeScan, NullPValuesAreCalibrated) {
  // A non-flat forecast (a gradient from 0.005 to 0.05 per cell and cycle) and counts drawn from it.
  const auto ramp = [](int i, int j) { return 0.005 + 0.045 * (i + j) / 78.0; };
  int small = 0;
  int below_half = 0;
  std::vector<double> ps;
  for (int s = 0; s < 40; ++s) {
    const ScanInput in = nullInput(40, 40, 3, ramp, 1000 + static_cast<std::uint64_t>(s));
    ScanOptions opt;
    opt.max_radius_m = 300.0;
    opt.max_window = 3;
    opt.replicates = 199;
    opt.seed = 77 + static_cast<std::uint64_t>(s);
    const ScanResult r = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
    ps.push_back(r.best.p_value);
    small += r.best.p_value < 0.05 ? 1 : 0;
    below_half += r.best.p_value < 0.5 ? 1 : 0;
  }
  if (commRank() == 0) {
    std::cout << "null p-values:";
    for (const double p : ps) std::cout << ' ' << p;
    std::cout << "\n" << small << " of 40 below 0.05, " << below_half << " below 0.5\n";
  }
  EXPECT_LT(small, 6);
  EXPECT_GE(below_half, 8);  // not degenerate: p-values spread over (0, 1)
}

TEST(SpaceTimeScan, RankInvariantWithMaskAndStride) {
  // A mask with holes, a forecast that varies and a centre stride; results equal a run on MPI_COMM_SELF.
  const auto wavy = [](int i, int j) { return 0.02 + 0.015 * std::sin(0.3 * i) * std::cos(0.2 * j); };
  ScanInput in = nullInput(35, 28, 5, wavy, 99);
  for (std::size_t k = 0; k < in.mask.size(); ++k) in.mask[k] = (k % 7 == 3 || k % 11 == 5) ? 0 : 1;
  inject(in, 12, 14, 6);
  ScanOptions opt;
  opt.max_radius_m = 250.0;
  opt.max_window = 4;
  opt.replicates = 101;  // not a multiple of 2 or 4: uneven blocks
  opt.seed = 5;
  opt.centre_stride = 2;
  opt.secondary = 3;
  const ScanResult world = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  const ScanResult self = SpaceTimeScan::run(MPI_COMM_SELF, in, opt);
  expectSame(world, self);
  EXPECT_GT(world.best.score, 0.0);
  // Different replicates differ (the streams depend on the replicate id).
  EXPECT_NE(world.replicate_maxima[0], world.replicate_maxima[1]);
  // Another seed gives other replicates.
  opt.seed = 6;
  const ScanResult other = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  EXPECT_NE(other.replicate_maxima, world.replicate_maxima);
  EXPECT_EQ(other.best.score, world.best.score);
}

TEST(SpaceTimeScan, BadInputsAreErrors) {
  ScanInput in = nullInput(
      5, 5, 2, [](int, int) { return 0.1; }, 1);
  ScanOptions opt;
  opt.replicates = 3;
  opt.max_window = 0;
  try {
    (void)SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
    FAIL() << "max window 0 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
  }
  opt.max_window = 2;
  in.expected[1].pop_back();
  try {
    (void)SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
    FAIL() << "short cycle accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InputData);
  }
}

TEST(SpaceTimeScan, VancouverSizeTiming) {
  if (std::getenv("VIGIE_SCAN_TIMING") == nullptr) GTEST_SKIP() << "set VIGIE_SCAN_TIMING=1 to time";
  // 130 x 130 cells of 100 m, the active ones a disc of radius 62 cells (about 12,000), forecast 0.002..0.03.
  const auto mean = [](int i, int j) { return 0.002 + 0.028 * (0.5 + 0.5 * std::sin(0.11 * i + 0.07 * j)); };
  ScanInput in = nullInput(130, 130, 7, mean, 2023);
  int active = 0;
  for (int j = 0; j < 130; ++j) {
    for (int i = 0; i < 130; ++i) {
      const bool in_disc = (i - 65) * (i - 65) + (j - 65) * (j - 65) <= 62 * 62;
      in.mask[static_cast<std::size_t>(j * 130 + i)] = in_disc ? 1 : 0;
      active += in_disc ? 1 : 0;
    }
  }
  ScanOptions opt;
  opt.max_radius_m = 500.0;
  opt.max_window = 7;
  opt.replicates = 999;
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  const ScanResult r = SpaceTimeScan::run(MPI_COMM_WORLD, in, opt);
  const double t1 = MPI_Wtime();
  if (commRank() == 0) {
    std::cout << "timing: " << active << " active cells, " << r.centres << " centres, " << r.zones
              << " cylinders, 999 replicates: " << (t1 - t0) << " s; best score " << r.best.score << " p "
              << r.best.p_value << "\n";
  }
  EXPECT_EQ(r.replicate_maxima.size(), 999u);
}
