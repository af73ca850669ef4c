#pragma once
/// KDE baseline: a Gaussian kernel density of past events, computed on the grid.
///
///   lambda(i, j) = (1 / T) sum_{i', j'} n(i', j') K(i - i', j - j') / M(i', j'),
///   K(di, dj) = g(di) g(dj),   g(k) = exp(-k^2 / (2 s^2)) / sum_{|m| <= R} exp(-m^2 / (2 s^2)),  |k| <= R
///
/// n: events per cell observed in the window (every observed bin, or with kde.window_days = W > 0 the bins
/// whose middle is less than W days old), T: the observed days in that window (missing bins add no time),
/// s = kde.bandwidth_m / grid.cell_m in cells, R = ceil(4 s) (the kernel is truncated at 4 sigma and the
/// truncated kernel normalised to 1). M(i', j') = Mx(i') My(j') is the kernel mass of a source cell that
/// falls inside the grid: dividing by it keeps each event's total mass on the grid equal to 1, so cells near
/// the grid's edge are not penalised and the grid total is n / T exactly (up to rounding). The grid is
/// treated as bounded whatever grid.boundary says. Mass that lands on cells outside the mask is not
/// redistributed (those cells report 0); events outside the mask are ignored.
///
/// The 2-D kernel is separable, so the smoothing is a 1-D convolution along x then along y: O(cells R), not
/// O(events^2). Each rank gathers the whole grid's counts and smooths its own box; every cell's sums run over
/// global indices in a fixed order, so the result is bit-identical at any rank count.
///
/// State: without a window `counts` (cumulative events per cell) and `observed_days` (a uniform field); with
/// a window a BinRing of ceil(W) + 2 daily slots (`slot_used`, `slot_k`, `slot_k_start`, `slot_k_end`,
/// `slot_k_days`; bins starting on the same day share a slot).
#include <memory>
#include <vector>

#include "grid/CityGrid.hpp"
#include "models/Model.hpp"
#include "models/baselines/BinRing.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class KdeModel final : public Model {
 public:
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Throws Error(Usage) for a bad kde.bandwidth_m or kde.window_days.
  explicit KdeModel(const ModelContext& context);

  [[nodiscard]] std::vector<std::string> stateNames() const override;
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Collective when the counts or the window changed since the last call (it gathers the whole grid's
  /// counts, on every rank of the grid together); not collective otherwise. Every rank's copy of the model
  /// sees the same observe/advance/setState calls, so all ranks take the same branch.
  void contributeIntensity(std::span<double> owned) const override;

  /// Kernel standard deviation in cells, and the truncation radius R in cells.
  [[nodiscard]] double sigmaCells() const noexcept { return m_sigma; }
  [[nodiscard]] int radiusCells() const noexcept { return m_radius; }
  /// The normalised 1-D kernel g(-R..R).
  [[nodiscard]] const std::vector<double>& kernel() const noexcept { return m_kernel; }

 private:
  void doAdvance(double t0, double t1) override;
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }
  /// Collective. Recomputes m_cache from the windowed counts.
  void recompute() const;

  const grid::CityGrid* m_grid;
  double m_sigma;
  int m_radius;
  double m_window;
  std::vector<double> m_kernel;
  std::vector<double> m_mass_x;  ///< in-grid kernel mass of a source in column i
  std::vector<double> m_mass_y;  ///< ... and in row j
  std::vector<double> m_counts;  ///< cumulative counts (no window)
  double m_days = 0.0;           ///< cumulative observed days (no window)
  std::unique_ptr<BinRing> m_ring;
  mutable std::vector<double> m_cache;
  mutable bool m_dirty = true;
};

}  // namespace vigie::models
