// The SEPP numeric core at 1, 2 and 4 ranks: the discrete kernel, the excitation recursion against a pair
// sum, EM monotonicity, parameter recovery on simulated data (5 seeds and the Mohler et al. 2011 appendix
// case), and agreement with a one-rank fit of the same data on MPI_COMM_SELF.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "models/sepp/SeppFit.hpp"
#include "models/sepp/SeppKernel.hpp"
#include "models/sepp/SeppSimulator.hpp"

namespace {

using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using namespace vigie::models::sepp;

GridSpec lattice(int nx, int ny, double cell, double x0 = 0.0, double y0 = 0.0) {
  GridSpec s;
  s.nx = nx;
  s.ny = ny;
  s.cell = cell;
  s.x0 = x0;
  s.y0 = y0;
  return s;
}

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

std::vector<double> regularEdges(double days, double bin) {
  std::vector<double> e;
  const int n = static_cast<int>(std::lround(days / bin));
  for (int k = 0; k <= n; ++k) e.push_back(k * bin);
  return e;
}

/// A simulated data set: truth, counts on the grid's owned cells and the fit input.
struct Case {
  SeppTruth truth;
  std::vector<SeppEvent> events;
  SeppData data;
};

/// theta, omega, sigma with a weekend dummy (temporal) and a nightlife dummy (spatial).
Case covariateCase(const CityGrid& g, std::uint64_t seed, double days, double bin, double mu0,
                   SeppParams truth_params) {
  Case cs;
  auto& tr = cs.truth;
  tr.params = truth_params;
  tr.sigma_x_m = tr.sigma_y_m = truth_params.sigma_m;
  tr.edges = regularEdges(days, bin);
  const auto nt = tr.edges.size() - 1;
  const auto cells = static_cast<std::size_t>(g.nx()) * static_cast<std::size_t>(g.ny());
  tr.temporal_count = 1;
  for (std::size_t t = 0; t < nt; ++t)
    tr.temporal.push_back(static_cast<int>(tr.edges[t]) % 7 >= 5 ? 1.0 : 0.0);
  tr.mu.assign(cells, mu0);
  for (std::size_t c = 0; c < cells; ++c) tr.spatial.push_back((c * 2654435761u) % 5 == 0 ? 1.0 : 0.0);
  const SeppSimulator sim(g, tr);
  cs.events = sim.simulate(seed);
  cs.data.edges = tr.edges;
  cs.data.counts = sim.binOwned(cs.events, tr.edges);
  cs.data.temporal_names = {"weekend"};
  cs.data.temporal = tr.temporal;
  cs.data.spatial_names = {"nightlife"};
  const auto idx = g.ownedGlobalIndices();
  for (const auto gi : idx) cs.data.spatial.push_back(tr.spatial[static_cast<std::size_t>(gi)]);
  return cs;
}

TEST(SeppKernel, MassSymmetryIdentityAndMoments) {
  for (const double s : {0.3, 1.0, 2.0, 3.7}) {
    const SeppKernel k(s * 100.0, 100.0);
    double sum = 0.0, m2 = 0.0;
    for (int d = -k.radius(); d <= k.radius(); ++d) {
      EXPECT_EQ(k.at(d), k.at(-d));
      EXPECT_GE(k.at(d), 0.0);
      sum += k.at(d);
      m2 += d * d * k.at(d);
    }
    EXPECT_LE(sum, 1.0 + 1e-12);
    EXPECT_GT(sum, 1.0 - 1e-4) << "s=" << s;
    // Sheppard: E[d^2] = s^2 + 1/12 (parent in its cell) + 1/12 (offspring's cell centre); exact for s >= 1.
    if (s >= 1.0) {
      EXPECT_NEAR(m2, s * s + 1.0 / 6.0, 1e-3 * (s * s + 1.0 / 6.0)) << "s=" << s;
    }
    // Untruncated mass is 1.
    double full = 0.0;
    for (int d = -60; d <= 60; ++d) full += SeppKernel::weight(d, s);
    EXPECT_NEAR(full, 1.0, 1e-12);
  }
  const SeppKernel id(0.0, 100.0);
  EXPECT_EQ(id.radius(), 0);
  EXPECT_EQ(id.at(0), 1.0);
  EXPECT_EQ(id.at(1), 0.0);
  EXPECT_THROW(SeppKernel(-1.0, 100.0), vigie::core::Error);
}

TEST(SeppFit, ExcitationRecursionMatchesPairSum) {
  const CityGrid g(MPI_COMM_WORLD, lattice(7, 6, 100.0));
  SeppData d;
  d.edges = {0.0, 0.5, 1.7, 2.0, 3.1, 4.5, 6.0};
  d.missing = {0, 0, 1, 0, 0, 0};
  const auto nt = d.edges.size() - 1;
  const auto idx = g.ownedGlobalIndices();
  const auto owned = idx.size();
  const auto countAt = [](std::size_t t, std::int64_t gi) {
    return static_cast<std::int32_t>((gi * 7 + static_cast<std::int64_t>(t) * 3) % 5 == 0 ? 1 + (gi + t) % 3
                                                                                          : 0);
  };
  for (std::size_t t = 0; t < nt; ++t)
    for (const auto gi : idx) d.counts.push_back(d.missing[t] ? 0 : countAt(t, gi));
  const SeppFit fit(g, d);
  SeppParams p;
  p.theta = 0.4;
  p.omega = 0.7;
  p.sigma_m = 90.0;
  const auto states = fit.excitationStates(p);
  const SeppKernel k(p.sigma_m, 100.0);
  for (std::size_t t = 0; t <= nt; ++t)
    for (std::size_t c = 0; c < owned; ++c) {
      const int i = static_cast<int>(idx[c] % 7), j = static_cast<int>(idx[c] / 7);
      double s = 0.0;
      for (std::size_t tp = 0; tp < t; ++tp) {
        if (d.missing[tp]) continue;
        const double m = 0.5 * (d.edges[tp] + d.edges[tp + 1]);
        for (int jj = 0; jj < 6; ++jj)
          for (int ii = 0; ii < 7; ++ii)
            s += std::exp(-p.omega * (d.edges[t] - m)) * k.at(i - ii) * k.at(j - jj) *
                 countAt(tp, jj * 7 + ii);
      }
      EXPECT_NEAR(states[t * owned + c], s, 1e-12 * (1.0 + s)) << "t=" << t << " cell " << idx[c];
    }
}

/// A small case for monotonicity and rank invariance: per-cell mu, one temporal covariate.
Case smallCase(const CityGrid& g) {
  SeppParams tp;
  tp.theta = 0.5;
  tp.omega = 0.5;
  tp.sigma_m = 150.0;
  tp.beta = {0.4, 0.0};
  auto cs = covariateCase(g, 11, 40.0, 1.0 / 6.0, 0.03, tp);
  cs.data.spatial_names.clear();
  cs.data.spatial.clear();
  cs.truth.params.beta = {0.4};
  return cs;
}

SeppFitOptions smallOptions() {
  SeppFitOptions o;
  o.initial.theta = 0.3;
  o.initial.omega = 1.0;
  o.initial.sigma_m = 100.0;
  o.max_iter = 60;
  o.tol = 1e-9;
  return o;
}

TEST(SeppFit, EmIsMonotoneAndBeatsTheTruth) {
  const CityGrid g(MPI_COMM_WORLD, lattice(24, 20, 100.0));
  const auto cs = smallCase(g);
  const SeppFit fit(g, cs.data);
  ASSERT_GT(fit.eventCount(), 500);
  const auto res = fit.fit(smallOptions());
  for (std::size_t k = 1; k < res.log_likelihood.size(); ++k)
    EXPECT_GE(res.log_likelihood[k], res.log_likelihood[k - 1] - 1e-9 * std::fabs(res.log_likelihood[k - 1]))
        << "iteration " << k;
  std::vector<double> mu_true(g.ownedMask().size(), 0.03);
  const double ll_truth = fit.logLikelihood(cs.truth.params, mu_true);
  EXPECT_GE(res.log_likelihood.back(), ll_truth);
  EXPECT_NEAR(fit.logLikelihood(res.params, res.mu), res.log_likelihood.back(),
              1e-10 * std::fabs(res.log_likelihood.back()));
  EXPECT_GT(res.ks_p_value, 0.0);
  EXPECT_LE(res.ks_p_value, 1.0);
  if (rank() == 0)
    std::printf(
        "[sepp] small: %lld events, %d iterations, LL %.3f (truth %.3f), theta %.4f omega %.4f sigma %.2f "
        "beta %.4f +- %.4f, KS D %.4f p %.3f\n",
        static_cast<long long>(res.events), res.iterations, res.log_likelihood.back(), ll_truth,
        res.params.theta, res.params.omega, res.params.sigma_m, res.params.beta[0], res.beta_se[0],
        res.ks_statistic, res.ks_p_value);
}

TEST(SeppFit, SameEstimatesAsOneRankFit) {
  const CityGrid g(MPI_COMM_WORLD, lattice(24, 20, 100.0));
  const CityGrid self(MPI_COMM_SELF, lattice(24, 20, 100.0));
  auto o = smallOptions();
  o.max_iter = 15;
  const auto a = SeppFit(g, smallCase(g).data).fit(o);
  const auto b = SeppFit(self, smallCase(self).data).fit(o);
  ASSERT_EQ(a.log_likelihood.size(), b.log_likelihood.size());
  const auto rel = [](double x, double y) { return std::fabs(x - y) / std::max(1e-300, std::fabs(y)); };
  for (std::size_t k = 0; k < a.log_likelihood.size(); ++k)
    EXPECT_LE(rel(a.log_likelihood[k], b.log_likelihood[k]), 1e-10);
  EXPECT_LE(rel(a.params.theta, b.params.theta), 1e-10);
  EXPECT_LE(rel(a.params.omega, b.params.omega), 1e-10);
  EXPECT_LE(rel(a.params.sigma_m, b.params.sigma_m), 1e-10);
  EXPECT_LE(rel(a.params.beta[0], b.params.beta[0]), 1e-10);
  EXPECT_LE(rel(a.beta_se[0], b.beta_se[0]), 1e-10);
  EXPECT_LE(std::fabs(a.ks_statistic - b.ks_statistic), 1e-10);
  // Owned mu against the same cells of the one-rank fit.
  const auto idx = g.ownedGlobalIndices();
  for (std::size_t c = 0; c < idx.size(); ++c)
    EXPECT_LE(std::fabs(a.mu[c] - b.mu[static_cast<std::size_t>(idx[c])]),
              1e-10 * (1e-12 + b.mu[static_cast<std::size_t>(idx[c])]));
}

TEST(SeppFit, RecoversParametersOverFiveSeeds) {
  const CityGrid g(MPI_COMM_WORLD, lattice(64, 64, 100.0));
  SeppParams tp;
  tp.theta = 0.5;
  tp.omega = 0.2;
  tp.sigma_m = 120.0;
  tp.beta = {0.4, 0.6};
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto cs = covariateCase(g, seed, 300.0, 1.0 / 6.0, 0.00307, tp);
    const SeppFit fit(g, cs.data);
    SeppFitOptions o;
    o.initial.theta = 0.3;
    o.initial.omega = 0.5;
    o.initial.sigma_m = 100.0;
    o.mu_bandwidth_m = 2000.0;
    o.max_iter = 1000;
    o.tol = 1e-9;
    const auto res = fit.fit(o);
    const auto& e = res.params;
    if (rank() == 0)
      std::printf(
          "[sepp] seed %llu: %lld events, %d it, theta %.4f omega %.4f sigma %.1f beta_t %.3f +- %.3f "
          "beta_s %.3f +- %.3f KS p %.3f\n",
          static_cast<unsigned long long>(seed), static_cast<long long>(res.events), res.iterations, e.theta,
          e.omega, e.sigma_m, e.beta[0], res.beta_se[0], e.beta[1], res.beta_se[1], res.ks_p_value);
    EXPECT_GT(res.events, 8000);
    EXPECT_NEAR(e.theta, tp.theta, 0.1 * tp.theta) << "seed " << seed;
    EXPECT_NEAR(e.omega, tp.omega, 0.1 * tp.omega) << "seed " << seed;
    EXPECT_NEAR(e.sigma_m, tp.sigma_m, 0.1 * tp.sigma_m) << "seed " << seed;
    EXPECT_NEAR(e.beta[0], tp.beta[0], 2.0 * res.beta_se[0]) << "seed " << seed;
    EXPECT_NEAR(e.beta[1], tp.beta[1], 2.0 * res.beta_se[1]) << "seed " << seed;
  }
}

