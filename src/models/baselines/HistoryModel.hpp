#pragma once
/// History baseline: the long-run average rate of each cell.
///
///   lambda(cell) = sum_{observed bins b} n_b(cell) / sum_{observed bins b} T_b
///
/// over every bin observed so far. Missing bins (advanced over, never observed) add no time, so a gap in the
/// data does not dilute the rate. Before any observed time lambda = 0. State: `counts` (cumulative events per
/// cell) and `observed_days` (a scalar stored as a uniform field so it round-trips at any rank count).
#include <vector>

#include "grid/CityGrid.hpp"
#include "models/Model.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class HistoryModel final : public Model {
 public:
  /// The history baseline has no options; declared for symmetry with the other models.
  static void declareOptions(core::OptionSet& options);
  /// Not collective.
  explicit HistoryModel(const ModelContext& context);

  [[nodiscard]] std::vector<std::string> stateNames() const override { return {"counts", "observed_days"}; }
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Not collective.
  void contributeIntensity(std::span<double> owned) const override;

  /// Observed time so far, days.
  [[nodiscard]] double observedDays() const noexcept { return m_days; }

 private:
  void doAdvance(double /*t0*/, double /*t1*/) override {}
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }

  const grid::CityGrid* m_grid;
  std::vector<double> m_counts;
  double m_days = 0.0;
};

}  // namespace vigie::models
