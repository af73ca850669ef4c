// The backtest at 1, 2 and 4 ranks on a synthetic store with a clear hotspot: the document equals a run on
// MPI_COMM_SELF exactly, a window's forecast ignores events inside and after it, the history baseline finds
// the hotspot (PAI@5% > 1), the window count follows the dates, every number is finite; stacking's weights
// maximise the blend's likelihood and are the same at any rank count.
#include <gtest/gtest.h>
#include <mpi.h>
#include "../support/MpiTest.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/Config.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/Event.hpp"
#include "ingest/ObservationStore.hpp"
#include "ingest/TimeBinning.hpp"
#include "models/ModelRegistry.hpp"
#include "verify/Backtest.hpp"
#include "verify/Pooling.hpp"

namespace fs = std::filesystem;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::ingest::BinUnit;
using vigie::ingest::Coverage;
using vigie::ingest::Event;
using vigie::ingest::ObservationStore;
using vigie::ingest::StoreMeta;
using vigie::ingest::TimeBinning;
using vigie::ingest::TimeZone;
using vigie::verify::Backtest;
using vigie::verify::BacktestSettings;
using vigie::verify::ObservedSeries;

namespace {

using vigie::testing::commRank;
using vigie::testing::commSize;

constexpr int kNx = 20;
constexpr int kNy = 15;
const std::vector<std::string> kCategories{"theft", "assault"};

GridSpec lattice() {
  GridSpec s;
  s.nx = kNx;
  s.ny = kNy;
  s.cell = 100.0;
  return s;
}

// 120 days from 2019-01-01 (Jan 1 - Apr 30), days 42-46 (Feb 12-16) not covered; a third of the events fall
// in a 2 x 2 hotspot, the rest anywhere.
std::vector<Event> synthetic() {
  std::vector<Event> out;
  std::uint64_t s = 7;
  const auto next = [&s]() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  };
  const std::int64_t jan1 = vigie::ingest::daysFromCivil(2019, 1, 1);
  while (out.size() < 3000) {
    const auto day = static_cast<std::int64_t>(next() % 120);
    if (day >= 42 && day < 47) continue;
    Event e;
    e.civil_seconds = (jan1 + day) * 86400 + static_cast<std::int64_t>(next() % 1440) * 60;
    if (next() % 3 == 0) {
      e.cell = static_cast<std::int64_t>((10 + next() % 2) * kNx + 4 + next() % 2);
    } else {
      e.cell = static_cast<std::int64_t>(next() % (kNx * kNy));
    }
    e.category = static_cast<std::int32_t>(next() % kCategories.size());
    e.key_hi = 1;
    e.key_lo = out.size();
    out.push_back(e);
  }
  return out;
}

// The Config keeps a pointer to its option set, so the set lives as long as the test program.
const vigie::core::OptionSet& options() {
  static const vigie::core::OptionSet set = [] {
    vigie::core::OptionSet o;
    o.add("run.seed", vigie::core::OptionType::UInt, "5", "seed");
    vigie::models::ModelRegistry::instance().declareOptions(o);
    Backtest::declareOptions(o);
    return o;
  }();
  return set;
}

struct Fixture {
  vigie::core::Config config;
  BacktestSettings settings;
  ObservedSeries series;
};

// Weekly windows (7 daily bins) from Feb 4 (a Monday) to Apr 22: 12 window starts, one of which (Feb 11,
// covering days 41-47) holds uncovered days and is skipped.
Fixture makeFixture() {
  Fixture f{vigie::core::Config::parse(options(), {},
                                       {{"backtest.start", "2019-02-04"},
                                        {"backtest.end", "2019-04-22"},
                                        {"backtest.horizon_bins", "7"},
                                        {"backtest.bootstrap_replicates", "199"}}),
            {},
            {}};
  f.settings = BacktestSettings::fromConfig(f.config, "synthetic");
  const fs::path dir =
      fs::path(VIGIE_BINARY_DIR) / "test-output" / ("backtest-np" + std::to_string(commSize()));
  if (commRank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const CityGrid grid(MPI_COMM_WORLD, lattice());
  const StoreMeta meta{kCategories,
                       TimeBinning(BinUnit::Day, TimeZone("Europe/Paris")),
                       Coverage::parse({"2019-01-01/2019-02-11", "2019-02-17/2019-04-30"}),
                       false,
                       "backtest-test",
                       {}};
  const auto events = synthetic();
  ObservationStore::update(grid, dir / "obs.h5", meta, commRank() == 0 ? events : std::vector<Event>{});
  f.series = ObservedSeries::read(MPI_COMM_WORLD, dir / "obs.h5", {});
  return f;
}

void expectFinite(const nlohmann::json& j) {
  if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>()));
  }
  if (j.is_structured()) {
    for (const auto& v : j) expectFinite(v);
  }
}

}  // namespace