// Mohler et al. (2011) appendix: background 5.71 events per day, Gaussian in space with SD 4.5 units;
// trigger theta = 0.2, 1/omega = 10 days, sx = 0.01, sy = 0.1 units. Scale: 1 unit = 1 km, so the background
// SD is 4.5 km and the trigger SDs 10 m and 100 m; 500 m cells (64 x 64 around the centre, +-16 km = 3.6 SD),
// half-day bins over 1000 days. The trigger is anisotropic and smaller than a cell: the fit uses the
// isotropic kernel with sigma free (it settles near the cell-scale spread) and a 1 km background smoother.
TEST(SeppFit, MohlerAppendixCase) {
  const double cell = 250.0;
  const CityGrid g(MPI_COMM_WORLD, lattice(128, 128, cell, -16000.0, -16000.0));
  SeppTruth tr;
  tr.params.theta = 0.2;
  tr.params.omega = 0.1;
  tr.sigma_x_m = 10.0;
  tr.sigma_y_m = 100.0;
  tr.edges = regularEdges(1000.0, 0.5);
  const double sd = 4500.0;
  const auto mass = [&](double a, double b) {
    return 0.5 * (std::erf(b / (sd * std::sqrt(2.0))) - std::erf(a / (sd * std::sqrt(2.0))));
  };
  for (int j = 0; j < 128; ++j)
    for (int i = 0; i < 128; ++i) {
      const double x = -16000.0 + i * cell, y = -16000.0 + j * cell;
      tr.mu.push_back(5.71 * mass(x, x + cell) * mass(y, y + cell));
    }
  const SeppSimulator sim(g, tr);
  const auto events = sim.simulate(2011);
  SeppData d;
  d.edges = tr.edges;
  d.counts = sim.binOwned(events, tr.edges);
  const SeppFit fit(g, d);
  SeppFitOptions o;
  o.initial.theta = 0.4;
  o.initial.omega = 0.3;
  o.initial.sigma_m = 100.0;
  o.mu_bandwidth_m = 1000.0;
  o.max_iter = 1000;
  o.tol = 1e-9;
  const auto res = fit.fit(o);
  if (rank() == 0)
    std::printf(
        "[sepp] Mohler 2011: %lld events, %d it, theta %.4f omega %.4f (1/omega %.2f d) sigma %.1f m, KS p "
        "%.3f\n",
        static_cast<long long>(res.events), res.iterations, res.params.theta, res.params.omega,
        1.0 / res.params.omega, res.params.sigma_m, res.ks_p_value);
  EXPECT_NEAR(res.params.theta, 0.2, 0.02);
  EXPECT_NEAR(res.params.omega, 0.1, 0.01);
}

}  // namespace
