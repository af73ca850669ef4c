#include "models/baselines/KdeModel.hpp"

#include <algorithm>
#include <cmath>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

void KdeModel::declareOptions(core::OptionSet& options) {
  options
      .add("kde.bandwidth_m", core::OptionType::Double, "200",
           "kde baseline: standard deviation of the Gaussian kernel, metres (lattice units on a lattice); "
           "truncated at 4 sigma")
      .add("kde.window_days", core::OptionType::Double, "0",
           "kde baseline: only bins whose middle is less than this many days old count; 0 = every bin");
}

KdeModel::KdeModel(const ModelContext& context)
    : Model("kde"),
      m_grid(&context.grid),
      m_sigma(context.config.getDouble("kde.bandwidth_m")),
      m_radius(0),
      m_window(context.config.getDouble("kde.window_days")) {
  if (!(m_sigma > 0.0) || !std::isfinite(m_sigma))
    throw Error(ExitCode::Usage, "kde.bandwidth_m must be positive", true);
  if (!(m_window >= 0.0) || m_window > 36500.0)
    throw Error(ExitCode::Usage, "kde.window_days must be in [0, 36500] (0 = every bin)", true);
  m_sigma /= m_grid->spec().cell;
  const double radius = std::ceil(4.0 * m_sigma);
  // A kernel wider than the grid adds nothing but work: the convolution clips it to the grid anyway.
  m_radius = static_cast<int>(std::min(radius, static_cast<double>(std::max(m_grid->nx(), m_grid->ny()))));
  double total = 0.0;
  for (int k = -m_radius; k <= m_radius; ++k) {
    m_kernel.push_back(std::exp(-0.5 * k * k / (m_sigma * m_sigma)));
    total += m_kernel.back();
  }
  for (double& w : m_kernel) w /= total;
  const auto inGridMass = [&](int n) {
    std::vector<double> mass(static_cast<std::size_t>(n), 0.0);
    for (int i = 0; i < n; ++i)
      for (int k = std::max(-m_radius, -i); k <= std::min(m_radius, n - 1 - i); ++k)
        mass[static_cast<std::size_t>(i)] += m_kernel[static_cast<std::size_t>(k + m_radius)];
    return mass;
  };
  m_mass_x = inGridMass(m_grid->nx());
  m_mass_y = inGridMass(m_grid->ny());
  const auto cells = m_grid->ownedMask().size();
  if (m_window > 0.0)
    m_ring = std::make_unique<BinRing>("kde", "slot", static_cast<std::size_t>(std::ceil(m_window)) + 2,
                                       cells, true);
  else
    m_counts.assign(cells, 0.0);
  m_cache.assign(cells, 0.0);
}

std::vector<std::string> KdeModel::stateNames() const {
  if (m_ring) return m_ring->stateNames();
  return {"counts", "observed_days"};
}

void KdeModel::getState(const std::string& state, std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (m_ring) {
    if (!m_ring->getState(state, owned)) throw Error(ExitCode::Internal, "kde has no state '" + state + "'");
  } else if (state == "counts") {
    std::copy(m_counts.begin(), m_counts.end(), owned.begin());
  } else if (state == "observed_days") {
    std::fill(owned.begin(), owned.end(), m_days);
  } else {
    throw Error(ExitCode::Internal, "kde has no state '" + state + "'");
  }
}

void KdeModel::setState(const std::string& state, std::span<const double> owned) {
  checkOwnedSize(name(), *m_grid, owned.size());
  m_dirty = true;
  if (m_ring) {
    if (!m_ring->setState(state, owned)) throw Error(ExitCode::Internal, "kde has no state '" + state + "'");
  } else if (state == "counts") {
    for (const double c : owned)
      if (!(c >= 0.0) || !std::isfinite(c))
        throw Error(ExitCode::InputData, "kde: state 'counts' has a negative or non-finite count");
    std::copy(owned.begin(), owned.end(), m_counts.begin());
  } else if (state == "observed_days") {
    const double days = uniformValue(name(), state, owned);
    if (days < 0.0) throw Error(ExitCode::InputData, "kde: state 'observed_days' is negative");
    m_days = days;
  } else {
    throw Error(ExitCode::Internal, "kde has no state '" + state + "'");
  }
}

