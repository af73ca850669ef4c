// Scoring of forecast windows: hand-computed hit rate / PAI / PEI*, log-likelihood, Brier, reliability,
// pooling over windows and the block bootstrap of model-vs-baseline skill.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "verify/BlockBootstrap.hpp"
#include "verify/Pooling.hpp"
#include "verify/Scores.hpp"

namespace {

using vigie::core::RandomStream;
using namespace vigie::verify;

constexpr int kNx = 10;
constexpr int kCells = kNx * kNx;

int cell(int i, int j) {
  return j * kNx + i;
}

// The hand-computed 10x10 window.
//   Mask: column i = 9 is outside the study area (10 cells), so A = 90 active cells.
//   n_flag = max(1, round-half-up(coverage * 90)): 1% -> 0.9 -> 1, 5% -> 4.5 -> 5, 10% -> 9.
//   Forecast (active cells): 0.1 everywhere except
//     idx 0: 5.0 | idx 11: 3.0 | idx 22, 23: 2.0 (tie) | idx 40, 50, 60: 1.0 (tie) | idx 77: 0.5 | idx 88:
//     0.4
//   and the masked cells 9 and 19 get 1000 (must never be flagged).
//   Ranking (forecast desc, ties by ascending index): 0, 11, 22, 23, 40, 50, 60, 77, 88, then 1, 2, ...
//   Observed (active): idx 0:1, 22:2, 50:1, 60:3, 77:1, 55:4, 33:2, 44:1, 66:1, 5:1, 70:3  -> N = 20;
//   masked idx 9 holds 7 events (ignored).
//   Counts sorted desc: 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0...  -> n* = 4 (1 cell), 14 (5), 18 (9).
//   1%:  flagged {0}                       n = 1  HR = 1/20 = 0.05  PAI = 0.05 * 90/1 = 4.5   PEI* = 1/4
//   5%:  flagged {0,11,22,23,40}           n = 3  HR = 0.15         PAI = 0.15 * 90/5 = 2.7   PEI* = 3/14
//   10%: flagged {.., 50, 60, 77, 88}      n = 8  HR = 0.40         PAI = 0.40 * 90/9 = 4.0   PEI* = 8/18
//   Had ties been broken the other way, 60 (3 events) would replace 40 at 5% and n would be 6.
struct HandWindow {
  std::vector<double> forecast = std::vector<double>(kCells, 0.1);
  std::vector<std::int64_t> observed = std::vector<std::int64_t>(kCells, 0);
  std::vector<std::uint8_t> mask = std::vector<std::uint8_t>(kCells, 1);
  HandWindow() {
    for (int j = 0; j < kNx; ++j) mask[cell(9, j)] = 0;
    forecast[0] = 5.0;
    forecast[11] = 3.0;
    forecast[22] = forecast[23] = 2.0;
    forecast[40] = forecast[50] = forecast[60] = 1.0;
    forecast[77] = 0.5;
    forecast[88] = 0.4;
    forecast[9] = forecast[19] = 1000.0;
    observed[0] = 1;
    observed[22] = 2;
    observed[50] = 1;
    observed[60] = 3;
    observed[77] = 1;
    observed[55] = 4;
    observed[33] = 2;
    observed[44] = 1;
    observed[66] = 1;
    observed[5] = 1;
    observed[70] = 3;
    observed[9] = 7;
  }
};

const std::vector<double> kCoverages = {0.01, 0.05, 0.10};

TEST(Scores, FlaggedCellCountRoundsHalfUpAndKeepsOneCell) {
  EXPECT_EQ(flaggedCellCount(0.01, 90), 1);  // 0.9
  EXPECT_EQ(flaggedCellCount(0.05, 90), 5);  // 4.5 rounds up
  EXPECT_EQ(flaggedCellCount(0.10, 90), 9);
  EXPECT_EQ(flaggedCellCount(0.35, 10), 4);  // 3.4999999999999996 in binary, 3.5 as written
  EXPECT_EQ(flaggedCellCount(0.34, 10), 3);
  EXPECT_EQ(flaggedCellCount(0.001, 90), 1);  // 0.09 -> 0, but at least one cell
  EXPECT_EQ(flaggedCellCount(1.0, 90), 90);
  EXPECT_THROW(flaggedCellCount(0.0, 90), vigie::core::Error);
  EXPECT_THROW(flaggedCellCount(1.5, 90), vigie::core::Error);
}

TEST(Scores, HandComputedTenByTen) {
  const HandWindow w;
  const auto s = scoreAtCoverages(w.forecast, w.observed, w.mask, kCoverages);
  ASSERT_EQ(s.size(), 3u);
  const std::int64_t flagged[3] = {1, 5, 9};
  const std::int64_t caught[3] = {1, 3, 8};
  const std::int64_t best[3] = {4, 14, 18};
  const double hr[3] = {0.05, 0.15, 0.40};
  const double pai[3] = {4.5, 2.7, 4.0};
  const double pei[3] = {1.0 / 4, 3.0 / 14, 8.0 / 18};
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE(kCoverages[k]);
    EXPECT_EQ(s[k].coverage, kCoverages[k]);
    EXPECT_EQ(s[k].active_cells, 90);
    EXPECT_EQ(s[k].events_total, 20);
    EXPECT_EQ(s[k].cells_flagged, flagged[k]);
    EXPECT_EQ(s[k].events_caught, caught[k]);
    EXPECT_EQ(s[k].events_best, best[k]);
    EXPECT_NEAR(s[k].hit_rate, hr[k], 1e-14);
    EXPECT_NEAR(s[k].pai, pai[k], 1e-12);
    EXPECT_NEAR(s[k].pei_star, pei[k], 1e-14);
    // The single-coverage entry point agrees with the batched one.
    const CoverageScore one = scoreAtCoverage(w.forecast, w.observed, w.mask, kCoverages[k]);
    EXPECT_EQ(one.events_caught, s[k].events_caught);
    EXPECT_EQ(one.pai, s[k].pai);
  }
}

