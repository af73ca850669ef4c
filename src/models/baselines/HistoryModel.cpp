#include "models/baselines/HistoryModel.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

void HistoryModel::declareOptions(core::OptionSet& /*options*/) {}

HistoryModel::HistoryModel(const ModelContext& context)
    : Model("history"), m_grid(&context.grid), m_counts(context.grid.ownedMask().size(), 0.0) {}

void HistoryModel::getState(const std::string& state, std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (state == "counts")
    std::copy(m_counts.begin(), m_counts.end(), owned.begin());
  else if (state == "observed_days")
    std::fill(owned.begin(), owned.end(), m_days);
  else
    throw Error(ExitCode::Internal, "history has no state '" + state + "'");
}

void HistoryModel::setState(const std::string& state, std::span<const double> owned) {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (state == "counts") {
    for (const double c : owned)
      if (!(c >= 0.0) || !std::isfinite(c))
        throw Error(ExitCode::InputData, "history: state 'counts' has a negative or non-finite count");
    std::copy(owned.begin(), owned.end(), m_counts.begin());
  } else if (state == "observed_days") {
    const double days = uniformValue(name(), state, owned);
    if (days < 0.0) throw Error(ExitCode::InputData, "history: state 'observed_days' is negative");
    m_days = days;
  } else {
    throw Error(ExitCode::Internal, "history has no state '" + state + "'");
  }
}

void HistoryModel::doObserve(double t0, double t1, std::span<const double> owned_counts) {
  checkBin(name(), t0, t1);
  const auto counts = maskedCounts(*m_grid, owned_counts);
  for (std::size_t k = 0; k < counts.size(); ++k) m_counts[k] += counts[k];
  m_days += t1 - t0;
}

void HistoryModel::contributeIntensity(std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (!(m_days > 0.0)) return;
  const auto& mask = m_grid->ownedMask();
  for (std::size_t k = 0; k < owned.size(); ++k)
    if (mask[k] != 0) owned[k] += m_counts[k] / m_days;
}

}  // namespace vigie::models
