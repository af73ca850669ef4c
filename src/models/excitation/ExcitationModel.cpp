#include "models/excitation/ExcitationModel.hpp"

#include <algorithm>
#include <cmath>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

void ExcitationModel::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("excitation.theta", OptionType::Double, "0.2",
           "expected offspring events per event (0 <= theta < 1)")
      .add("excitation.omega_per_day", OptionType::Double, "0.1",
           "decay rate of the triggered rate, 1/days (mean trigger delay 1/omega)")
      .add("excitation.diffusivity_m2_per_day", OptionType::Double, "2000",
           "spatial spread of the trigger, m^2/day (variance 2 D t per axis); lattice units^2/day on a "
           "lattice")
      .add("excitation.max_dt_days", OptionType::Double, "0.1", "longest explicit sub-step, days")
      .add("excitation.initial_rate", OptionType::Double, "0",
           "initial triggered rate r0 in every active cell, events/cell/day (verification and spin-up)")
      .add("excitation.initial_noise", OptionType::Double, "0",
           "relative amplitude a of the initial perturbation: E0 = r0 (1 + a (2u - 1)), u uniform from the "
           "stream (seed, cell, 0)");
}

ExcitationModel::ExcitationModel(const ModelContext& context)
    : Model("excitation"),
      m_grid(&context.grid),
      m_theta(context.config.getDouble("excitation.theta")),
      m_omega(context.config.getDouble("excitation.omega_per_day")),
      m_diffusivity(context.config.getDouble("excitation.diffusivity_m2_per_day")),
      m_max_dt(context.config.getDouble("excitation.max_dt_days")) {
  if (m_theta < 0.0 || m_theta >= 1.0)
    throw Error(ExitCode::Usage, "excitation.theta must be in [0, 1) (a stationary process)", true);
  if (!(m_omega > 0.0)) throw Error(ExitCode::Usage, "excitation.omega_per_day must be positive", true);
  if (m_diffusivity < 0.0)
    throw Error(ExitCode::Usage, "excitation.diffusivity_m2_per_day must be >= 0", true);
  if (!(m_max_dt > 0.0)) throw Error(ExitCode::Usage, "excitation.max_dt_days must be positive", true);
  const double h = m_grid->spec().cell;
  if (m_diffusivity > 0.0) m_max_dt = std::min(m_max_dt, 0.9 * h * h / (4.0 * m_diffusivity));
  // Forward Euler on the decay term needs omega dt < 1 to keep E non-negative.
  m_max_dt = std::min(m_max_dt, 0.5 / m_omega);
  m_rate = std::make_unique<grid::Field>(*m_grid, "excitation.rate", 0.0);
  const auto& box = m_grid->ownedBox();
  const double r0 = context.config.getDouble("excitation.initial_rate");
  const double noise = context.config.getDouble("excitation.initial_noise");
  if (r0 < 0.0) throw Error(ExitCode::Usage, "excitation.initial_rate must be >= 0", true);
  if (noise < 0.0 || noise > 1.0)
    throw Error(ExitCode::Usage, "excitation.initial_noise must be in [0, 1]", true);
  if (r0 > 0.0) {
    // Keyed by the cell's global index, so the initial field is the same at any decomposition.
    std::vector<double> initial;
    const auto& mask = m_grid->ownedMask();
    std::size_t k = 0;
    for (int j = box.j0; j < box.j0 + box.nj; ++j) {
      for (int i = box.i0; i < box.i0 + box.ni; ++i, ++k) {
        core::RandomStream rng(context.seed, static_cast<std::uint64_t>(m_grid->globalIndex(i, j)), 0);
        const double u = rng.uniform();
        initial.push_back(mask[k] != 0 ? r0 * (1.0 + noise * (2.0 * u - 1.0)) : 0.0);
      }
    }
    m_rate->setOwned(initial);
  }
  m_next.resize(static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj));
  m_scratch.resize(m_next.size());
}

void ExcitationModel::getState(const std::string& state, std::span<double> owned) const {
  if (state != "rate") throw Error(ExitCode::Internal, "excitation has no state '" + state + "'");
  m_rate->getOwned(owned);
}

void ExcitationModel::setState(const std::string& state, std::span<const double> owned) {
  if (state != "rate") throw Error(ExitCode::Internal, "excitation has no state '" + state + "'");
  m_rate->setOwned(owned);
}

void ExcitationModel::contributeIntensity(std::span<double> owned) const {
  if (owned.size() != m_next.size())
    throw Error(ExitCode::Internal, "excitation: intensity span does not match the owned box");
  m_rate->getOwned(m_scratch);
  for (std::size_t k = 0; k < owned.size(); ++k) owned[k] += m_scratch[k];
}

void ExcitationModel::doObserve(double /*t0*/, double /*t1*/, std::span<const double> owned_counts) {
  // Each event adds theta * omega to its cell's rate, so that integrating its exponential decay over time
  // gives theta expected offspring.
  m_rate->getOwned(m_next);
  for (std::size_t k = 0; k < m_next.size(); ++k) m_next[k] += m_theta * m_omega * owned_counts[k];
  m_rate->setOwned(m_next);
}

void ExcitationModel::doAdvance(double t0, double t1) {
  const double span = t1 - t0;
  const auto steps = static_cast<long>(std::ceil(span / m_max_dt - 1e-12));
  const double dt = span / static_cast<double>(std::max(steps, 1L));
  for (long s = 0; s < std::max(steps, 1L); ++s) step(dt);
}

void ExcitationModel::step(double dt) {
  m_rate->updateGhosts();
  const auto& box = m_grid->ownedBox();
  const double h = m_grid->spec().cell;
  const double r = m_diffusivity * dt / (h * h);
  const double decay = 1.0 - m_omega * dt;
  const grid::Field& e = *m_rate;
  // Fixed expression order per cell: the result of a cell depends only on its neighbours' values.
#pragma omp parallel for schedule(static)
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      const double c = e.ghostedUnchecked(i, j);
      const double lap = (e.ghostedUnchecked(i - 1, j) + e.ghostedUnchecked(i + 1, j)) +
                         (e.ghostedUnchecked(i, j - 1) + e.ghostedUnchecked(i, j + 1)) - 4.0 * c;
      m_next[static_cast<std::size_t>(j - box.j0) * static_cast<std::size_t>(box.ni) +
             static_cast<std::size_t>(i - box.i0)] = (c + r * lap) * decay;
    }
  }
  m_rate->setOwned(m_next);
}

}  // namespace vigie::models
