// short2008 PDE cost on 1024^2 and 4096^2 lattices, against the machine's memory bandwidth.
//   BM_Copy / BM_Triad       STREAM-like c = a and a = b + s c on three arrays of 2^25 doubles (768 MiB)
//   BM_ExplicitKernel/N      the explicit stencil kernel (reaction + upwind drift) on this rank's share of
//                            an N x N grid split into row bands (plain arrays, no communication): bytes/s
//                            counted as 41 B per cell (read B, n, A0, mask; write dB, dn) and its fraction
//                            of the triad bandwidth measured first in the same process
//   BM_ModelRhs/N            the model's explicit right-hand side with the ghost exchange (all ranks)
//   BM_ModelStep/N           one full IMEX step (ARKIMEX 3, dt 0.01) of the model (all ranks)
// Run: build/tests/perf/bench_short2008, and mpirun -n 2 for the 1 -> 2 rank speed-up (each rank then works
// on half the grid; only rank 0 reports). Figures go to docs/performance.md with their command.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "cli/Cli.hpp"
#include "core/Config.hpp"
#include "core/Environment.hpp"
#include "grid/CityGrid.hpp"
#include "models/short2008/Short2008Kernel.hpp"
#include "models/short2008/Short2008Model.hpp"

namespace {

using vigie::models::short2008::Coefficients;
using vigie::models::short2008::Layout;

constexpr std::size_t kStreamSize = std::size_t{1} << 25;
constexpr double kKernelBytesPerCell = 41.0;
double g_triad_bytes_per_s = 0.0;

int commSize() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/// Best-of-5 triad bandwidth, bytes/s, STREAM's convention (24 B per element).
double measureTriad() {
  std::vector<double> a(kStreamSize, 1.0), b(kStreamSize, 2.0), c(kStreamSize, 0.5);
  double best = 1e300;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
    for (std::size_t k = 0; k < kStreamSize; ++k) a[k] = b[k] + 3.0 * c[k];
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    benchmark::DoNotOptimize(a.data());
  }
  return 24.0 * static_cast<double>(kStreamSize) / best;
}

void BM_Copy(benchmark::State& state) {
  std::vector<double> a(kStreamSize, 1.0), c(kStreamSize, 0.0);
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::size_t k = 0; k < kStreamSize; ++k) c[k] = a[k];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] = benchmark::Counter(16.0 * static_cast<double>(kStreamSize),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Copy)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Triad(benchmark::State& state) {
  std::vector<double> a(kStreamSize, 1.0), b(kStreamSize, 2.0), c(kStreamSize, 0.5);
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::size_t k = 0; k < kStreamSize; ++k) a[k] = b[k] + 3.0 * c[k];
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] = benchmark::Counter(24.0 * static_cast<double>(kStreamSize),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Triad)->Unit(benchmark::kMillisecond)->UseRealTime();

/// This rank's row band of an n x n grid, with one ghost cell around it, filled with a noisy homogeneous
/// state (every cell active: the kernel's cost does not depend on the mask).
void BM_ExplicitKernel(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int size = commSize();
  Layout l;
  l.i0 = 0;
  l.ni = n;
  l.j0 = rank * (n / size);
  l.nj = n / size;
  l.gi0 = -1;
  l.gj0 = l.j0 - 1;
  l.gni = n + 2;
  l.gnj = l.nj + 2;
  const auto ghosted = static_cast<std::size_t>(l.gni) * static_cast<std::size_t>(l.gnj);
  const auto owned = static_cast<std::size_t>(l.ni) * static_cast<std::size_t>(l.nj);
  std::vector<double> u(2 * ghosted), a0(ghosted, 1.0 / 30.0), f(2 * owned, 0.0);
  std::vector<std::uint8_t> active(ghosted, 1);
  for (std::size_t k = 0; k < ghosted; ++k) {
    u[2 * k] = 0.1596 * (1.0 + 0.5 * std::sin(0.37 * static_cast<double>(k)));
    u[2 * k + 1] = 0.0985;
  }
  const Coefficients c;
  for (auto _ : state) {
    vigie::models::short2008::explicitRhs(c, l, u.data(), a0.data(), active.data(), f.data());
    benchmark::DoNotOptimize(f.data());
    benchmark::ClobberMemory();
  }
  const double bytes = kKernelBytesPerCell * static_cast<double>(owned);
  state.counters["cells"] = static_cast<double>(owned);
  state.counters["bytes_per_s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["triad_fraction"] =
      benchmark::Counter(bytes / g_triad_bytes_per_s, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ExplicitKernel)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

std::unique_ptr<vigie::models::Short2008Model> makeModel(const vigie::grid::CityGrid& g) {
  static const auto options = vigie::cli::buildOptionSet();
  const auto cfg = vigie::core::Config::parse(options, {}, {{"short2008.initial_noise", "0.001"}});
  return std::make_unique<vigie::models::Short2008Model>(vigie::models::ModelContext{g, cfg, 1});
}

vigie::grid::GridSpec lattice(int n) {
  vigie::grid::GridSpec s;
  s.nx = n;
  s.ny = n;
  s.boundary = vigie::grid::Boundary::Periodic;
  return s;
}

// Fixed iteration counts: every rank must call the collective model functions the same number of times.
void BM_ModelRhs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const vigie::grid::CityGrid g(MPI_COMM_WORLD, lattice(n));
  const auto m = makeModel(g);
  for (auto _ : state) m->evaluateExplicit();
  state.counters["cells_per_s"] =
      benchmark::Counter(static_cast<double>(n) * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ModelRhs)->Arg(1024)->Iterations(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ModelRhs)->Arg(4096)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ModelStep(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const vigie::grid::CityGrid g(MPI_COMM_WORLD, lattice(n));
  const auto m = makeModel(g);
  const double dt = m->stepSize();
  m->advance(0.0, dt);  // first step builds the preconditioner
  for (auto _ : state) m->advance(m->time(), m->time() + dt);
  state.counters["cells_per_s"] =
      benchmark::Counter(static_cast<double>(n) * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ModelStep)->Arg(1024)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ModelStep)->Arg(4096)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Discards the output of ranks > 0.
class NullReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  vigie::core::Environment env(argc, argv, {});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_triad_bytes_per_s = measureTriad();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    NullReporter quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  return 0;
}
