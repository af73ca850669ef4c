#include "models/baselines/NaiveModel.hpp"

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

namespace {

std::size_t binsFromConfig(const core::Config& config) {
  const auto n = config.getInt("naive.bins");
  if (n < 1 || n > 10000) throw Error(ExitCode::Usage, "naive.bins must be in [1, 10000]", true);
  return static_cast<std::size_t>(n);
}

}  // namespace

void NaiveModel::declareOptions(core::OptionSet& options) {
  options.add("naive.bins", core::OptionType::Int, "4",
              "naive baseline: number of most recent observed bins whose counts are averaged (1..10000)");
}

NaiveModel::NaiveModel(const ModelContext& context)
    : Model("naive"),
      m_grid(&context.grid),
      m_ring("naive", "bin", binsFromConfig(context.config), context.grid.ownedMask().size(), false) {}

void NaiveModel::getState(const std::string& state, std::span<double> owned) const {
  if (!m_ring.getState(state, owned)) throw Error(ExitCode::Internal, "naive has no state '" + state + "'");
}

void NaiveModel::setState(const std::string& state, std::span<const double> owned) {
  if (!m_ring.setState(state, owned)) throw Error(ExitCode::Internal, "naive has no state '" + state + "'");
}

void NaiveModel::doObserve(double t0, double t1, std::span<const double> owned_counts) {
  checkBin(name(), t0, t1);
  m_ring.push(t0, t1, maskedCounts(*m_grid, owned_counts), true);
}

void NaiveModel::contributeIntensity(std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  double days = 0.0;
  for (std::size_t b = 0; b < m_ring.size(); ++b) days += m_ring.slot(b).days;
  if (!(days > 0.0)) return;
  const auto& mask = m_grid->ownedMask();
  for (std::size_t k = 0; k < owned.size(); ++k) {
    if (mask[k] == 0) continue;
    // Oldest to newest: a fixed order, so a restored model gives the same bits.
    double n = 0.0;
    for (std::size_t b = 0; b < m_ring.size(); ++b) n += m_ring.slot(b).counts[k];
    owned[k] += n / days;
  }
}

}  // namespace vigie::models
