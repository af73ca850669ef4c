#include "models/sepp/SeppSimulator.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "grid/CityGrid.hpp"

namespace vigie::models::sepp {

using core::Error;
using core::ExitCode;

SeppSimulator::SeppSimulator(const grid::CityGrid& grid, SeppTruth truth)
    : m_grid(&grid), m_truth(std::move(truth)) {
  const auto cells = static_cast<std::size_t>(grid.nx()) * static_cast<std::size_t>(grid.ny());
  const auto& p = m_truth.params;
  if (m_truth.edges.size() < 2) throw Error(ExitCode::Usage, "sepp simulator: at least one bin is needed");
  for (std::size_t t = 1; t < m_truth.edges.size(); ++t)
    if (!(m_truth.edges[t] > m_truth.edges[t - 1]))
      throw Error(ExitCode::Usage, "sepp simulator: bin edges must increase");
  const auto nt = m_truth.edges.size() - 1;
  if (m_truth.mu.size() != cells) throw Error(ExitCode::Usage, "sepp simulator: mu needs one value per cell");
  const auto kt = static_cast<std::size_t>(m_truth.temporal_count);
  if (m_truth.temporal.size() != nt * kt)
    throw Error(ExitCode::Usage, "sepp simulator: temporal covariates need nt * Kt values");
  if (p.beta.size() < kt || m_truth.spatial.size() != cells * (p.beta.size() - kt))
    throw Error(ExitCode::Usage, "sepp simulator: spatial covariates need cells * (beta - Kt) values");
  if (!(p.theta >= 0.0 && p.theta < 1.0) || !(p.omega > 0.0) || !(m_truth.sigma_x_m >= 0.0) ||
      !(m_truth.sigma_y_m >= 0.0))
    throw Error(ExitCode::Usage, "sepp simulator: need 0 <= theta < 1, omega > 0, sigma >= 0");
}

std::vector<SeppEvent> SeppSimulator::simulate(std::uint64_t seed) const {
  const auto& g = *m_grid;
  const auto& tr = m_truth;
  const auto& p = tr.params;
  const int nx = g.nx();
  const int ny = g.ny();
  const double h = g.spec().cell;
  const auto nt = tr.edges.size() - 1;
  const auto kt = static_cast<std::size_t>(tr.temporal_count);
  const auto ks = p.beta.size() - kt;
  const auto mask = g.globalMask();
  std::vector<SeppEvent> events;
  for (std::size_t t = 0; t < nt; ++t) {
    double zt = 0.0;
    for (std::size_t k = 0; k < kt; ++k) zt += p.beta[k] * tr.temporal[t * kt + k];
    const double len = tr.edges[t + 1] - tr.edges[t];
    for (int j = 0; j < ny; ++j) {
      for (int i = 0; i < nx; ++i) {
        const auto c = static_cast<std::size_t>(g.globalIndex(i, j));
        if (mask[c] == 0 || !(tr.mu[c] > 0.0)) continue;
        double zs = 0.0;
        for (std::size_t k = 0; k < ks; ++k) zs += p.beta[kt + k] * tr.spatial[c * ks + k];
        core::RandomStream rng(seed, c, static_cast<std::uint32_t>(t));
        const auto n = rng.poisson(tr.mu[c] * std::exp(zt + zs) * len);
        for (std::uint64_t e = 0; e < n; ++e) {
          SeppEvent ev;
          ev.x = g.spec().x0 + (i + rng.uniform()) * h;
          ev.y = g.spec().y0 + (j + rng.uniform()) * h;
          ev.t = tr.edges[t] + rng.uniform() * len;
          events.push_back(ev);
        }
      }
    }
  }
  const double end = tr.edges.back();
  // The list grows while it is walked: children are appended behind the current generation.
  for (std::size_t e = 0; e < events.size(); ++e) {
    core::RandomStream rng(seed, e, childStep);
    const auto children = rng.poisson(p.theta);
    for (std::uint64_t c = 0; c < children; ++c) {
      SeppEvent ch;
      ch.t = events[e].t - std::log(rng.uniform()) / p.omega;
      ch.x = events[e].x + tr.sigma_x_m * rng.normal();
      ch.y = events[e].y + tr.sigma_y_m * rng.normal();
      ch.generation = events[e].generation + 1;
      ch.parent = static_cast<std::int64_t>(e);
      if (ch.t >= end || !g.cellOf(ch.x, ch.y)) continue;
      events.push_back(ch);
    }
  }
  return events;
}

std::vector<std::int32_t> SeppSimulator::binOwned(std::span<const SeppEvent> events,
                                                  std::span<const double> edges) const {
  const auto& box = m_grid->ownedBox();
  if (edges.size() < 2) throw Error(ExitCode::Usage, "sepp simulator: at least one bin is needed");
  const auto nt = edges.size() - 1;
  const auto owned = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  std::vector<std::int32_t> counts(nt * owned, 0);
  for (const auto& ev : events) {
    const auto cell = m_grid->cellOf(ev.x, ev.y);
    if (!cell) continue;
    const int i = (*cell)[0];
    const int j = (*cell)[1];
    if (i < box.i0 || i >= box.i0 + box.ni || j < box.j0 || j >= box.j0 + box.nj) continue;
    if (ev.t < edges.front() || ev.t >= edges.back()) continue;
    const auto t =
        static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), ev.t) - edges.begin() - 1);
    counts[t * owned + static_cast<std::size_t>(j - box.j0) * static_cast<std::size_t>(box.ni) +
           static_cast<std::size_t>(i - box.i0)] += 1;
  }
  return counts;
}

}  // namespace vigie::models::sepp
