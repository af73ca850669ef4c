// SEPP fit cost per EM iteration on a 256 x 256 grid of 100 m cells with daily bins over a year, for 10^4,
// 10^5 and 10^6 simulated events (theta 0.5, omega 0.2 / day, sigma 200 m; mu set to hit the count).
// Run: build/tests/perf/bench_sepp [--benchmark_filter=...]; figures go to docs/performance.md.
// Second argument: 0 = automatic filter choice, 1 = always the dense separable filter.
#include <benchmark/benchmark.h>

#include <chrono>

#include "core/Environment.hpp"
#include "grid/CityGrid.hpp"
#include "models/sepp/SeppFit.hpp"
#include "models/sepp/SeppSimulator.hpp"

namespace {

using namespace vigie::models::sepp;

void BM_SeppEmIteration(benchmark::State& state) {
  const auto events = static_cast<double>(state.range(0));
  vigie::grid::GridSpec spec;
  spec.nx = 256;
  spec.ny = 256;
  spec.cell = 100.0;
  const vigie::grid::CityGrid g(MPI_COMM_WORLD, spec);
  SeppTruth tr;
  tr.params.theta = 0.5;
  tr.params.omega = 0.2;
  tr.sigma_x_m = tr.sigma_y_m = 200.0;
  for (int d = 0; d <= 365; ++d) tr.edges.push_back(d);
  tr.mu.assign(256 * 256, events * (1.0 - tr.params.theta) / (256.0 * 256.0 * 365.0));
  const SeppSimulator sim(g, tr);
  const auto list = sim.simulate(7);
  SeppData data;
  data.edges = tr.edges;
  data.counts = sim.binOwned(list, tr.edges);
  const SeppFit fit(g, data);
  SeppFitOptions o;
  o.initial.theta = 0.4;
  o.initial.omega = 0.3;
  o.initial.sigma_m = 150.0;
  o.max_iter = 3;
  o.tol = 0.0;
  o.standard_errors = false;
  o.goodness_of_fit = false;
  o.filter = state.range(1) == 0 ? SeppFilterMode::Auto : SeppFilterMode::Dense;
  double seconds = 0.0;
  int iterations = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = fit.fit(o);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    iterations += static_cast<int>(res.log_likelihood.size());
    benchmark::DoNotOptimize(res.params.theta);
  }
  state.counters["events"] = static_cast<double>(fit.eventCount());
  state.counters["s_per_em_iteration"] = seconds / iterations;
}
BENCHMARK(BM_SeppEmIteration)
    ->ArgsProduct({{10000, 100000, 1000000}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  vigie::core::Environment env(argc, argv, {});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