void KdeModel::doObserve(double t0, double t1, std::span<const double> owned_counts) {
  checkBin(name(), t0, t1);
  const auto counts = maskedCounts(*m_grid, owned_counts);
  if (m_ring) {
    m_ring->dropOlderThan(t0, m_window);
    m_ring->push(t0, t1, counts, false);
  } else {
    for (std::size_t k = 0; k < counts.size(); ++k) m_counts[k] += counts[k];
    m_days += t1 - t0;
  }
  m_dirty = true;
}

void KdeModel::doAdvance(double /*t0*/, double t1) {
  if (m_ring && m_ring->dropOlderThan(t1, m_window)) m_dirty = true;
}

void KdeModel::contributeIntensity(std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  // Slots leave the window as time passes; doAdvance drops them, so the window is current here.
  if (m_dirty) recompute();
  const auto& mask = m_grid->ownedMask();
  for (std::size_t k = 0; k < owned.size(); ++k)
    if (mask[k] != 0) owned[k] += m_cache[k];
}

void KdeModel::recompute() const {
  std::fill(m_cache.begin(), m_cache.end(), 0.0);
  m_dirty = false;
  std::vector<double> counts;
  double days = m_days;
  if (m_ring) {
    counts.assign(m_cache.size(), 0.0);
    days = 0.0;
    // Oldest to newest: a fixed order, so a restored model gives the same bits.
    for (std::size_t s = 0; s < m_ring->size(); ++s) {
      const auto& slot = m_ring->slot(s);
      // A restored state may hold slots that have left the window and are not yet dropped.
      if (time() - slot.middle() >= m_window) continue;
      for (std::size_t k = 0; k < counts.size(); ++k) counts[k] += slot.counts[k];
      days += slot.days;
    }
  } else {
    counts = m_counts;
  }
  // `days` is the same on every rank, so every rank skips the gather together.
  if (!(days > 0.0)) return;
  const auto global = gatherWholeGrid(*m_grid, counts, 1);
  const int nx = m_grid->nx();
  const int ny = m_grid->ny();
  const int r = m_radius;
  const auto& box = m_grid->ownedBox();
  const auto at = [nx](int i, int j) {
    return static_cast<std::size_t>(j) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(i);
  };
  // Pass 1, along x, for the owned columns and every row within R of the owned rows. Sources are divided
  // by their in-grid mass first, so each event puts exactly its own mass on the grid.
  const int ja = std::max(0, box.j0 - r);
  const int jb = std::min(ny - 1, box.j0 + box.nj - 1 + r);
  const auto ni = static_cast<std::size_t>(box.ni);
  std::vector<double> rows(static_cast<std::size_t>(jb - ja + 1) * ni, 0.0);
#pragma omp parallel for schedule(static)
  for (int j = ja; j <= jb; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      double v = 0.0;
      for (int k = std::max(-r, -i); k <= std::min(r, nx - 1 - i); ++k) {
        const int src = i + k;
        const double n = global[at(src, j)];
        if (n != 0.0)
          v += m_kernel[static_cast<std::size_t>(k + r)] *
               (n / (m_mass_x[static_cast<std::size_t>(src)] * m_mass_y[static_cast<std::size_t>(j)]));
      }
      rows[static_cast<std::size_t>(j - ja) * ni + static_cast<std::size_t>(i - box.i0)] = v;
    }
  }
  // Pass 2, along y, for the owned cells.
#pragma omp parallel for schedule(static)
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      double v = 0.0;
      for (int k = std::max(-r, -j); k <= std::min(r, ny - 1 - j); ++k)
        v += m_kernel[static_cast<std::size_t>(k + r)] *
             rows[static_cast<std::size_t>(j + k - ja) * ni + static_cast<std::size_t>(i - box.i0)];
      m_cache[static_cast<std::size_t>(j - box.j0) * ni + static_cast<std::size_t>(i - box.i0)] = v / days;
    }
  }
}

}  // namespace vigie::models