TEST(Backtest, SameDocumentAtAnyRankCountAndSensibleScores) {
  const auto f = makeFixture();
  ASSERT_EQ(f.series.bins(), 120);
  ASSERT_EQ(f.series.bin_start.size(), 121U);
  EXPECT_EQ(f.series.bin_start[120] - f.series.bin_start[119], 86400);
  const auto starts = Backtest::windowStarts(f.series, f.settings);
  ASSERT_EQ(starts.size(), 11U);
  EXPECT_EQ(starts.front(), 34);  // Feb 4
  EXPECT_EQ(starts[1], 48);       // Feb 18: the Feb 11 window is not covered
  EXPECT_EQ(starts.back(), 111);  // Apr 22

  const auto doc = Backtest::run(MPI_COMM_WORLD, lattice(), f.config, f.settings, f.series);
  const auto serial = Backtest::run(MPI_COMM_SELF, lattice(), f.config, f.settings, f.series);
  EXPECT_EQ(doc.dump(), serial.dump());

  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["case"], "synthetic");
  EXPECT_EQ(doc["windows"], 11);
  EXPECT_EQ(doc["per_window"].size(), 11U);
  EXPECT_EQ(doc["per_window"][0]["start"], "2019-02-04T00:00+01:00");
  for (const auto& name : Backtest::baselines()) {
    ASSERT_TRUE(doc["models"].contains(name)) << name;
    for (const char* k : {"1", "5", "10"}) EXPECT_TRUE(doc["models"][name]["pai"].contains(k));
    EXPECT_TRUE(doc["skill"][name].contains("pai5_ratio_ci95"));
  }
  EXPECT_GT(doc["models"]["history"]["pai"]["5"].get<double>(), 1.0);
  EXPECT_GT(doc["models"]["history"]["hit_rate"]["10"].get<double>(),
            doc["models"]["history"]["hit_rate"]["1"].get<double>());
  const auto best = doc["best_baseline"].get<std::string>();
  EXPECT_DOUBLE_EQ(doc["skill"][best]["pai5_ratio"].get<double>(), 1.0);
  EXPECT_TRUE(doc["skill"][best]["available"].get<bool>());  // 11 windows >= 10
  expectFinite(doc);
  EXPECT_FALSE(Backtest::markdown(doc).empty());
}

TEST(Backtest, ForecastUsesOnlyEventsBeforeTheWindow) {
  const auto f = makeFixture();
  CityGrid grid(MPI_COMM_SELF, lattice());
  grid.setMask(f.series.mask);
  const std::vector<std::int64_t> starts{60};
  const std::size_t plane = kNx * kNy;
  auto names = Backtest::baselines();
  names.emplace_back("sepp");  // a fitted model: fitted at the window, on the bins before it
  for (const auto& name : names) {
    std::vector<double> before;
    Backtest::replay(grid, f.config, 5, name, f.series, starts, 7,
                     [&](std::size_t, std::span<const double> fc) { before.assign(fc.begin(), fc.end()); });
    auto changed = f.series;
    // Events inside the window (bins 60-66) and after it change; the forecast must not.
    for (std::size_t b = 60; b < 120; ++b) {
      for (std::size_t c = 0; c < plane; ++c)
        changed.counts[b * plane + c] = static_cast<std::int32_t>((b + c) % 5);
    }
    std::vector<double> after;
    Backtest::replay(grid, f.config, 5, name, changed, starts, 7,
                     [&](std::size_t, std::span<const double> fc) { after.assign(fc.begin(), fc.end()); });
    EXPECT_EQ(before, after) << name;
    // ... while a change before the window does move it (the test can fail).
    changed.counts[59 * plane + 3] += 50;
    std::vector<double> moved;
    Backtest::replay(grid, f.config, 5, name, changed, starts, 7,
                     [&](std::size_t, std::span<const double> fc) { moved.assign(fc.begin(), fc.end()); });
    EXPECT_NE(before, moved) << name;
  }
}

