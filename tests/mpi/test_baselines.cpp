// The baseline models (naive, history, kde, prospective) at 1, 2 and 4 ranks: hand-computed intensities on
// small lattices, masks, missing bins, state round trips, bit-identical fields against a one-rank run of the
// same model on every rank, and option validation.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <map>
#include <memory>

#include "../support/GatherField.hpp"
#include "cli/Cli.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/OutputDir.hpp"
#include "grid/CityGrid.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"

namespace {

using vigie::core::Config;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::models::Model;
using vigie::models::ModelContext;
using vigie::models::ModelRegistry;
using Cells = std::map<std::pair<int, int>, double>;

Config makeConfig(std::vector<std::pair<std::string, std::string>> overrides) {
  static const auto options = vigie::cli::buildOptionSet();
  return Config::parse(options, {}, overrides);
}

std::unique_ptr<Model> make(const std::string& name, const CityGrid& g, const Config& cfg) {
  return ModelRegistry::instance().create(name, ModelContext{g, cfg, 1});
}

GridSpec lattice(int nx, int ny) {
  GridSpec s;
  s.nx = nx;
  s.ny = ny;
  return s;
}

/// Owned-box counts with the given events per global cell (i, j).
std::vector<double> ownedCounts(const CityGrid& g, const Cells& events) {
  const auto& b = g.ownedBox();
  std::vector<double> c(g.ownedGlobalIndices().size(), 0.0);
  for (const auto& [cell, n] : events) {
    const auto [i, j] = cell;
    if (i >= b.i0 && i < b.i0 + b.ni && j >= b.j0 && j < b.j0 + b.nj)
      c[static_cast<std::size_t>((j - b.j0) * b.ni + (i - b.i0))] = n;
  }
  return c;
}

/// Observes one bin [t0, t1) and advances over it, as the backtest driver does.
void bin(Model& m, const CityGrid& g, double t0, double t1, const Cells& events) {
  m.observe(t0, t1, ownedCounts(g, events));
  m.advance(t0, t1);
}

/// The model's intensity on the whole grid (index j * nx + i), on every rank.
std::vector<double> intensity(const Model& m, const CityGrid& g) {
  std::vector<double> v(g.ownedGlobalIndices().size(), 0.0);
  m.contributeIntensity(v);
  return vigie::testing::gatherGlobal(g, v);
}

double at(const std::vector<double>& global, const CityGrid& g, int i, int j) {
  return global[static_cast<std::size_t>(j * g.nx() + i)];
}

double total(const std::vector<double>& v) {
  double t = 0.0;
  for (const double x : v) t += x;
  return t;
}

TEST(Baselines, NaiveAveragesTheLastBinsAndDropsTheOldest) {
  const CityGrid g(MPI_COMM_WORLD, lattice(7, 5));
  const auto cfg = makeConfig({{"naive.bins", "2"}});
  auto m = make("naive", g, cfg);
  EXPECT_EQ(total(intensity(*m, g)), 0.0);  // no observed time yet
  bin(*m, g, 0.0, 1.0, {{{1, 1}, 2.0}});
  bin(*m, g, 1.0, 3.0, {{{1, 1}, 1.0}, {{5, 4}, 4.0}});
  auto v = intensity(*m, g);
  EXPECT_DOUBLE_EQ(at(v, g, 1, 1), 3.0 / 3.0);
  EXPECT_DOUBLE_EQ(at(v, g, 5, 4), 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(total(v), 7.0 / 3.0);
  m->advance(3.0, 4.0);  // a missing bin: neither events nor time
  EXPECT_EQ(intensity(*m, g), v);
  bin(*m, g, 4.0, 8.0, {{{5, 4}, 2.0}});  // the bin [0, 1) leaves
  v = intensity(*m, g);
  EXPECT_DOUBLE_EQ(at(v, g, 1, 1), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(at(v, g, 5, 4), 6.0 / 6.0);
  EXPECT_DOUBLE_EQ(total(v), 7.0 / 6.0);
}

TEST(Baselines, HistoryIgnoresMissingBinsAndMaskedCells) {
  CityGrid g(MPI_COMM_WORLD, lattice(7, 5));
  std::vector<std::uint8_t> mask(35, 1);
  mask[static_cast<std::size_t>(3 * 7 + 6)] = 0;  // cell (6, 3) is outside the study area
  g.setMask(mask);
  auto m = make("history", g, makeConfig({}));
  bin(*m, g, 0.0, 1.0, {{{2, 0}, 3.0}, {{6, 3}, 5.0}});
  m->advance(1.0, 5.0);  // missing: its 4 days are not observed time
  bin(*m, g, 5.0, 7.0, {{{2, 0}, 1.0}, {{0, 4}, 6.0}});
  const auto v = intensity(*m, g);
  EXPECT_DOUBLE_EQ(at(v, g, 2, 0), 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(at(v, g, 0, 4), 6.0 / 3.0);
  EXPECT_EQ(at(v, g, 6, 3), 0.0);
  EXPECT_DOUBLE_EQ(total(v), 10.0 / 3.0);
  // contributeIntensity adds to what is there.
  std::vector<double> base(g.ownedGlobalIndices().size(), 1.0);
  m->contributeIntensity(base);
  const auto added = vigie::testing::gatherGlobal(g, base);
  EXPECT_DOUBLE_EQ(at(added, g, 2, 0), 1.0 + 4.0 / 3.0);
  EXPECT_EQ(at(added, g, 3, 3), 1.0);
}

/// Discrete Gaussian of standard deviation s truncated at ceil(4 s), normalised: g(k) for k = 0..R.
std::vector<double> gauss(double s) {
  const int r = static_cast<int>(std::ceil(4.0 * s));
  std::vector<double> g;
  double t = 0.0;
  for (int k = -r; k <= r; ++k) t += std::exp(-0.5 * k * k / (s * s));
  for (int k = 0; k <= r; ++k) g.push_back(std::exp(-0.5 * k * k / (s * s)) / t);
  return g;
}

TEST(Baselines, KdeOfOneEventIsTheNormalisedDiscreteGaussianAndConservesMass) {
  const CityGrid g(MPI_COMM_WORLD, lattice(7, 5));
  auto m = make("kde", g, makeConfig({{"kde.bandwidth_m", "0.5"}}));  // 0.5 cells: R = 2
  bin(*m, g, 0.0, 2.0, {{{3, 2}, 1.0}});                              // the kernel fits inside the grid
  const auto w = gauss(0.5);
  ASSERT_EQ(w.size(), 3u);
  auto v = intensity(*m, g);
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 7; ++i) {
      const int di = std::abs(i - 3), dj = std::abs(j - 2);
      const double expected = (di <= 2 && dj <= 2)
                                  ? w[static_cast<std::size_t>(di)] * w[static_cast<std::size_t>(dj)] / 2.0
                                  : 0.0;
      EXPECT_NEAR(at(v, g, i, j), expected, 1e-15) << i << "," << j;
    }
  EXPECT_NEAR(total(v), 0.5, 1e-15);
  // A corner event: the kernel mass inside the grid is (g0 + g1 + g2)^2; it is renormalised to 1.
  bin(*m, g, 2.0, 4.0, {{{0, 0}, 2.0}});
  v = intensity(*m, g);
  const double mass = (w[0] + w[1] + w[2]) * (w[0] + w[1] + w[2]);
  EXPECT_NEAR(total(v), 3.0 / 4.0, 1e-14);
  EXPECT_NEAR(at(v, g, 0, 0), 2.0 * w[0] * w[0] / mass / 4.0, 1e-15);
  EXPECT_NEAR(at(v, g, 1, 1), (2.0 * w[1] * w[1] / mass + w[2] * w[1]) / 4.0, 1e-15);
}

TEST(Baselines, KdeWindowKeepsOnlyRecentBins) {
  const CityGrid g(MPI_COMM_WORLD, lattice(7, 5));
  auto m = make("kde", g, makeConfig({{"kde.bandwidth_m", "0.5"}, {"kde.window_days", "3"}}));
  bin(*m, g, 0.0, 1.0, {{{1, 1}, 1.0}});
  bin(*m, g, 1.0, 2.0, {{{4, 2}, 3.0}});
  auto v = intensity(*m, g);
  EXPECT_NEAR(total(v), 4.0 / 2.0, 1e-14);
  m->advance(2.0, 4.0);  // [0, 1) has its middle 3.5 days ago: out; [1, 2) 2.5 days ago: in
  v = intensity(*m, g);
  const auto w = gauss(0.5);
  EXPECT_NEAR(total(v), 3.0 / 1.0, 1e-14);
  EXPECT_NEAR(at(v, g, 4, 2), 3.0 * w[0] * w[0], 1e-14);
  EXPECT_EQ(at(v, g, 1, 1), 0.0);
}

TEST(Baselines, ProspectiveWeightsByDistanceAndAgeAndScalesToTheRecentRate) {
  CityGrid g(MPI_COMM_WORLD, lattice(7, 5));
  auto m = make("prospective", g, makeConfig({{"prospective.radius_m", "2"}, {"prospective.weeks", "2"}}));
  bin(*m, g, 0.0, 7.0, {{{1, 2}, 1.0}});   // middle day 3.5
  bin(*m, g, 7.0, 14.0, {{{4, 2}, 1.0}});  // middle day 10.5
  // At day 14 the first event is 10.5 days old (t = 1 week), the second 3.5 (t = 0).
  const auto risk = [](double d1, double d2) {
    return (d1 <= 2.0 ? 1.0 / ((1.0 + d1) * 2.0) : 0.0) + (d2 <= 2.0 ? 1.0 / (1.0 + d2) : 0.0);
  };
  double q = 0.0;
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 7; ++i) q += risk(std::hypot(i - 1, j - 2), std::hypot(i - 4, j - 2));
  auto v = intensity(*m, g);
  const double scale = (2.0 / 14.0) / q;
  EXPECT_NEAR(total(v), 2.0 / 14.0, 1e-15);
  EXPECT_NEAR(at(v, g, 2, 2), (1.0 / 4.0 + 1.0 / 3.0) * scale, 1e-15);         // d1 = 1, d2 = 2
  EXPECT_NEAR(at(v, g, 3, 3), (1.0 / (1.0 + std::sqrt(2.0))) * scale, 1e-15);  // d1 = sqrt 5 > 2
  EXPECT_NEAR(at(v, g, 1, 2), (1.0 / 2.0) * scale, 1e-15);                     // d2 = 3 > 2
  EXPECT_EQ(at(v, g, 6, 0), 0.0);                                              // d2 = sqrt 8 > 2
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 7; ++i)
      EXPECT_NEAR(at(v, g, i, j), risk(std::hypot(i - 1, j - 2), std::hypot(i - 4, j - 2)) * scale, 1e-15);
  // At day 21 the first event is 17.5 days old (t = 2 = prospective.weeks: out); the window holds the second
  // event in 7 observed days, each cell weighted 1/2 * 1/(1 + d2).
  m->advance(14.0, 21.0);
  v = intensity(*m, g);
  EXPECT_NEAR(total(v), 1.0 / 7.0, 1e-15);
  EXPECT_EQ(at(v, g, 1, 2), 0.0);
  EXPECT_NEAR(at(v, g, 4, 2) / at(v, g, 5, 3), (1.0 + std::sqrt(2.0)), 1e-13);
  // Masked cells report 0, their events are ignored, and the map over the active cells still sums to the
  // recent rate.
  std::vector<std::uint8_t> mask(35, 1);
  mask[static_cast<std::size_t>(2 * 7 + 5)] = 0;
  g.setMask(mask);
  auto masked =
      make("prospective", g, makeConfig({{"prospective.radius_m", "2"}, {"prospective.weeks", "2"}}));
  bin(*masked, g, 0.0, 7.0, {{{4, 2}, 1.0}, {{5, 2}, 3.0}});
  v = intensity(*masked, g);
  EXPECT_EQ(at(v, g, 5, 2), 0.0);
  EXPECT_NEAR(total(v), 1.0 / 7.0, 1e-15);
  EXPECT_NEAR(at(v, g, 4, 2) / at(v, g, 6, 2), 3.0, 1e-13);  // d = 0 against d = 2
}

/// Bins of varying length with a missing one, events from a fixed hash of (bin, cell).
void drive(Model& m, const CityGrid& g) {
  const double edges[] = {0.0, 1.0, 2.5, 3.0, 3.25, 10.0, 17.0, 18.0, 48.0, 49.5};
  for (int b = 0; b + 1 < 10; ++b) {
    if (b == 5) {  // missing
      m.advance(edges[b], edges[b + 1]);
      continue;
    }
    Cells events;
    for (int j = 0; j < g.ny(); ++j)
      for (int i = 0; i < g.nx(); ++i) {
        const unsigned h = static_cast<unsigned>((i * 73856093) ^ (j * 19349663) ^ (b * 83492791)) % 23u;
        if (h < 3) events[{i, j}] = static_cast<double>(h + 1);
      }
    bin(m, g, edges[b], edges[b + 1], events);
  }
}

struct Variant {
  std::string model;
  std::vector<std::pair<std::string, std::string>> options;
};

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v{
      {"naive", {{"naive.bins", "3"}}},
      {"history", {}},
      {"kde", {{"kde.bandwidth_m", "2.3"}}},
      {"kde", {{"kde.bandwidth_m", "1.1"}, {"kde.window_days", "20"}}},
      {"prospective", {{"prospective.radius_m", "3"}, {"prospective.weeks", "3"}}}};
  return v;
}

