#pragma once
/// Prospective hotspotting baseline (Bowers, Johnson and Pease, Brit. J. Criminol. 44, 2004).
///
///   risk(c) = sum_{events e, d(c, e) <= D, t_e < W} 1 / ((1 + d(c, e)) (1 + t_e))
///   lambda(c) = risk(c) * (N_W / T_W) / sum_{active cells c'} risk(c')
///
/// d(c, e): distance between the centres of cell c and of the event's cell, in cells (Euclidean, so a
/// diagonal neighbour is at sqrt(2)); D = prospective.radius_m / grid.cell_m, in cells. t_e: the event's age
/// in whole weeks at the forecast time, floor((time() - m) / 7) with m the middle of the bin (or daily slot)
/// holding the event, since a bin's events have no finer time. W = prospective.weeks: only events with
/// t_e < W count. The scaling turns the relative risk into an intensity: the map over the active cells sums
/// to N_W / T_W, the events per day in those W weeks of observed time (missing bins add no time). Before any
/// observed time, or with no event in the window, lambda = 0. Events outside the mask are ignored.
///
/// The weeks of weight are kept as a BinRing of ceil(7 W) + 2 daily slots (bins starting on the same day
/// share a slot; state `slot_used`, `slot_k`, `slot_k_start`, `slot_k_end`, `slot_k_days`). Evaluation
/// gathers the temporally weighted counts of the whole grid on every rank and applies the disc of weights
/// 1 / (1 + d) to every cell in global index order: O(cells x disc), bit-identical at any rank count.
#include <vector>

#include "grid/CityGrid.hpp"
#include "models/Model.hpp"
#include "models/baselines/BinRing.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class ProspectiveModel final : public Model {
 public:
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Throws Error(Usage) for a bad prospective.radius_m or prospective.weeks.
  explicit ProspectiveModel(const ModelContext& context);

  [[nodiscard]] std::vector<std::string> stateNames() const override { return m_ring.stateNames(); }
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Collective when the counts or the time changed since the last call (it gathers the whole grid's
  /// weighted counts, on every rank of the grid together); not collective otherwise. Every rank's copy of
  /// the model sees the same observe/advance/setState calls, so all ranks take the same branch.
  void contributeIntensity(std::span<double> owned) const override;

  /// One cell offset of the disc and its weight 1 / (1 + d).
  struct Offset {
    int di;
    int dj;
    double weight;
  };
  /// The disc of offsets within the radius, in the fixed order they are summed (dj, then di, increasing).
  [[nodiscard]] const std::vector<Offset>& disc() const noexcept { return m_disc; }

 private:
  void doAdvance(double t0, double t1) override;
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }
  /// Collective. Recomputes m_cache for time().
  void recompute() const;

  const grid::CityGrid* m_grid;
  int m_weeks;
  std::vector<Offset> m_disc;
  BinRing m_ring;
  mutable std::vector<double> m_cache;
  mutable bool m_dirty = true;
};

}  // namespace vigie::models
