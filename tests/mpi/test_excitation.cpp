// The excitation model and the ForecastDriver at 1, 2 and 4 ranks: exact mass decay, exact variance growth,
// bit-identical fields against a one-rank run of the same model on every rank, checkpoint round trip.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>

#include "../support/GatherField.hpp"
#include "cli/Cli.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/OutputDir.hpp"
#include "forecast/ForecastDriver.hpp"
#include "grid/CityGrid.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"

namespace {

using vigie::core::Config;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::models::ModelContext;
using vigie::models::ModelRegistry;

Config makeConfig(std::vector<std::pair<std::string, std::string>> overrides) {
  static const auto options = vigie::cli::buildOptionSet();
  return Config::parse(options, {}, overrides);
}

std::vector<double> owned(const vigie::models::Model& m, const CityGrid& g) {
  std::vector<double> v(g.ownedGlobalIndices().size());
  m.getState("rate", v);
  return v;
}

/// Sets a unit impulse of `mass` events at global cell (ci, cj).
void impulse(vigie::models::Model& m, const CityGrid& g, int ci, int cj, double counts) {
  const auto& b = g.ownedBox();
  std::vector<double> c(g.ownedGlobalIndices().size(), 0.0);
  if (ci >= b.i0 && ci < b.i0 + b.ni && cj >= b.j0 && cj < b.j0 + b.nj)
    c[static_cast<std::size_t>((cj - b.j0) * b.ni + (ci - b.i0))] = counts;
  m.observe(m.time(), m.time(), c);
}

TEST(Excitation, MassDecaysExactlyAndVarianceGrowsAsTwoDt) {
  GridSpec s;
  s.nx = 64;
  s.ny = 48;
  s.boundary = vigie::grid::Boundary::Periodic;
  const CityGrid g(MPI_COMM_WORLD, s);
  const auto cfg = makeConfig({{"excitation.theta", "0.5"},
                               {"excitation.omega_per_day", "0.2"},
                               {"excitation.diffusivity_m2_per_day", "0.5"},
                               {"excitation.max_dt_days", "0.25"}});
  auto m = ModelRegistry::instance().create("excitation", ModelContext{g, cfg, 1});
  impulse(*m, g, 32, 24, 10.0);
  const double mass0 = 10.0 * 0.5 * 0.2;
  m->advance(0.0, 10.0);  // 40 steps of 0.25 days (0.9 h^2 / 4D = 0.45 > 0.25)
  const auto global = vigie::testing::gatherGlobal(g, owned(*m, g));
  double mass = 0, mx = 0, my = 0;
  for (int j = 0; j < 48; ++j)
    for (int i = 0; i < 64; ++i) {
      const double v = global[static_cast<std::size_t>(j * 64 + i)];
      ASSERT_GE(v, 0.0);
      mass += v;
      mx += v * i;
      my += v * j;
    }
  EXPECT_NEAR(mass / (mass0 * std::pow(1.0 - 0.2 * 0.25, 40)), 1.0, 1e-12);
  mx /= mass;
  my /= mass;
  double vx = 0, vy = 0;
  for (int j = 0; j < 48; ++j)
    for (int i = 0; i < 64; ++i) {
      const double v = global[static_cast<std::size_t>(j * 64 + i)];
      vx += v * (i - mx) * (i - mx);
      vy += v * (j - my) * (j - my);
    }
  EXPECT_NEAR(mx, 32.0, 1e-9);
  EXPECT_NEAR(my, 24.0, 1e-9);
  // The explicit 5-point scheme adds exactly 2 D dt of variance per axis and step (no wrap-around yet).
  EXPECT_NEAR(vx / mass, 2.0 * 0.5 * 10.0, 1e-8);
  EXPECT_NEAR(vy / mass, 2.0 * 0.5 * 10.0, 1e-8);
  // Intensity contribution equals the state.
  std::vector<double> inten(g.ownedGlobalIndices().size(), 1.0);
  m->contributeIntensity(inten);
  const auto st = owned(*m, g);
  for (std::size_t k = 0; k < st.size(); ++k) EXPECT_EQ(inten[k], 1.0 + st[k]);
}

TEST(Excitation, ZeroFluxEdgesConserveMassAndAnyDecompositionGivesTheSameBits) {
  GridSpec s;
  s.nx = 37;
  s.ny = 29;
  s.boundary = vigie::grid::Boundary::ZeroFlux;
  const auto cfg = makeConfig({{"excitation.omega_per_day", "0.05"},
                               {"excitation.diffusivity_m2_per_day", "0.2"},
                               {"excitation.initial_rate", "0.3"},
                               {"excitation.initial_noise", "0.5"}});
  const CityGrid g(MPI_COMM_WORLD, s);
  const CityGrid serial(MPI_COMM_SELF, s);
  auto m = ModelRegistry::instance().create("excitation", ModelContext{g, cfg, 77});
  auto ms = ModelRegistry::instance().create("excitation", ModelContext{serial, cfg, 77});
  impulse(*m, g, 0, 0, 3.0);  // a corner: mass must not leak through the edges
  impulse(*ms, serial, 0, 0, 3.0);
  const double mass0 = vigie::testing::gatherGlobal(g, owned(*m, g)).size() > 0 ? [&] {
    const auto v = vigie::testing::gatherGlobal(g, owned(*m, g));
    double t = 0;
    for (const double x : v) t += x;
    return t;
  }() : 0.0;
  for (int day = 0; day < 5; ++day) {
    m->advance(day, day + 1.0);
    ms->advance(day, day + 1.0);
  }
  const auto dist = vigie::testing::gatherGlobal(g, owned(*m, g));
  const auto one = owned(*ms, serial);
  ASSERT_EQ(dist.size(), one.size());
  double mass = 0;
  for (std::size_t k = 0; k < dist.size(); ++k) {
    ASSERT_EQ(dist[k], one[k]) << "cell " << k;  // bit-identical
    mass += dist[k];
  }
  // 5 days at the sub-step 0.1 days (max_dt default): 50 steps of decay 1 - 0.05 * 0.1.
  EXPECT_NEAR(mass / (mass0 * std::pow(1.0 - 0.005, 50)), 1.0, 1e-12);
}

TEST(Excitation, CheckpointRoundTripAtThisRankCount) {
  GridSpec s;
  s.nx = 20;
  s.ny = 13;
  const CityGrid g(MPI_COMM_WORLD, s);
  const auto cfg = makeConfig({{"excitation.initial_rate", "1.0"}, {"excitation.initial_noise", "1.0"}});
  auto m = ModelRegistry::instance().create("excitation", ModelContext{g, cfg, 5});
  m->advance(0.0, 1.5);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const auto path = std::filesystem::path(VIGIE_BINARY_DIR) / "test-output" /
                    ("excitation_ckpt_np" + std::to_string(size) + ".h5");
  {
    const vigie::core::OutputDir out(MPI_COMM_WORLD, path.parent_path());
    auto file = vigie::store::FieldFile::create(MPI_COMM_WORLD, path, g.geometry());
    m->saveCheckpoint(file);
    file.commit();
  }
  auto restored = ModelRegistry::instance().create("excitation", ModelContext{g, cfg, 999});
  const auto file = vigie::store::FieldFile::open(MPI_COMM_WORLD, path);
  restored->loadCheckpoint(file);
  EXPECT_EQ(restored->time(), 1.5);
  EXPECT_EQ(owned(*restored, g), owned(*m, g));
  // Continuing from the checkpoint gives the same state as continuing the original.
  m->advance(1.5, 2.0);
  restored->advance(1.5, 2.0);
  EXPECT_EQ(owned(*restored, g), owned(*m, g));
}

TEST(Excitation, InvalidParametersAreRejected) {
  GridSpec s;
  s.nx = 4;
  s.ny = 4;
  const CityGrid g(MPI_COMM_WORLD, s);
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"excitation.theta", "1.0"},
                                                        {"excitation.omega_per_day", "0"},
                                                        {"excitation.initial_noise", "2"}}) {
    const auto cfg = makeConfig({{k, v}});
    EXPECT_THROW((void)ModelRegistry::instance().create("excitation", ModelContext{g, cfg, 1}),
                 vigie::core::Error)
        << k;
  }
  const auto cfg = makeConfig({});
  EXPECT_THROW((void)ModelRegistry::instance().create("nonexistent", ModelContext{g, cfg, 1}),
               vigie::core::Error);
  auto m = ModelRegistry::instance().create("excitation", ModelContext{g, cfg, 1});
  EXPECT_THROW(m->advance(1.0, 2.0), vigie::core::Error);  // the model is at 0
  EXPECT_THROW(m->advance(0.0, -1.0), vigie::core::Error);
}