TEST(Scores, TiesBrokenByAscendingIndex) {
  // Five cells with the same forecast; events only in the last two. Flagging 2 of 5 (40%) must take
  // cells 0 and 1 (no events); reversing the tie rule would catch 2.
  const std::vector<double> f(5, 1.0);
  const std::vector<std::int64_t> c = {0, 0, 0, 1, 1};
  const std::vector<std::uint8_t> m(5, 1);
  const CoverageScore s = scoreAtCoverage(f, c, m, 0.4);
  EXPECT_EQ(s.cells_flagged, 2);
  EXPECT_EQ(s.events_caught, 0);
  EXPECT_EQ(s.events_best, 2);
  EXPECT_EQ(s.pei_star, 0.0);
  // Raising cell 4 by the smallest step puts it first.
  std::vector<double> g = f;
  g[4] = std::nextafter(1.0, 2.0);
  EXPECT_EQ(scoreAtCoverage(g, c, m, 0.4).events_caught, 1);
}

TEST(Scores, MaskedCellsIgnoredEvenWithHugeForecast) {
  HandWindow w;
  const auto base = scoreAtCoverages(w.forecast, w.observed, w.mask, kCoverages);
  // Masked cells get an enormous forecast and many events: nothing may change.
  for (int j = 0; j < kNx; ++j) {
    w.forecast[cell(9, j)] = 1e300;
    w.observed[cell(9, j)] = 1000;
  }
  const auto s = scoreAtCoverages(w.forecast, w.observed, w.mask, kCoverages);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(s[k].events_caught, base[k].events_caught);
    EXPECT_EQ(s[k].events_total, 20);
    EXPECT_EQ(s[k].events_best, base[k].events_best);
  }
  const LogLik a = poissonLogLik(w.forecast, w.observed, w.mask, 1e-9);
  EXPECT_EQ(a.events, 20);
  EXPECT_TRUE(std::isfinite(a.total));
  // A masked cell may even hold garbage (negative forecast): it is never read.
  w.forecast[9] = -1.0;
  EXPECT_NO_THROW(brierScore(w.forecast, w.observed, w.mask));
  w.forecast[0] = -1.0;  // ... but an active one may not
  EXPECT_THROW(brierScore(w.forecast, w.observed, w.mask), vigie::core::Error);
}