// Per-category scores: the callback of ObservedSeries::read hands each category's own counts, which sum to
// the combined series; scoring a category is the same at any rank count, its event totals add up to the
// combined total, and scoring a one-category store's only category reproduces run()'s "models" block exactly.
TEST(Backtest, PerCategoryScoresAddUpAndMatchASingleCategoryRun) {
  const auto f = makeFixture();
  const fs::path obs =
      fs::path(VIGIE_BINARY_DIR) / "test-output" / ("backtest-np" + std::to_string(commSize())) / "obs.h5";
  std::vector<ObservedSeries> each;
  const auto summed =
      ObservedSeries::read(MPI_COMM_WORLD, obs, {}, [&](const ObservedSeries& one) { each.push_back(one); });
  EXPECT_EQ(summed.counts, f.series.counts);
  ASSERT_EQ(each.size(), kCategories.size());
  for (std::size_t k = 0; k < summed.counts.size(); ++k) {
    ASSERT_EQ(each[0].counts[k] + each[1].counts[k], summed.counts[k]) << k;
  }

  std::int64_t events = 0;
  for (const auto& one : each) {
    ASSERT_EQ(one.categories.size(), 1U);
    const auto doc = Backtest::scoreCategory(MPI_COMM_WORLD, lattice(), f.config, f.settings, one);
    const auto serial = Backtest::scoreCategory(MPI_COMM_SELF, lattice(), f.config, f.settings, one);
    EXPECT_EQ(doc.dump(), serial.dump());
    for (const auto& name : f.settings.models) {
      ASSERT_TRUE(doc["models"].contains(name)) << name;
      EXPECT_EQ(doc["models"][name]["events"], doc["events"]) << name;
    }
    EXPECT_GT(doc["events"].get<std::int64_t>(), 0);
    events += doc["events"].get<std::int64_t>();
    expectFinite(doc);

    const auto alone = ObservedSeries::read(MPI_COMM_WORLD, obs, one.categories);
    const auto run = Backtest::run(MPI_COMM_WORLD, lattice(), f.config, f.settings, alone);
    EXPECT_EQ(run["models"].dump(), doc["models"].dump()) << one.categories.front();
  }
  const auto combined = Backtest::run(MPI_COMM_WORLD, lattice(), f.config, f.settings, f.series);
  EXPECT_EQ(events, combined["models"]["history"]["events"].get<std::int64_t>());

  auto with = combined;
  with["per_category"]["theft"] =
      Backtest::scoreCategory(MPI_COMM_WORLD, lattice(), f.config, f.settings, each[0]);
  const auto md = Backtest::markdown(with);
  EXPECT_NE(md.find("## Per category"), std::string::npos);
  EXPECT_NE(md.find("## Reliability"), std::string::npos);
}