TEST(Baselines, AnyDecompositionGivesTheSameBits) {
  const auto spec = lattice(23, 17);
  const CityGrid g(MPI_COMM_WORLD, spec);
  const CityGrid serial(MPI_COMM_SELF, spec);
  for (const auto& var : variants()) {
    const auto cfg = makeConfig(var.options);
    auto m = make(var.model, g, cfg);
    auto ms = make(var.model, serial, cfg);
    drive(*m, g);
    drive(*ms, serial);
    const auto dist = intensity(*m, g);
    const auto one = intensity(*ms, serial);
    ASSERT_EQ(dist.size(), one.size());
    double sum = 0.0;
    for (std::size_t k = 0; k < dist.size(); ++k) {
      ASSERT_EQ(dist[k], one[k]) << var.model << " cell " << k;
      ASSERT_TRUE(std::isfinite(dist[k]) && dist[k] >= 0.0);
      sum += dist[k];
    }
    EXPECT_GT(sum, 0.0) << var.model;
  }
}

TEST(Baselines, StateRoundTripsThroughGetSetStateAndCheckpoints) {
  const CityGrid g(MPI_COMM_WORLD, lattice(11, 9));
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (const auto& var : variants()) {
    const auto cfg = makeConfig(var.options);
    auto m = make(var.model, g, cfg);
    drive(*m, g);
    const double now = m->time();
    // get/setState into a fresh model brought to the same time.
    auto copy = make(var.model, g, cfg);
    copy->advance(0.0, now);
    std::vector<double> buf(g.ownedGlobalIndices().size());
    for (const auto& s : m->stateNames()) {
      m->getState(s, buf);
      copy->setState(s, buf);
    }
    EXPECT_EQ(intensity(*copy, g), intensity(*m, g)) << var.model;
    // Through a checkpoint file.
    const auto path = std::filesystem::path(VIGIE_BINARY_DIR) / "test-output" /
                      ("baselines_" + var.model + "_" + std::to_string(var.options.size()) + "_np" +
                       std::to_string(size) + ".h5");
    {
      const vigie::core::OutputDir out(MPI_COMM_WORLD, path.parent_path());
      auto file = vigie::store::FieldFile::create(MPI_COMM_WORLD, path, g.geometry());
      m->saveCheckpoint(file);
      file.commit();
    }
    auto restored = make(var.model, g, cfg);
    restored->loadCheckpoint(vigie::store::FieldFile::open(MPI_COMM_WORLD, path));
    EXPECT_EQ(restored->time(), now);
    EXPECT_EQ(intensity(*restored, g), intensity(*m, g)) << var.model;
    // All three continue identically.
    for (auto* x : {m.get(), copy.get(), restored.get()}) bin(*x, g, now, now + 2.0, {{{3, 4}, 2.0}});
    const auto expected = intensity(*m, g);
    EXPECT_EQ(intensity(*copy, g), expected) << var.model;
    EXPECT_EQ(intensity(*restored, g), expected) << var.model;
  }
}