TEST(Scores, EmptyWindowIsFiniteWithDocumentedValues) {
  const HandWindow h;
  const std::vector<std::int64_t> none(kCells, 0);
  for (const CoverageScore& s : scoreAtCoverages(h.forecast, none, h.mask, kCoverages)) {
    EXPECT_EQ(s.events_total, 0);
    EXPECT_EQ(s.events_best, 0);
    EXPECT_EQ(s.hit_rate, 0.0);
    EXPECT_EQ(s.pai, 0.0);
    EXPECT_EQ(s.pei_star, 0.0);
  }
  // With no event the log-likelihood is -sum(lambda) over active cells and per_event() returns it.
  double sum_lambda = 0.0;
  for (int k = 0; k < kCells; ++k) sum_lambda += h.mask[k] ? h.forecast[k] : 0.0;
  const LogLik ll = poissonLogLik(h.forecast, none, h.mask, 1e-9);
  EXPECT_EQ(ll.events, 0);
  EXPECT_NEAR(ll.total, -sum_lambda, 1e-12);
  EXPECT_EQ(ll.per_event(), ll.total);
  EXPECT_TRUE(std::isfinite(brierScore(h.forecast, none, h.mask)));
}

TEST(Scores, PerfectOracleHasPeiStarOne) {
  std::vector<std::int64_t> c(kCells);
  std::vector<double> f(kCells);
  const HandWindow h;
  for (int k = 0; k < kCells; ++k) {
    c[k] = static_cast<std::int64_t>(RandomStream(3, k, 0).poisson(0.7));
    f[k] = static_cast<double>(c[k]);
  }
  std::vector<double> coverages;
  for (int p = 1; p <= 100; ++p) coverages.push_back(p / 100.0);
  for (const CoverageScore& s : scoreAtCoverages(f, c, h.mask, coverages)) {
    ASSERT_GT(s.events_best, 0);
    EXPECT_EQ(s.pei_star, 1.0) << "coverage " << s.coverage;
  }
}

TEST(Scores, UniformForecastHasPaiNearOneOnAverage) {
  // 200 windows of homogeneous Poisson counts (mean 5 per cell) on the masked 10x10 grid: a constant
  // forecast flags cells by index, which catches the area share of events on average.
  const HandWindow h;
  const std::vector<double> uniform(kCells, 1.0);
  const std::vector<double> coverages = {0.05, 0.10};
  double pai_sum[2] = {0.0, 0.0};
  const int windows = 200;
  std::vector<std::int64_t> c(kCells);
  for (int w = 0; w < windows; ++w) {
    for (int k = 0; k < kCells; ++k) c[k] = static_cast<std::int64_t>(RandomStream(11, k, w).poisson(5.0));
    const auto s = scoreAtCoverages(uniform, c, h.mask, coverages);
    pai_sum[0] += s[0].pai;
    pai_sum[1] += s[1].pai;
  }
  EXPECT_NEAR(pai_sum[0] / windows, 1.0, 0.05);
  EXPECT_NEAR(pai_sum[1] / windows, 1.0, 0.05);
}

TEST(Scores, PoissonLogLikByHand) {
  // lambda = (0.5, 2, 1), c = (0, 3, 1):
  //   cell 0: -0.5
  //   cell 1: 3 ln 2 - 2 - ln 3! = 2.0794415417 - 2 - 1.7917594692 = -1.7123179275
  //   cell 2: 1 ln 1 - 1 - ln 1! = -1
  //   total = -3.2123179275, events = 4, per event = -0.8030794819
  const std::vector<double> f = {0.5, 2.0, 1.0};
  const std::vector<std::int64_t> c = {0, 3, 1};
  const std::vector<std::uint8_t> m = {1, 1, 1};
  const LogLik ll = poissonLogLik(f, c, m, 1e-9);
  EXPECT_EQ(ll.events, 4);
  EXPECT_NEAR(ll.total, -3.2123179275482192, 1e-12);
  EXPECT_NEAR(ll.per_event(), -0.8030794818870548, 1e-12);
}

TEST(Scores, EpsilonFloorKeepsZeroForecastFinite) {
  // lambda = max(0, 1e-6) in both cells, c = (2, 0): 2 ln(1e-6) - 1e-6 - ln 2 - 1e-6 = -28.3241702965
  const std::vector<double> f = {0.0, 0.0};
  const std::vector<std::int64_t> c = {2, 0};
  const std::vector<std::uint8_t> m = {1, 1};
  const LogLik ll = poissonLogLik(f, c, m, 1e-6);
  EXPECT_TRUE(std::isfinite(ll.total));
  EXPECT_NEAR(ll.total, 2 * std::log(1e-6) - std::log(2.0) - 2e-6, 1e-10);
  EXPECT_NEAR(ll.total, -28.3241702965, 1e-9);
  EXPECT_THROW(poissonLogLik(f, c, m, 0.0), vigie::core::Error);
}

