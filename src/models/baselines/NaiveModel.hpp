#pragma once
/// Naive baseline: the recent rate of each cell.
///
///   lambda(cell) = sum_{b in last N observed bins} n_b(cell) / sum_{b in last N observed bins} T_b
///
/// n_b: events of bin b in the cell; T_b: the bin's duration in days. Only observed bins count: a missing bin
/// (advanced over, never observed) adds neither events nor time. Before any observed time lambda = 0.
/// N = naive.bins. The last N bins are kept in a BinRing (state `bin_used`, `bin_k`, `bin_k_start`,
/// `bin_k_end`, `bin_k_days`, k = 0 oldest; the scalars are uniform fields), one slot per observe call.
#include "grid/CityGrid.hpp"
#include "models/Model.hpp"
#include "models/baselines/BinRing.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class NaiveModel final : public Model {
 public:
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Throws Error(Usage) for a bad naive.bins.
  explicit NaiveModel(const ModelContext& context);

  [[nodiscard]] std::vector<std::string> stateNames() const override { return m_ring.stateNames(); }
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Not collective.
  void contributeIntensity(std::span<double> owned) const override;

  /// Number of bins averaged (naive.bins).
  [[nodiscard]] std::size_t bins() const noexcept { return m_ring.capacity(); }

 private:
  void doAdvance(double /*t0*/, double /*t1*/) override {}
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }

  const grid::CityGrid* m_grid;
  BinRing m_ring;
};

}  // namespace vigie::models