TEST(Backtest, TuningPicksTheBestCandidateWithinTheBudgetBeforeTheBacktest) {
  auto f = makeFixture();
  f.settings.tune_budget = 5;
  auto serial_settings = f.settings;
  const auto report = Backtest::tune(MPI_COMM_WORLD, lattice(), f.config, f.settings, f.series);
  const auto serial = Backtest::tune(MPI_COMM_SELF, lattice(), f.config, serial_settings, f.series);
  EXPECT_EQ(report.dump(), serial.dump());
  EXPECT_EQ(f.settings.model_overrides, serial_settings.model_overrides);

  // Windows Feb 4 - Apr 22 start at bin 34: the tuning windows are bins 6, 13, 20 and 27 (all before it).
  EXPECT_EQ(report["windows"], 4);
  EXPECT_EQ(report["last_window"].get<std::string>().substr(0, 10), "2019-01-28");
  ASSERT_TRUE(report["models"].contains("naive"));
  ASSERT_TRUE(report["models"].contains("kde"));
  ASSERT_TRUE(report["models"].contains("prospective"));
  EXPECT_FALSE(report["models"].contains("history"));  // nothing to tune
  for (const auto& [name, entry] : report["models"].items()) {
    const auto& c = entry["candidates"];
    ASSERT_LE(c.size(), 5U) << name;
    ASSERT_GE(c.size(), 2U) << name;
    // The config's own values come first.
    for (const auto& [key, value] : c[0]["values"].items())
      EXPECT_EQ(value.get<std::string>(), f.config.getString(key)) << name;
    // The chosen candidate has the highest PAI@5% (ties: higher log-likelihood).
    double best = -1.0;
    for (const auto& k : c) best = std::max(best, k["pai5"].get<double>());
    bool found = false;
    for (const auto& k : c) {
      if (k["values"] == entry["chosen"]) {
        found = true;
        EXPECT_EQ(k["pai5"].get<double>(), best) << name;
      }
    }
    EXPECT_TRUE(found) << name;
    const auto m = static_cast<std::size_t>(
        std::find(f.settings.models.begin(), f.settings.models.end(), name) - f.settings.models.begin());
    ASSERT_LT(m, f.settings.models.size());
    EXPECT_EQ(f.settings.model_overrides[m].size(), entry["chosen"].size()) << name;
  }
  // The tuned values reach the backtest and are reported there.
  const auto doc = Backtest::run(MPI_COMM_WORLD, lattice(), f.config, f.settings, f.series);
  EXPECT_EQ(doc["tuned_parameters"]["naive"], report["models"]["naive"]["chosen"]);

  // Tuning off leaves every model with the config's values.
  auto off = makeFixture();
  off.settings.tune = false;
  const auto none = Backtest::tune(MPI_COMM_WORLD, lattice(), off.config, off.settings, off.series);
  EXPECT_TRUE(none["models"].empty());
  for (const auto& o : off.settings.model_overrides) EXPECT_TRUE(o.empty());
}

// A fitted model (sepp) refit every 3 windows: its forecasts, and so the whole document, are the same at any
// rank count although each rank starts its replay at a different window; refitting changes the forecasts
// (the refit plan is not a no-op), and the report states k.
TEST(Backtest, RefitPlanOfAFittedModelIsRankInvariant) {
  auto f = makeFixture();
  const auto config = f.config.withOverrides({{"models.enabled", "sepp"},
                                              {"backtest.refit_every", "3"},
                                              {"sepp.mu_bandwidth_m", "200"},
                                              {"sepp.max_iter", "30"}});
  auto settings = BacktestSettings::fromConfig(config, "synthetic");
  ASSERT_EQ(settings.models.front(), "sepp");
  EXPECT_EQ(settings.refit_every, 3);
  const auto doc = Backtest::run(MPI_COMM_WORLD, lattice(), config, settings, f.series);
  const auto serial = Backtest::run(MPI_COMM_SELF, lattice(), config, settings, f.series);
  EXPECT_EQ(doc.dump(), serial.dump());
  EXPECT_EQ(doc["refit_every"], 3);
  EXPECT_NE(doc["refit_policy"].get<std::string>().find("every 3 window"), std::string::npos);
  expectFinite(doc);

  // Refit at every window gives other forecasts than refitting every third one (windows 1, 2, 4, ... keep
  // older parameters in the second case).
  auto every = settings;
  every.refit_every = 1;
  const auto doc1 = Backtest::run(MPI_COMM_WORLD, lattice(), config, every, f.series);
  EXPECT_EQ(doc1["per_window"][0]["models"]["sepp"], doc["per_window"][0]["models"]["sepp"]);
  EXPECT_NE(doc1["per_window"][1]["models"]["sepp"]["loglik"],
            doc["per_window"][1]["models"]["sepp"]["loglik"]);
}