// Four active cells with p = 1 - exp(-lambda) = 0, 0.2, 0.6, 0.9 and events in the middle two; a fifth,
// masked cell with a large forecast and events.
struct CalibrationCase {
  std::vector<double> f = {0.0, -std::log(0.8), -std::log(0.4), -std::log(0.1), 50.0};
  std::vector<std::int64_t> c = {0, 1, 2, 0, 5};
  std::vector<std::uint8_t> m = {1, 1, 1, 1, 0};
};

TEST(Scores, BrierByHand) {
  // ((0-0)^2 + (0.2-1)^2 + (0.6-1)^2 + (0.9-0)^2) / 4 = (0 + 0.64 + 0.16 + 0.81) / 4 = 0.4025
  const CalibrationCase k;
  EXPECT_NEAR(brierScore(k.f, k.c, k.m), 0.4025, 1e-14);
}

TEST(Scores, ReliabilityBins) {
  // 4 bins: [0,.25): p = 0, 0.2 -> 2 cells, mean p 0.1, frequency 1/2; [.25,.5): empty;
  // [.5,.75): p = 0.6, event -> 1 cell, 0.6, 1; [.75,1]: p = 0.9, no event -> 1 cell, 0.9, 0.
  const CalibrationCase k;
  const auto t = reliability(k.f, k.c, k.m, 4);
  ASSERT_EQ(t.size(), 4u);
  const std::int64_t cells[4] = {2, 0, 1, 1};
  const double mean_p[4] = {0.1, 0.0, 0.6, 0.9};
  const double freq[4] = {0.5, 0.0, 1.0, 0.0};
  for (int b = 0; b < 4; ++b) {
    EXPECT_DOUBLE_EQ(t[b].p_lo, b * 0.25);
    EXPECT_DOUBLE_EQ(t[b].p_hi, (b + 1) * 0.25);
    EXPECT_EQ(t[b].cells, cells[b]);
    EXPECT_NEAR(t[b].mean_forecast_p, mean_p[b], 1e-14);
    EXPECT_EQ(t[b].observed_frequency, freq[b]);
  }
  // A forecast so large that p rounds to 1 lands in the last bin.
  const std::vector<double> big = {100.0};
  const std::vector<std::int64_t> one = {1};
  const std::vector<std::uint8_t> on = {1};
  EXPECT_EQ(reliability(big, one, on, 4).back().cells, 1);
  EXPECT_THROW(reliability(k.f, k.c, k.m, 0), vigie::core::Error);
}

TEST(Scores, PoolingTwoWindowsByHand) {
  // Window 1: A = 90, 5% -> 5 cells, n = 3, N = 20, n* = 14, LL = -30 over 20 events, Brier 0.1.
  // Window 2: A = 30, 5% -> 2 cells, n = 2, N = 10, n* = 6,  LL = -25 over 10 events, Brier 0.2.
  // Pooled: HR = 5/30 = 1/6; area = 7/120; PAI = (1/6)/(7/120) = 20/7; PEI* = 5/20 = 0.25;
  //         LL per event = -55/30; Brier = (0.1*90 + 0.2*30)/120 = 0.125.
  WindowScores w1;
  w1.at.push_back({0.05, 5, 3, 20, 14, 90, 0.15, 2.7, 3.0 / 14});
  w1.ll = {-30.0, 20};
  w1.brier = 0.1;
  w1.active_cells = 90;
  WindowScores w2;
  w2.at.push_back({0.05, 2, 2, 10, 6, 30, 0.2, 3.0, 1.0 / 3});
  w2.ll = {-25.0, 10};
  w2.brier = 0.2;
  w2.active_cells = 30;
  const PooledScores p = pool({w1, w2});
  EXPECT_EQ(p.windows, 2);
  ASSERT_EQ(p.at.size(), 1u);
  EXPECT_EQ(p.at[0].events_caught, 5);
  EXPECT_EQ(p.at[0].events_total, 30);
  EXPECT_EQ(p.at[0].cells_flagged, 7);
  EXPECT_EQ(p.at[0].active_cells, 120);
  EXPECT_NEAR(p.at[0].hit_rate, 1.0 / 6, 1e-15);
  EXPECT_NEAR(p.at[0].pai, 20.0 / 7, 1e-14);
  EXPECT_NEAR(p.at[0].pei_star, 0.25, 1e-15);
  EXPECT_NEAR(p.ll.per_event(), -55.0 / 30, 1e-14);
  EXPECT_NEAR(p.brier, 0.125, 1e-15);

  WindowScores w3 = w2;
  w3.at[0].coverage = 0.10;
  EXPECT_THROW(pool({w1, w3}), vigie::core::Error);
  EXPECT_EQ(pool({}).windows, 0);
}

