#pragma once
/// Small helpers shared by the baseline models (naive, history, kde, prospective): masking observed counts,
/// scalar values stored as uniform state fields, and the whole-grid gather the smoothing baselines need.
#include <span>
#include <string>
#include <vector>

namespace vigie::grid {
class CityGrid;
}

namespace vigie::models {

/// Not collective. Copy of `owned_counts` with the cells outside the mask set to 0: the baselines describe
/// the study area, so events outside it are not sources of risk.
[[nodiscard]] std::vector<double> maskedCounts(const grid::CityGrid& grid,
                                               std::span<const double> owned_counts);

/// Not collective. Throws Error(Internal) unless [t0, t1) is a finite forward interval.
void checkBin(const std::string& model, double t0, double t1);

/// Not collective. Throws Error(Internal) unless a span has one value per owned cell.
void checkOwnedSize(const std::string& model, const grid::CityGrid& grid, std::size_t size);

/// Not collective. The value of a scalar stored as a uniform state field (every cell holds it, so it
/// round-trips through checkpoints at any rank count). Throws Error(InputData) if the cells disagree.
[[nodiscard]] double uniformValue(const std::string& model, const std::string& state,
                                  std::span<const double> owned);

/// Collective. The whole grid's values (index (j * nx + i) * components + c) on every rank, from each rank's
/// owned values (owned-box order, `components` interleaved values per cell). Placing values by global index
/// makes the result independent of the decomposition.
[[nodiscard]] std::vector<double> gatherWholeGrid(const grid::CityGrid& grid, std::span<const double> owned,
                                                  int components);

}  // namespace vigie::models
