// The LETKF ensemble analysis (assim::analyse) at 1, 2 and 4 ranks: an identical-twin experiment on a
// drifting smooth log-intensity field (the analysis error must fall below 0.7 of the free-run error) and
// analysed fields identical to a one-rank run of the same experiment, through both halo paths (DMDA halo,
// whole-grid gather).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "../support/GatherField.hpp"
#include "assim/EnsembleFilter.hpp"
#include "core/Rng.hpp"
#include "grid/CityGrid.hpp"
#include "grid/Field.hpp"

namespace {

using vigie::assim::AnalysisSummary;
using vigie::assim::FilterSettings;
using vigie::core::RandomStream;
using vigie::grid::CityGrid;
using vigie::grid::Field;
using vigie::grid::GridSpec;

constexpr int kN = 40;          // 40 x 40 cells of 100 m
constexpr int kMembers = 20;    // ensemble size
constexpr double kMu = 0.6931;  // log(2): two events per cell and cycle on average
constexpr double kSd = 0.6;     // stationary standard deviation of the log-intensity
constexpr double kPhi = 0.9;    // AR(1) coefficient per cycle

GridSpec spec(vigie::grid::Boundary boundary) {
  GridSpec s;
  s.boundary = boundary;
  s.cell = 100.0;
  s.nx = kN;
  s.ny = kN;
  return s;
}

/// Collective. A smooth standard normal field: white noise from RandomStream(seed, cell id, step), three
/// passes of a 3 x 3 box average through the Field ghosts, rescaled to unit variance (interior cells).
std::vector<double> smoothNoise(const CityGrid& g, std::uint64_t seed, std::uint32_t step) {
  const auto idx = g.ownedGlobalIndices();
  std::vector<double> v(idx.size());
  for (std::size_t c = 0; c < idx.size(); ++c)
    v[c] = RandomStream(seed, static_cast<std::uint64_t>(idx[c]), step).normal();
  Field f(g, "noise");
  const auto& b = g.ownedBox();
  for (int pass = 0; pass < 3; ++pass) {
    f.setOwned(v);
    f.updateGhosts();
    std::size_t c = 0;
    for (int j = b.j0; j < b.j0 + b.nj; ++j)
      for (int i = b.i0; i < b.i0 + b.ni; ++i, ++c) {
        double s = 0.0;
        for (int dj = -1; dj <= 1; ++dj)
          for (int di = -1; di <= 1; ++di) s += f.ghostedUnchecked(i + di, j + dj);
        v[c] = s / 9.0;
      }
  }
  // One pass in 1-D has weights (1, 1, 1) / 3; three passes give (1 3 6 7 6 3 1) / 27, sum of squares 141 /
  // 729; in 2-D the standard deviation is therefore 141 / 729.
  for (auto& x : v) x *= 729.0 / 141.0;
  return v;
}

/// x <- mu + phi (x - mu) + sd sqrt(1 - phi^2) eta, eta a smooth noise field.
void step(const CityGrid& g, std::vector<double>& x, std::uint64_t seed, std::uint32_t t) {
  const auto eta = smoothNoise(g, seed, t);
  const double q = kSd * std::sqrt(1.0 - kPhi * kPhi);
  for (std::size_t c = 0; c < x.size(); ++c) x[c] = kMu + kPhi * (x[c] - kMu) + q * eta[c];
}

struct Twin {
  double free_rmse = 0.0;      ///< RMSE of the free ensemble mean, active cells, last 10 cycles
  double analysis_rmse = 0.0;  ///< the same for the analysed ensemble
  double free_spread = 0.0;    ///< mean ensemble standard deviation, last 10 cycles
  double analysis_spread = 0.0;
  std::vector<double> analysed;  ///< every analysed member, whole grid, every cycle
  AnalysisSummary summary;
};

/// Collective on `comm`. The identical-twin experiment.
Twin runTwin(MPI_Comm comm, int cycles, const FilterSettings& settings,
             vigie::grid::Boundary boundary = vigie::grid::Boundary::ZeroFlux) {
  CityGrid g(comm, spec(boundary));
  // The south-west corner (i + j < 12) is outside the study area: no observations, no analysis there.
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(kN) * kN, 1);
  for (int j = 0; j < kN; ++j)
    for (int i = 0; i < kN; ++i)
      if (i + j < 12) mask[static_cast<std::size_t>(j) * kN + static_cast<std::size_t>(i)] = 0;
  g.setMask(mask);
  const auto idx = g.ownedGlobalIndices();
  const std::size_t n = idx.size();