TEST(ForecastDriver, WritesMaskObservationsAndIntensitySnapshots) {
  GridSpec s;
  s.nx = 30;
  s.ny = 22;
  const CityGrid g(MPI_COMM_WORLD, s);
  const auto cfg = makeConfig({{"models.enabled", "excitation"},
                               {"run.horizon_days", "2.5"},
                               {"run.output_every_days", "1"},
                               {"excitation.initial_rate", "0.2"},
                               {"excitation.initial_noise", "0.3"}});
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const auto dir =
      std::filesystem::path(VIGIE_BINARY_DIR) / "test-output" / ("driver_np" + std::to_string(size));
  vigie::core::OutputDir out(MPI_COMM_WORLD, dir);
  vigie::core::Provenance prov;
  prov.seed = 11;
  prov.ranks = size;
  vigie::forecast::ForecastDriver driver(g, cfg, prov);
  ASSERT_EQ(driver.models().size(), 1u);
  const auto summary = driver.run(dir);
  EXPECT_EQ(summary.snapshots, 4);  // days 0, 1, 2, 2.5
  const auto file = vigie::store::FieldFile::open(MPI_COMM_WORLD, dir / "vigie_run.h5");
  int nt = 0;
  const auto inten = file.read3d<double>("intensity", g.ownedBox(), &nt);
  ASSERT_EQ(nt, 4);
  // The last snapshot is the model's state now; the sum reported is that field's ordered sum.
  std::vector<double> last(inten.end() - static_cast<long>(g.ownedGlobalIndices().size()), inten.end());
  std::vector<double> state(last.size());
  driver.models()[0]->getState("rate", state);
  EXPECT_EQ(last, state);
  double expected = 0;
  for (const double x : vigie::testing::gatherGlobal(g, state)) expected += x;
  EXPECT_NEAR(summary.final_intensity_sum, expected, 1e-12 * expected);
  EXPECT_TRUE(file.hasField("mask"));
  EXPECT_TRUE(file.hasField("observations"));
  EXPECT_EQ(file.stringAttribute("intensity_times_days"), "0,1,2,2.5");
}

}  // namespace
