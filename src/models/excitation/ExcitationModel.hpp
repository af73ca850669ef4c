#pragma once
/// Self-excitation field on the grid.
///
///   dE/dt = D Lap E - omega E + theta omega sum_k delta(t - t_k) delta_cell(x_k)
///
/// E is the triggered event rate (events per cell per day). Each observed event adds theta * omega to its
/// cell's rate; the rate then decays with mean life 1/omega days and spreads with diffusivity D (m^2/day), so
/// the kernel of one event is exponential in time and Gaussian in space with variance 2 D (t - t_k) per axis:
/// the "exponential-in-time, Gaussian-in-space" SEPP trigger advanced on the grid in O(cells) per step,
/// independent of the number of past events (Mohler et al., JASA 2011; see docs/models.md). theta is the
/// expected number of offspring per event.
///
/// Discretisation: 5-point Laplacian on the cell centres (cell side h), explicit Euler with sub-steps
/// dt <= min(excitation.max_dt_days, 0.9 h^2 / (4 D)) (explicit stability limit 0.25 h^2 / D), edges as the
/// grid's boundary condition (zero-flux or periodic). With zero-flux edges the scheme conserves
/// sum(E) * (1 - omega dt) per step exactly, which the tests check. Each cell's update reads only its
/// neighbours, so results are bit-identical at any rank count.
#include <memory>

#include "grid/Field.hpp"
#include "models/Model.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class ExcitationModel final : public Model {
 public:
  static void declareOptions(core::OptionSet& options);
  /// Collective.
  explicit ExcitationModel(const ModelContext& context);

  [[nodiscard]] std::vector<std::string> stateNames() const override { return {"rate"}; }
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  void contributeIntensity(std::span<double> owned) const override;

  [[nodiscard]] double theta() const noexcept { return m_theta; }
  [[nodiscard]] double omega() const noexcept { return m_omega; }
  [[nodiscard]] double diffusivity() const noexcept { return m_diffusivity; }
  /// Sub-step length used by advance (days).
  [[nodiscard]] double maxStep() const noexcept { return m_max_dt; }

 private:
  void doAdvance(double t0, double t1) override;
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }
  void step(double dt);

  const grid::CityGrid* m_grid;
  double m_theta;
  double m_omega;
  double m_diffusivity;
  double m_max_dt;
  std::unique_ptr<grid::Field> m_rate;
  std::vector<double> m_next;
  mutable std::vector<double> m_scratch;
};

}  // namespace vigie::models