TEST(Baselines, InvalidOptionsAndStatesAreRejected) {
  const CityGrid g(MPI_COMM_WORLD, lattice(5, 4));
  for (const auto& [model, key, value] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"naive", "naive.bins", "0"},
           {"kde", "kde.bandwidth_m", "0"},
           {"kde", "kde.bandwidth_m", "-5"},
           {"kde", "kde.window_days", "-1"},
           {"prospective", "prospective.weeks", "0"},
           {"prospective", "prospective.radius_m", "-1"}}) {
    const auto cfg = makeConfig({{key, value}});
    EXPECT_THROW((void)make(model, g, cfg), vigie::core::Error) << key << "=" << value;
  }
  const auto cfg = makeConfig({});
  std::vector<double> buf(g.ownedGlobalIndices().size(), 1.0);
  for (const std::string model : {"naive", "history", "kde", "prospective"}) {
    auto m = make(model, g, cfg);
    EXPECT_THROW(m->setState("no_such_state", buf), vigie::core::Error) << model;
    EXPECT_THROW(m->observe(1.0, 0.5, buf), vigie::core::Error) << model;  // backward bin
  }
  // A scalar state whose cells disagree, and a slot count beyond the ring.
  auto h = make("history", g, cfg);
  std::vector<double> uneven = buf;
  uneven.back() = 2.0;
  if (uneven.size() > 1) {
    EXPECT_THROW(h->setState("observed_days", uneven), vigie::core::Error);
  }
  auto n = make("naive", g, cfg);
  std::vector<double> many(buf.size(), 5.0);  // naive.bins = 4
  EXPECT_THROW(n->setState("bin_used", many), vigie::core::Error);
  // Bins observed out of order.
  auto p = make("prospective", g, cfg);
  p->observe(0.0, 7.0, buf);
  EXPECT_THROW(p->observe(3.0, 4.0, buf), vigie::core::Error);
}

}  // namespace
