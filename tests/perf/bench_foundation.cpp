// Benchmarks of the foundation's hot paths: the explicit excitation step (a 5-point stencil with a ghost
// exchange), the ghost exchange alone, rasterising the Marseille outline and the counter-based RNG.
// Run: build/tests/perf/bench_foundation [--benchmark_filter=...]; figures go to docs/performance.md.
#include <benchmark/benchmark.h>

#include "cli/Cli.hpp"
#include "core/Config.hpp"
#include "core/Environment.hpp"
#include "core/Rng.hpp"
#include "geo/GeoJson.hpp"
#include "geo/Rasterize.hpp"
#include "grid/CityGrid.hpp"
#include "grid/Field.hpp"
#include "models/ModelRegistry.hpp"

namespace {

vigie::grid::GridSpec square(int n) {
  vigie::grid::GridSpec s;
  s.nx = n;
  s.ny = n;
  return s;
}

void BM_ExcitationStep(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const vigie::grid::CityGrid g(MPI_COMM_WORLD, square(n));
  static const auto options = vigie::cli::buildOptionSet();
  const auto cfg = vigie::core::Config::parse(options, {},
                                              {{"excitation.initial_rate", "1"},
                                               {"excitation.initial_noise", "0.5"},
                                               {"excitation.diffusivity_m2_per_day", "0.2"},
                                               {"excitation.max_dt_days", "1"}});
  auto m = vigie::models::ModelRegistry::instance().create("excitation", {g, cfg, 1});
  double t = 0;
  for (auto _ : state) {
    m->advance(t, t + 1.0);  // one sub-step: 0.9 h^2 / (4 D) > 1 day
    t += 1.0;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n) * n);
  state.counters["cells"] = static_cast<double>(n) * n;
}
BENCHMARK(BM_ExcitationStep)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);

void BM_GhostExchange(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const vigie::grid::CityGrid g(MPI_COMM_WORLD, square(n));
  vigie::grid::Field f(g, "f", 1.0);
  for (auto _ : state) f.updateGhosts();
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n) * n);
}
BENCHMARK(BM_GhostExchange)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);

void BM_RasterizeMarseille(benchmark::State& state) {
  auto gj = vigie::geo::readGeoJson(std::filesystem::path(VIGIE_SOURCE_DIR) /
                                    "inputs/marseille/commune_outline.geojson");
  vigie::geo::transform(gj, 2154);
  std::vector<vigie::geo::Polygon> polys;
  for (const auto& f : gj.features) polys.insert(polys.end(), f.polygons.begin(), f.polygons.end());
  const double cell = static_cast<double>(state.range(0));
  const int nx = static_cast<int>(24600 / cell);
  const int ny = static_cast<int>(25100 / cell);
  for (auto _ : state) {
    auto mask = vigie::geo::rasterizePolygons(polys, 881100, 6232800, cell, 0, 0, nx, ny);
    benchmark::DoNotOptimize(mask.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(nx) * ny);
}
BENCHMARK(BM_RasterizeMarseille)->Arg(100)->Arg(25)->Unit(benchmark::kMillisecond);

void BM_RngUniform(benchmark::State& state) {
  std::uint64_t id = 0;
  double sink = 0;
  for (auto _ : state) {
    vigie::core::RandomStream r(42, id++, 0);
    sink += r.uniform();
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RngUniform);

}  // namespace

int main(int argc, char** argv) {
  vigie::core::Environment env(argc, argv, {});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
