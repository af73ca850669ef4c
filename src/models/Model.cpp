#include "models/Model.hpp"

#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "core/Timer.hpp"
#include "grid/CityGrid.hpp"
#include "store/FieldFile.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

void Model::advance(double t0, double t1) {
  if (!(std::isfinite(t0) && std::isfinite(t1)) || t1 < t0)
    throw Error(ExitCode::Internal, "model " + m_name + ": advance(" + std::to_string(t0) + ", " +
                                        std::to_string(t1) + ") is not a forward interval");
  if (std::abs(t0 - m_time) > 1e-9 * std::max(1.0, std::abs(m_time)))
    throw Error(ExitCode::Internal, "model " + m_name + ": advance from " + std::to_string(t0) +
                                        " but the model is at " + std::to_string(m_time));
  core::ScopedTimer timer("model " + m_name + " advance");
  if (t1 > t0) doAdvance(t0, t1);
  m_time = t1;
}

void Model::observe(double t0, double t1, std::span<const double> owned_counts) {
  const auto& box = grid().ownedBox();
  if (owned_counts.size() != static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj))
    throw Error(ExitCode::Internal, "model " + m_name + ": observed counts do not match the owned box");
  for (const double c : owned_counts) {
    if (!(c >= 0.0) || !std::isfinite(c))
      throw Error(ExitCode::InputData,
                  "model " + m_name + ": observed counts must be finite and non-negative");
  }
  core::ScopedTimer timer("model " + m_name + " observe");
  doObserve(t0, t1, owned_counts);
}

void Model::expectedEvents(std::span<double> owned, double days) const {
  std::vector<double> rate(owned.size(), 0.0);
  contributeIntensity(rate);
  for (std::size_t c = 0; c < owned.size(); ++c) owned[c] += rate[c] * days;
}

void Model::expectedEventsBetween(std::span<double> owned, double from, double to) const {
  if (!(from >= 0.0 && to >= from))
    throw Error(ExitCode::Internal, "model " + m_name + ": expectedEventsBetween needs 0 <= from <= to");
  std::vector<double> rate(owned.size(), 0.0);
  contributeIntensity(rate);
  for (std::size_t c = 0; c < owned.size(); ++c) owned[c] += rate[c] * (to - from);
}

void Model::fit(std::span<const double> warm) {
  if (!isFitted()) return;
  core::ScopedTimer timer("model " + m_name + " fit");
  doFit(warm);
}

void Model::saveCheckpoint(store::FieldFile& file) const {
  const auto& box = grid().ownedBox();
  std::vector<double> buf(static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj));
  for (const auto& s : stateNames()) {
    getState(s, buf);
    file.write2d<double>(m_name + "." + s, box, buf, store::FieldMeta{"", "state of model " + m_name, 0.0});
  }
  file.setAttribute("model." + m_name + ".time_days", m_time);
}

void Model::loadCheckpoint(const store::FieldFile& file) {
  const auto& box = grid().ownedBox();
  for (const auto& s : stateNames()) {
    const auto name = m_name + "." + s;
    if (!file.hasField(name))
      throw Error(ExitCode::InputData, "checkpoint has no field " + name + " for model " + m_name);
    const auto values = file.read2d<double>(name, box);
    setState(s, values);
  }
  m_time = file.doubleAttribute("model." + m_name + ".time_days");
}

}  // namespace vigie::models
