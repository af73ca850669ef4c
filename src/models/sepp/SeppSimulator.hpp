#pragma once
/// Continuous-time branching simulation of the SEPP model on a CityGrid's area (for recovery tests,
/// benchmarks and `vigie simulate --model sepp`).
///
/// Background: in each active cell c and bin [e_t, e_{t+1}), Poisson(mu(c) exp(beta . z(c, t)) len_t) events,
/// each uniform in the cell and in the bin. Every event has Poisson(theta) children, each at time
/// t + Exp(omega), position x + N(0, sigma_x^2), y + N(0, sigma_y^2) (anisotropic allowed); children have
/// children in turn. Children after the last edge or outside the grid are dropped with their descendants.
///
/// Determinism: the background of (cell g, bin t) draws from RandomStream(seed, g, t); the children of event
/// p from RandomStream(seed, p, childStep). Events are numbered background first (bins in order, cells in
/// global index order), then generation by generation in parent order, so the trajectory is the same on
/// every rank and at every rank count: every rank runs the whole (cheap) simulation and bins only its cells.
#include <cstdint>
#include <span>
#include <vector>

#include "models/sepp/SeppKernel.hpp"

namespace vigie::grid {
class CityGrid;
}

namespace vigie::models::sepp {

/// One simulated event.
struct SeppEvent {
  double x = 0.0;  ///< grid CRS coordinates (metres or lattice units)
  double y = 0.0;
  double t = 0.0;            ///< days
  int generation = 0;        ///< 0 = background
  std::int64_t parent = -1;  ///< index of the parent in the event list, -1 for background
};

/// The truth a simulation is drawn from.
struct SeppTruth {
  SeppParams params;             ///< theta, omega; params.sigma_m is ignored (sigma_x_m, sigma_y_m used)
  double sigma_x_m = 0.0;        ///< trigger displacement SD along x, metres
  double sigma_y_m = 0.0;        ///< along y
  std::vector<double> mu;        ///< background, events per cell per day, whole grid (index j * nx + i)
  std::vector<double> edges;     ///< bin edges, days (nt + 1 increasing values)
  int temporal_count = 0;        ///< number of temporal covariates Kt
  std::vector<double> temporal;  ///< nt * Kt values, index t * Kt + k
  std::vector<double> spatial;   ///< whole grid, nx * ny * Ks values, index (j * nx + i) * Ks + k
};

/// The simulator.
class SeppSimulator {
 public:
  /// Not collective. Checks the truth's sizes against the grid; throws Error(Usage).
  SeppSimulator(const grid::CityGrid& grid, SeppTruth truth);

  /// Not collective. The whole event list (identical on every rank), background first.
  [[nodiscard]] std::vector<SeppEvent> simulate(std::uint64_t seed) const;

  /// Not collective. Counts per bin and owned cell, index t * owned + k (owned-box order), for the given
  /// bin edges; events outside the edges or the grid are not counted.
  [[nodiscard]] std::vector<std::int32_t> binOwned(std::span<const SeppEvent> events,
                                                   std::span<const double> edges) const;

  [[nodiscard]] const SeppTruth& truth() const noexcept { return m_truth; }

  /// The RandomStream step used for an event's children.
  static constexpr std::uint32_t childStep = 0xC0000000u;

 private:
  const grid::CityGrid* m_grid;
  SeppTruth m_truth;
};

}  // namespace vigie::models::sepp
