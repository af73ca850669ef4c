// Agent model (Short et al. 2008 discrete lattice model): agent updates per second for 10^6 and 10^7 agents
// on a periodic lattice with one agent per site (1000^2 and 3163^2 sites), paper parameters of set (c)
// (eta 0.03, theta 0.56, Gamma 0.019, omega 1/15, A0 1/30, dt 0.01) with B at its homogeneous value.
// One update is one agent's step (offence draw, biased walk, migration); the per-site work of the step
// (births, B update, ghost exchange) is included in the time, so the figure is the whole model's rate.
// Run: mpirun -np <ranks> build/tests/perf/bench_agents (OMP_NUM_THREADS sets the threads per rank);
// figures go to docs/performance.md.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <chrono>
#include <cmath>

#include "core/Environment.hpp"
#include "grid/CityGrid.hpp"
#include "models/agents/AgentModel.hpp"

namespace {

void BM_AgentSteps(benchmark::State& state) {
  const auto agents = static_cast<double>(state.range(0));
  const int side = static_cast<int>(std::lround(std::sqrt(agents)));
  vigie::grid::GridSpec spec;
  spec.nx = side;
  spec.ny = side;
  spec.boundary = vigie::grid::Boundary::Periodic;
  const vigie::grid::CityGrid g(MPI_COMM_WORLD, spec);
  vigie::models::AgentParams p;  // set (c)
  p.initial_per_site = 1.0;
  vigie::models::AgentModel m(g, p, 42);
  const int steps = 10;
  double seconds = 0.0;
  double updates = 0.0;
  double t = 0.0;
  for (auto _ : state) {
    const double before = static_cast<double>(m.counts().agents);
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t0 = std::chrono::steady_clock::now();
    m.advance(t, t + steps * p.dt);
    MPI_Barrier(MPI_COMM_WORLD);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t += steps * p.dt;
    // Agents change by births minus offences only: the mean of the counts before and after is the number
    // of agents stepped, to 1e-3.
    updates += 0.5 * (before + static_cast<double>(m.counts().agents)) * steps;
  }
  state.counters["agents"] = static_cast<double>(m.counts().agents);
  state.counters["sites"] = static_cast<double>(side) * side;
  state.counters["s_per_step"] = seconds / (steps * static_cast<double>(state.iterations()));
  state.counters["agent_updates_per_s"] = updates / seconds;
}
BENCHMARK(BM_AgentSteps)->Arg(1000000)->Arg(10000000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  vigie::core::Environment env(argc, argv, {});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