TEST(Scores, ScoreWindowMatchesTheParts) {
  const HandWindow h;
  const WindowScores w = scoreWindow(h.forecast, h.observed, h.mask, kCoverages, 1e-9, 10);
  EXPECT_EQ(w.active_cells, 90);
  EXPECT_EQ(w.at[1].events_caught, 3);
  EXPECT_EQ(w.ll.events, 20);
  EXPECT_EQ(w.brier, brierScore(h.forecast, h.observed, h.mask));
  ASSERT_EQ(w.reliability.size(), 10u);
  std::int64_t cells = 0;
  for (const auto& b : w.reliability) cells += b.cells;
  EXPECT_EQ(cells, 90);
  // Pooling one window returns that window's scores.
  const PooledScores p = pool({w});
  EXPECT_EQ(p.at[1].pai, w.at[1].pai);
  EXPECT_EQ(p.brier, w.brier);
  EXPECT_EQ(p.reliability[0].cells, w.reliability[0].cells);
}

// Per-window events caught by a baseline: Poisson(6) draws keyed by window.
std::vector<double> baselineCaught(int windows) {
  std::vector<double> v(windows);
  for (int w = 0; w < windows; ++w) v[w] = static_cast<double>(RandomStream(21, w, 0).poisson(6.0));
  return v;
}