namespace {

using vigie::verify::StackData;

// W windows of C cells; model 0 forecasts the true rates, model 1 the true rates on odd cells and a flat
// field (the mean rate) on even ones, model 2 the other way round; counts drawn as Poisson(true rate) by
// inversion with a fixed LCG.
StackData syntheticStack(std::size_t windows, std::size_t cells) {
  std::uint64_t s = 11;
  const auto uniform = [&s]() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  };
  StackData d;
  d.models = 3;
  std::vector<double> rate(cells);
  double sum = 0.0;
  for (std::size_t c = 0; c < cells; ++c) {
    rate[c] = c % 7 == 0 ? 3.0 : 0.05 + 0.1 * uniform();
    sum += rate[c];
  }
  std::vector<std::int64_t> observed(cells);
  const std::vector<std::uint8_t> mask(cells, 1);
  std::vector<double> odd(cells);
  std::vector<double> even(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    odd[c] = c % 2 == 1 ? rate[c] : sum / static_cast<double>(cells);
    even[c] = c % 2 == 0 ? rate[c] : sum / static_cast<double>(cells);
  }
  for (std::size_t w = 0; w < windows; ++w) {
    for (std::size_t c = 0; c < cells; ++c) {
      double p = std::exp(-rate[c]);
      double cdf = p;
      const double u = uniform();
      std::int64_t n = 0;
      while (u > cdf && n < 100) {
        ++n;
        p *= rate[c] / static_cast<double>(n);
        cdf += p;
      }
      observed[c] = n;
    }
    d.addWindow({rate, odd, even}, observed, mask, 1e-9);
  }
  return d;
}

// Every vertex and every point of a 0.05 lattice of the simplex scores at most the fitted weights.
void expectMaximum(const StackData& d, const vigie::verify::StackFit& fit, std::size_t skip) {
  ASSERT_EQ(fit.weights.size(), d.models);
  double sum = 0.0;
  for (const double w : fit.weights) {
    EXPECT_GE(w, 0.0);
    sum += w;
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_TRUE(fit.converged);
  EXPECT_EQ(fit.objective, Backtest::stackObjective(d, fit.weights, skip));
  const double slack = 1e-9 * std::abs(fit.objective);
  for (std::size_t k = 0; k < d.models; ++k) {
    std::vector<double> vertex(d.models, 0.0);
    vertex[k] = 1.0;
    EXPECT_GE(fit.objective, Backtest::stackObjective(d, vertex, skip) - slack) << "vertex " << k;
  }
  if (d.models == 3) {
    for (int a = 0; a <= 20; ++a) {
      for (int b = 0; a + b <= 20; ++b) {
        const std::vector<double> w{a / 20.0, b / 20.0, (20 - a - b) / 20.0};
        EXPECT_GE(fit.objective, Backtest::stackObjective(d, w, skip) - slack) << a << " " << b;
      }
    }
  }
}

}  // namespace

