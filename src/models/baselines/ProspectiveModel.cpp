#include "models/baselines/ProspectiveModel.hpp"

#include <algorithm>
#include <cmath>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

namespace {

int weeksFromConfig(const core::Config& config) {
  const auto w = config.getInt("prospective.weeks");
  if (w < 1 || w > 520) throw Error(ExitCode::Usage, "prospective.weeks must be in [1, 520]", true);
  return static_cast<int>(w);
}

}  // namespace

void ProspectiveModel::declareOptions(core::OptionSet& options) {
  options
      .add("prospective.radius_m", core::OptionType::Double, "400",
           "prospective baseline: events further than this from a cell's centre (centre to centre, metres; "
           "lattice units on a lattice) add no risk to it")
      .add("prospective.weeks", core::OptionType::Int, "8",
           "prospective baseline: events of the last this many whole weeks add risk 1/((1+d)(1+t)) (1..520)");
}

ProspectiveModel::ProspectiveModel(const ModelContext& context)
    : Model("prospective"),
      m_grid(&context.grid),
      m_weeks(weeksFromConfig(context.config)),
      m_ring("prospective", "slot", static_cast<std::size_t>(7 * m_weeks) + 2,
             context.grid.ownedMask().size(), true) {
  const double radius_m = context.config.getDouble("prospective.radius_m");
  if (!(radius_m >= 0.0) || !std::isfinite(radius_m))
    throw Error(ExitCode::Usage, "prospective.radius_m must be >= 0", true);
  const double radius = radius_m / m_grid->spec().cell;
  // A relative tolerance keeps a cell exactly at the radius (400 m at 100 m cells) inside the disc.
  const double r2 = radius * radius * (1.0 + 1e-12);
  const int reach = static_cast<int>(std::min(std::floor(radius * (1.0 + 1e-12)),
                                              static_cast<double>(std::max(m_grid->nx(), m_grid->ny()))));
  for (int dj = -reach; dj <= reach; ++dj)
    for (int di = -reach; di <= reach; ++di)
      if (static_cast<double>(di * di + dj * dj) <= r2)
        m_disc.push_back({di, dj, 1.0 / (1.0 + std::sqrt(static_cast<double>(di * di + dj * dj)))});
  m_cache.assign(context.grid.ownedMask().size(), 0.0);
}

void ProspectiveModel::getState(const std::string& state, std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (!m_ring.getState(state, owned))
    throw Error(ExitCode::Internal, "prospective has no state '" + state + "'");
}

void ProspectiveModel::setState(const std::string& state, std::span<const double> owned) {
  checkOwnedSize(name(), *m_grid, owned.size());
  m_dirty = true;
  if (!m_ring.setState(state, owned))
    throw Error(ExitCode::Internal, "prospective has no state '" + state + "'");
}

void ProspectiveModel::doObserve(double t0, double t1, std::span<const double> owned_counts) {
  checkBin(name(), t0, t1);
  m_ring.dropOlderThan(t0, 7.0 * m_weeks);
  m_ring.push(t0, t1, maskedCounts(*m_grid, owned_counts), false);
  m_dirty = true;
}

void ProspectiveModel::doAdvance(double /*t0*/, double t1) {
  m_ring.dropOlderThan(t1, 7.0 * m_weeks);
  // The weights depend on the ages, which change with time.
  m_dirty = true;
}

void ProspectiveModel::contributeIntensity(std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (m_dirty) recompute();
  const auto& mask = m_grid->ownedMask();
  for (std::size_t k = 0; k < owned.size(); ++k)
    if (mask[k] != 0) owned[k] += m_cache[k];
}

void ProspectiveModel::recompute() const {
  std::fill(m_cache.begin(), m_cache.end(), 0.0);
  m_dirty = false;
  // Per owned cell: the age-weighted count sum_e 1/(1+t_e) and the plain count, interleaved for one gather.
  std::vector<double> weighted(2 * m_cache.size(), 0.0);
  double days = 0.0;
  for (std::size_t s = 0; s < m_ring.size(); ++s) {
    const auto& slot = m_ring.slot(s);
    const double weeks = std::floor(std::max(0.0, time() - slot.middle()) / 7.0);
    if (weeks >= m_weeks) continue;
    const double w = 1.0 / (1.0 + weeks);
    for (std::size_t k = 0; k < m_cache.size(); ++k) {
      weighted[2 * k] += w * slot.counts[k];
      weighted[2 * k + 1] += slot.counts[k];
    }
    days += slot.days;
  }
  // `days` is the same on every rank, so every rank skips the gathers together.
  if (!(days > 0.0)) return;
  const auto global = gatherWholeGrid(*m_grid, weighted, 2);
  const auto mask = m_grid->globalMask();
  const int nx = m_grid->nx();
  const int ny = m_grid->ny();
  double events = 0.0;
  for (std::size_t c = 0; c < mask.size(); ++c) events += global[2 * c + 1];
  if (!(events > 0.0)) return;
  // Risk of every active cell of the grid (each rank computes all of it, so that the normalising total is
  // summed in global index order without another reduction).
  std::vector<double> risk(mask.size(), 0.0);
#pragma omp parallel for schedule(static)
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const auto c = static_cast<std::size_t>(j) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(i);
      if (mask[c] == 0) continue;
      double v = 0.0;
      for (const auto& o : m_disc) {
        const int si = i + o.di;
        const int sj = j + o.dj;
        if (si < 0 || si >= nx || sj < 0 || sj >= ny) continue;
        const double n = global[2 * (static_cast<std::size_t>(sj) * static_cast<std::size_t>(nx) +
                                     static_cast<std::size_t>(si))];
        if (n != 0.0) v += o.weight * n;
      }
      risk[c] = v;
    }
  }
  double total = 0.0;
  for (const double v : risk) total += v;
  if (!(total > 0.0)) return;
  const double scale = (events / days) / total;
  const auto idx = m_grid->ownedGlobalIndices();
  for (std::size_t k = 0; k < idx.size(); ++k) m_cache[k] = risk[static_cast<std::size_t>(idx[k])] * scale;
}

}  // namespace vigie::models