  constexpr std::uint64_t kTruthSeed = 101, kObsSeed = 202, kEnsSeed = 1000;
  auto truth = smoothNoise(g, kTruthSeed, 0);
  for (auto& x : truth) x = kMu + kSd * x;
  std::vector<std::vector<double>> free(kMembers), ana;
  for (int k = 0; k < kMembers; ++k) {
    free[static_cast<std::size_t>(k)] = smoothNoise(g, kEnsSeed + static_cast<std::uint64_t>(k), 0);
    for (auto& x : free[static_cast<std::size_t>(k)]) x = kMu + kSd * x;
  }
  ana = free;

  Twin out;
  int scored = 0;
  const auto meanRmseSpread = [&](const std::vector<std::vector<double>>& ens,
                                  const std::vector<double>& wt) {
    std::vector<double> mean(n, 0.0), var(n, 0.0);
    for (std::size_t c = 0; c < n; ++c) {
      for (const auto& m : ens) mean[c] += m[c];
      mean[c] /= kMembers;
      for (const auto& m : ens) var[c] += (m[c] - mean[c]) * (m[c] - mean[c]);
      var[c] /= kMembers - 1;
    }
    const auto gm = vigie::testing::gatherGlobal(g, mean);
    const auto gv = vigie::testing::gatherGlobal(g, var);
    const auto gt = vigie::testing::gatherGlobal(g, wt);
    double se = 0.0, sp = 0.0;
    int active = 0;
    for (std::size_t c = 0; c < gm.size(); ++c) {
      if (mask[c] == 0) continue;
      se += (gm[c] - gt[c]) * (gm[c] - gt[c]);
      sp += std::sqrt(gv[c]);
      ++active;
    }
    return std::pair{std::sqrt(se / active), sp / active};
  };

  for (int t = 1; t <= cycles; ++t) {
    const auto ut = static_cast<std::uint32_t>(t);
    step(g, truth, kTruthSeed, ut);
    for (int k = 0; k < kMembers; ++k) {
      // Free and analysed members share their model noise: the runs differ only by the analyses.
      step(g, free[static_cast<std::size_t>(k)], kEnsSeed + static_cast<std::uint64_t>(k), ut);
      step(g, ana[static_cast<std::size_t>(k)], kEnsSeed + static_cast<std::uint64_t>(k), ut);
    }
    std::vector<double> counts(n);
    for (std::size_t c = 0; c < n; ++c)
      counts[c] = static_cast<double>(RandomStream(kObsSeed, static_cast<std::uint64_t>(idx[c]), ut)
                                          .poisson(std::exp(truth[c]) * settings.cycle_length));
    out.summary = vigie::assim::analyse(g, ana, counts, settings);
    for (const auto& m : ana) {
      const auto gm = vigie::testing::gatherGlobal(g, m);
      out.analysed.insert(out.analysed.end(), gm.begin(), gm.end());
    }
    if (t > cycles - 10) {
      const auto [fr, fs] = meanRmseSpread(free, truth);
      const auto [ar, as] = meanRmseSpread(ana, truth);
      out.free_rmse += fr;
      out.free_spread += fs;
      out.analysis_rmse += ar;
      out.analysis_spread += as;
      ++scored;
    }
  }
  out.free_rmse /= scored;
  out.free_spread /= scored;
  out.analysis_rmse /= scored;
  out.analysis_spread /= scored;
  return out;
}

/// Collective. Largest difference between `twin` and the same experiment run on one rank (rank 0 runs it).
double differenceFromOneRank(const Twin& twin, int cycles, const FilterSettings& settings,
                             vigie::grid::Boundary boundary = vigie::grid::Boundary::ZeroFlux) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  double diff = 0.0;
  if (rank == 0) {
    const Twin serial = runTwin(MPI_COMM_SELF, cycles, settings, boundary);
    if (serial.analysed.size() != twin.analysed.size()) {
      diff = 1e300;
    } else {
      for (std::size_t k = 0; k < serial.analysed.size(); ++k)
        diff = std::max(diff, std::abs(serial.analysed[k] - twin.analysed[k]));
    }
  }
  MPI_Bcast(&diff, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0) std::printf("[twin] largest difference from the one-rank run: %.3g\n", diff);
  return diff;
}