TEST(Bootstrap, FewerThanTenWindowsIsUnavailable) {
  const std::vector<double> num = {2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<double> den = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  const BootstrapInterval b = bootstrapRatioOfSums(num, den, {});
  EXPECT_FALSE(b.available);
  EXPECT_TRUE(b.defined);
  EXPECT_DOUBLE_EQ(b.estimate, 54.0 / 9);
  EXPECT_EQ(b.lo, b.estimate);
  EXPECT_EQ(b.hi, b.estimate);
  EXPECT_EQ(b.replicates, 0);
}

TEST(Bootstrap, IdenticalModelAndBaselineGiveRatioOneAndZeroDifference) {
  const auto base = baselineCaught(30);
  const BootstrapInterval r = bootstrapRatioOfSums(base, base, {});
  EXPECT_TRUE(r.available);
  EXPECT_EQ(r.estimate, 1.0);
  EXPECT_EQ(r.lo, 1.0);
  EXPECT_EQ(r.hi, 1.0);
  EXPECT_EQ(r.replicates, 999);
  EXPECT_EQ(r.block_length, 3);  // round(30^(1/3)) = round(3.107)
  const std::vector<std::int64_t> events(30, 12);
  const BootstrapInterval d = bootstrapDifferencePerEvent(base, base, events, {});
  EXPECT_TRUE(d.available);
  EXPECT_EQ(d.estimate, 0.0);
  EXPECT_EQ(d.lo, 0.0);
  EXPECT_EQ(d.hi, 0.0);
}

TEST(Bootstrap, DeterministicForASeed) {
  const auto base = baselineCaught(40);
  std::vector<double> model(40);
  for (int w = 0; w < 40; ++w) model[w] = static_cast<double>(RandomStream(22, w, 0).poisson(7.0));
  BootstrapOptions o;
  o.seed = 5;
  const BootstrapInterval a = bootstrapRatioOfSums(model, base, o);
  const BootstrapInterval b = bootstrapRatioOfSums(model, base, o);
  EXPECT_TRUE(a.available);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_LT(a.lo, a.estimate);
  EXPECT_GT(a.hi, a.estimate);
  o.seed = 6;
  const BootstrapInterval c = bootstrapRatioOfSums(model, base, o);
  EXPECT_EQ(c.estimate, a.estimate);
  EXPECT_TRUE(c.lo != a.lo || c.hi != a.hi);
}

TEST(Bootstrap, ClearlyBetterModelHasIntervalAboveOne) {
  const int n = 52;
  const auto base = baselineCaught(n);
  std::vector<double> model(n);
  std::vector<double> ll_model(n);
  std::vector<double> ll_base(n);
  std::vector<std::int64_t> events(n);
  for (int w = 0; w < n; ++w) {
    model[w] = 2.0 * base[w] + static_cast<double>(RandomStream(23, w, 0).poisson(1.0));
    events[w] = 20;
    ll_base[w] = -60.0 + RandomStream(24, w, 0).normal();
    ll_model[w] = ll_base[w] + 4.0 + RandomStream(25, w, 0).normal();
  }
  const BootstrapInterval r = bootstrapRatioOfSums(model, base, {});
  EXPECT_TRUE(r.available);
  EXPECT_GT(r.lo, 1.0);
  EXPECT_LE(r.lo, r.estimate);
  EXPECT_GE(r.hi, r.estimate);
  EXPECT_EQ(r.block_length, 4);  // round(52^(1/3)) = round(3.73)
  const BootstrapInterval d = bootstrapDifferencePerEvent(ll_model, ll_base, events, {});
  EXPECT_TRUE(d.available);
  EXPECT_GT(d.lo, 0.0);
  EXPECT_NEAR(d.estimate, 0.2, 0.05);  // about 4 nats per window over 20 events
}

TEST(Bootstrap, OneBlockOfAllWindowsReproducesTheEstimate) {
  // With L = n the only block is the series itself: every replicate equals the estimate.
  const auto base = baselineCaught(12);
  std::vector<double> model(12);
  for (int w = 0; w < 12; ++w) model[w] = base[w] + w;
  BootstrapOptions o;
  o.block_length = 12;
  const BootstrapInterval r = bootstrapRatioOfSums(model, base, o);
  EXPECT_TRUE(r.available);
  EXPECT_EQ(r.lo, r.estimate);
  EXPECT_EQ(r.hi, r.estimate);
}

TEST(Bootstrap, BaselineThatCatchesNothingIsUndefinedNotInfinite) {
  const std::vector<double> zero(15, 0.0);
  const std::vector<double> some(15, 2.0);
  const BootstrapInterval r = bootstrapRatioOfSums(some, zero, {});
  EXPECT_FALSE(r.defined);
  EXPECT_FALSE(r.available);
  EXPECT_EQ(r.estimate, 0.0);
  EXPECT_EQ(r.lo, 0.0);
  EXPECT_EQ(r.hi, 0.0);
  // Neither catches anything: no difference, ratio 1.
  const BootstrapInterval e = bootstrapRatioOfSums(zero, zero, {});
  EXPECT_TRUE(e.defined);
  EXPECT_EQ(e.estimate, 1.0);
}

TEST(Bootstrap, WindowScoresHelpersPairTheWindows) {
  // Two windows of the hand case, model = the hand forecast, baseline = a uniform forecast.
  const HandWindow h;
  const std::vector<double> uniform(kCells, 0.2);
  std::vector<WindowScores> model;
  std::vector<WindowScores> base;
  for (int w = 0; w < 10; ++w) {
    model.push_back(scoreWindow(h.forecast, h.observed, h.mask, kCoverages, 1e-9, 5));
    base.push_back(scoreWindow(uniform, h.observed, h.mask, kCoverages, 1e-9, 5));
  }
  // Uniform at 5% flags cells 0..4: events 1 (idx 0) + 0 = 1 ... plus idx 5 is 6th: n = 1. Model n = 3.
  ASSERT_EQ(base[0].at[1].events_caught, 1);
  const BootstrapInterval r = paiRatio(model, base, 1, {});
  EXPECT_DOUBLE_EQ(r.estimate, 3.0);
  EXPECT_TRUE(r.available);
  EXPECT_EQ(r.lo, 3.0);  // every window is the same, so every resample is too
  const BootstrapInterval d = logLikDifference(model, base, {});
  EXPECT_NEAR(d.estimate, (model[0].ll.total - base[0].ll.total) / 20.0, 1e-12);
  EXPECT_THROW(paiRatio(model, base, 7, {}), vigie::core::Error);
  base.pop_back();
  EXPECT_THROW(logLikDifference(model, base, {}), vigie::core::Error);
}

}  // namespace