// The optimiser alone, on data where the answer is known: the true rates take nearly all the weight, the
// fitted weights beat every vertex and a lattice of the simplex, with a window left out too; a single model
// gets weight 1; two identical models (a singular Hessian) still converge; no event at all puts the weight
// on the model with the smallest total.
TEST(Backtest, StackingWeightsMaximiseTheLikelihoodOverTheSimplex) {
  const auto d = syntheticStack(12, 200);
  ASSERT_EQ(d.windows(), 12U);
  const auto fit = Backtest::fitStack(d);
  expectMaximum(d, fit, Backtest::kAllWindows);
  EXPECT_GT(fit.weights[0], 0.9);
  EXPECT_GE(fit.gap, 0.0);
  for (const std::size_t skip : {std::size_t{0}, std::size_t{5}, std::size_t{11}})
    expectMaximum(d, Backtest::fitStack(d, skip), skip);

  // An interior optimum: the two half-right models blend better than either alone.
  StackData two;
  two.models = 2;
  two.offsets = d.offsets;
  two.counts = d.counts;
  for (std::size_t c = 0; c < d.counts.size(); ++c)
    two.lambda.insert(two.lambda.end(), {d.lambda[c * 3 + 1], d.lambda[c * 3 + 2]});
  for (std::size_t w = 0; w < d.windows(); ++w)
    two.totals.insert(two.totals.end(), {d.totals[w * 3 + 1], d.totals[w * 3 + 2]});
  const auto mix = Backtest::fitStack(two);
  expectMaximum(two, mix, Backtest::kAllWindows);
  EXPECT_GT(mix.weights[0], 0.2);
  EXPECT_GT(mix.weights[1], 0.2);
  for (const std::size_t skip : {std::size_t{0}, std::size_t{11}}) {
    const auto loo = Backtest::fitStack(two, skip);
    expectMaximum(two, loo, skip);
    EXPECT_NE(loo.weights, mix.weights) << skip;  // the left-out window matters
  }

  StackData one;
  one.models = 1;
  one.offsets = d.offsets;
  one.counts = d.counts;
  for (std::size_t c = 0; c < d.counts.size(); ++c) one.lambda.push_back(d.lambda[c * 3]);
  for (std::size_t w = 0; w < d.windows(); ++w) one.totals.push_back(d.totals[w * 3]);
  const auto alone = Backtest::fitStack(one);
  EXPECT_EQ(alone.weights, std::vector<double>{1.0});
  EXPECT_TRUE(alone.converged);

  StackData same;
  same.models = 2;
  same.offsets = d.offsets;
  same.counts = d.counts;
  for (std::size_t c = 0; c < d.counts.size(); ++c)
    same.lambda.insert(same.lambda.end(), {d.lambda[c * 3], d.lambda[c * 3]});
  for (std::size_t w = 0; w < d.windows(); ++w)
    same.totals.insert(same.totals.end(), {d.totals[w * 3], d.totals[w * 3]});
  expectMaximum(same, Backtest::fitStack(same), Backtest::kAllWindows);

  StackData quiet;
  quiet.models = 2;
  quiet.offsets = {0, 0, 0};
  quiet.totals = {3.0, 2.0, 3.0, 2.0};
  const auto q = Backtest::fitStack(quiet);
  EXPECT_EQ(q.weights, (std::vector<double>{0.0, 1.0}));
  EXPECT_TRUE(q.converged);
}