TEST(EnsembleFilter, TaperAndTransform) {
  EXPECT_DOUBLE_EQ(vigie::assim::gaspariCohn(0.0, 500.0), 1.0);
  EXPECT_EQ(vigie::assim::gaspariCohn(500.0, 500.0), 0.0);
  EXPECT_EQ(vigie::assim::gaspariCohn(800.0, 500.0), 0.0);
  EXPECT_NEAR(vigie::assim::gaspariCohn(250.0, 500.0), 5.0 / 24.0, 1e-12);  // GC(z = 1) = 5/24
  EXPECT_NEAR(vigie::assim::gaspariCohn(250.0 - 1e-9, 500.0), vigie::assim::gaspariCohn(250.0 + 1e-9, 500.0),
              1e-8);
  double prev = 1.0;
  for (double d = 10.0; d < 500.0; d += 10.0) {
    const double v = vigie::assim::gaspariCohn(d, 500.0);
    EXPECT_LT(v, prev) << "d = " << d;
    EXPECT_GT(v, 0.0);
    prev = v;
  }
  EXPECT_DOUBLE_EQ(vigie::assim::anscombe(0.0), 2.0 * std::sqrt(0.375));
}

TEST(EnsembleFilter, IdenticalTwinBeatsFreeRunAtAnyRankCount) {
  FilterSettings s;
  s.localisation_radius = 500.0;
  s.inflation = 1.05;
  s.cycle_length = 1.0;
  constexpr int kCycles = 30;
  const Twin twin = runTwin(MPI_COMM_WORLD, kCycles, s);
  const double ratio = twin.analysis_rmse / twin.free_rmse;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    std::printf(
        "[twin] free RMSE %.4f (spread %.4f), analysis RMSE %.4f (spread %.4f), ratio %.4f, halo %d%s\n",
        twin.free_rmse, twin.free_spread, twin.analysis_rmse, twin.analysis_spread, ratio,
        twin.summary.halo_width, twin.summary.whole_grid_gather ? " (whole-grid gather)" : "");
  EXPECT_GT(twin.free_rmse, 0.3);  // the free run has really drifted away from the truth
  EXPECT_LT(ratio, 0.7);
  EXPECT_EQ(twin.summary.observations, 1600 - 78);  // active cells: i + j >= 12
  EXPECT_EQ(twin.summary.halo_width, 5);
  EXPECT_LE(differenceFromOneRank(twin, kCycles, s), 1e-10);
}

TEST(EnsembleFilter, WideRadiusSameResultThroughEitherHaloPath) {
  // 2500 m = 25 cells: one rank (40 cells wide) uses the DMDA halo, 2 and 4 ranks (20-cell boxes) the
  // whole-grid gather; both must give the one-rank result.
  FilterSettings s;
  s.localisation_radius = 2500.0;
  s.inflation = 1.1;
  constexpr int kCycles = 3;
  const Twin twin = runTwin(MPI_COMM_WORLD, kCycles, s);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(twin.summary.halo_width, 25);
  EXPECT_EQ(twin.summary.whole_grid_gather, size > 1);
  EXPECT_LE(differenceFromOneRank(twin, kCycles, s), 1e-10);
}

TEST(EnsembleFilter, PeriodicGridSameResultAtAnyRankCount) {
  // Periodic halo: windows wrap across the grid edge; still the one-rank result, and still better than free.
  FilterSettings s;
  s.localisation_radius = 500.0;
  s.inflation = 1.05;
  constexpr int kCycles = 5;
  const Twin twin = runTwin(MPI_COMM_WORLD, kCycles, s, vigie::grid::Boundary::Periodic);
  EXPECT_FALSE(twin.summary.whole_grid_gather);
  EXPECT_LT(twin.analysis_rmse, twin.free_rmse);
  EXPECT_LE(differenceFromOneRank(twin, kCycles, s, vigie::grid::Boundary::Periodic), 1e-10);
}

}  // namespace