// Stacking in the backtest: history against a naive forecast of yesterday's counts (clearly worse: most
// cells with events get the floor). The member is the same at any rank count (the document equals a run on
// MPI_COMM_SELF), its weights are those of fitStack on the replayed forecasts, the left-out weights of a
// window are those fitted on the others, and the fitted blend scores at least as well as each model.
TEST(Backtest, StackingBlendsTheEnabledModelsTheSameWayAtAnyRankCount) {
  const auto f = makeFixture();
  const auto config = f.config.withOverrides(
      {{"models.enabled", "history,naive"}, {"naive.bins", "1"}, {"backtest.per_category", "false"}});
  const auto settings = BacktestSettings::fromConfig(config, "synthetic");
  ASSERT_EQ(settings.enabled_models, 2U);
  const auto doc = Backtest::run(MPI_COMM_WORLD, lattice(), config, settings, f.series);
  const auto serial = Backtest::run(MPI_COMM_SELF, lattice(), config, settings, f.series);
  EXPECT_EQ(doc.dump(), serial.dump());
  ASSERT_TRUE(doc.contains("stacking"));
  const auto& st = doc["stacking"];
  EXPECT_EQ(st["models"], nlohmann::json::array({"history", "naive"}));
  const double wh = st["weights"]["history"].get<double>();
  const double wn = st["weights"]["naive"].get<double>();
  EXPECT_GE(wn, 0.0);
  EXPECT_NEAR(wh + wn, 1.0, 1e-12);
  EXPECT_GT(wh, 0.9);
  EXPECT_TRUE(st["converged"].get<bool>());
  EXPECT_EQ(st["weights_per_window_loo"].size(), 11U);
  for (const char* k : {"1", "5", "10"}) EXPECT_TRUE(st["blend_loo"]["pai"].contains(k));
  const auto& ll = st["log_likelihood_per_event"];
  EXPECT_EQ(ll["history"], doc["models"]["history"]["log_likelihood_per_event"]);
  EXPECT_EQ(ll["naive"], doc["models"]["naive"]["log_likelihood_per_event"]);
  for (const char* m : {"history", "naive"})
    EXPECT_GE(ll["blend"].get<double>(), ll[m].get<double>() - 1e-9) << m;
  expectFinite(doc);
  const auto md = Backtest::markdown(doc);
  EXPECT_NE(md.find("## Stacking"), std::string::npos);
  EXPECT_NE(md.find("leave-one-out weights"), std::string::npos);

  // The same weights from the forecasts replayed here, and the left-out weights of windows 0 and 7.
  CityGrid grid(MPI_COMM_SELF, lattice());
  grid.setMask(f.series.mask);
  const auto starts = Backtest::windowStarts(f.series, settings);
  const std::size_t plane = kNx * kNy;
  std::vector<std::vector<std::vector<double>>> fc(2);
  for (std::size_t m = 0; m < 2; ++m) {
    Backtest::replay(grid, config, settings.seed, settings.models[m], f.series, starts, settings.horizon_bins,
                     [&](std::size_t, std::span<const double> x) { fc[m].emplace_back(x.begin(), x.end()); });
  }
  StackData d;
  d.models = 2;
  std::vector<std::vector<std::int64_t>> observed(starts.size(), std::vector<std::int64_t>(plane, 0));
  for (std::size_t w = 0; w < starts.size(); ++w) {
    for (std::int64_t b = starts[w]; b < starts[w] + settings.horizon_bins; ++b) {
      for (std::size_t c = 0; c < plane; ++c)
        observed[w][c] += f.series.counts[static_cast<std::size_t>(b) * plane + c];
    }
    d.addWindow({fc[0][w], fc[1][w]}, observed[w], grid.ownedMask(), settings.epsilon);
  }
  const auto fit = Backtest::fitStack(d);
  expectMaximum(d, fit, Backtest::kAllWindows);
  EXPECT_EQ(wh, fit.weights[0]);
  EXPECT_EQ(wn, fit.weights[1]);
  // Each window's blend with the weights fitted on the other windows, scored and pooled as the models are.
  std::vector<double> coverages;
  for (const double p : settings.coverages_percent) coverages.push_back(p / 100.0);
  std::vector<vigie::verify::WindowScores> loo_scores;
  for (std::size_t w = 0; w < starts.size(); ++w) {
    const auto loo = Backtest::fitStack(d, w);
    EXPECT_EQ(st["weights_per_window_loo"][w]["history"].get<double>(), loo.weights[0]) << w;
    EXPECT_EQ(st["weights_per_window_loo"][w]["naive"].get<double>(), loo.weights[1]) << w;
    std::vector<double> blend(plane, 0.0);
    for (std::size_t m = 0; m < 2; ++m) {
      for (std::size_t c = 0; c < plane; ++c) blend[c] += loo.weights[m] * fc[m][w][c];
    }
    loo_scores.push_back(vigie::verify::scoreWindow(blend, observed[w], grid.ownedMask(), coverages,
                                                    settings.epsilon, settings.reliability_bins));
  }
  EXPECT_EQ(
      vigie::verify::pooledScoresJson(vigie::verify::pool(loo_scores), settings.coverages_percent).dump(),
      st["blend_loo"].dump());
  EXPECT_NE(st["blend_loo"]["log_likelihood_per_event"], ll["blend"]);

  // Fewer than 2 enabled models: the best baseline joins them (alone when none is enabled).
  const auto base = Backtest::run(MPI_COMM_WORLD, lattice(), f.config, f.settings, f.series);
  EXPECT_EQ(base["stacking"]["models"], nlohmann::json::array({base["best_baseline"]}));
  EXPECT_EQ(base["stacking"]["weights"][base["best_baseline"].get<std::string>()].get<double>(), 1.0);
  const auto single_config = f.config.withOverrides({{"models.enabled", "naive"}});
  const auto single = BacktestSettings::fromConfig(single_config, "synthetic");
  const auto one = Backtest::run(MPI_COMM_WORLD, lattice(), single_config, single, f.series);
  const auto one_serial = Backtest::run(MPI_COMM_SELF, lattice(), single_config, single, f.series);
  EXPECT_EQ(one.dump(), one_serial.dump());
  if (one["best_baseline"] != "naive") {
    EXPECT_EQ(one["stacking"]["models"], nlohmann::json::array({"naive", one["best_baseline"]}));
  }
}
