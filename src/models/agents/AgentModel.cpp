#include "models/agents/AgentModel.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

namespace {

/// Bits of the per-(tag, cell) counter in an agent id: at most 4096 agents made in one cell by one step.
constexpr int kCounterBits = 12;
/// Step value of the setup draws (never reached by a run: steps are far fewer than 2^32 - 1).
constexpr std::uint32_t kSetupStep = 0xFFFFFFFFu;

/// SplitMix64 finaliser: derives independent seeds for the birth and setup streams from the run's seed,
/// so that an agent id and a cell index with the same value never share draws.
std::uint64_t mixSeed(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

int bitWidth(std::uint64_t v) {
  int bits = 0;
  while (v != 0) {
    ++bits;
    v >>= 1;
  }
  return std::max(bits, 1);
}

/// Relative position of the z = 4 neighbours, in the fixed order the walk uses: west, east, south, north.
constexpr int kDi[4] = {-1, 1, 0, 0};
constexpr int kDj[4] = {0, 0, -1, 1};

}  // namespace

double AgentParams::homogeneousAgents() const noexcept {
  const double a = a0 + homogeneousB();
  // Births gamma dt per step balance offences n (1 - e^{-A dt}) per step.
  return a > 0.0 ? gamma * dt / -std::expm1(-a * dt) : 0.0;
}

void AgentModel::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("agents.initial_per_site", OptionType::Double, "-1",
           "agents per site at the start, Poisson-drawn per site; negative: the homogeneous state "
           "gamma dt / (1 - exp(-(a0 + theta gamma / omega) dt)) (parameters from short2008.*)")
      .add("agents.initial_b", OptionType::Double, "-1",
           "dynamic attractiveness B at the start in every site; negative: the homogeneous state theta gamma "
           "/ omega");
}

AgentParams AgentModel::paramsFromConfig(const core::Config& config) {
  AgentParams p;
  p.eta = config.getDouble("short2008.eta");
  p.theta = config.getDouble("short2008.theta");
  p.gamma = config.getDouble("short2008.gamma");
  p.omega = config.getDouble("short2008.omega");
  p.a0 = config.getDouble("short2008.a0");
  p.dt = config.getDouble("short2008.dt");
  p.initial_per_site = config.getDouble("agents.initial_per_site");
  p.initial_b = config.getDouble("agents.initial_b");
  return p;
}

AgentModel::AgentModel(const ModelContext& context)
    : AgentModel(context.grid, paramsFromConfig(context.config), context.seed) {}

AgentModel::AgentModel(const grid::CityGrid& grid, const AgentParams& params, std::uint64_t seed)
    : Model("agents"),
      m_grid(&grid),
      m_params(params),
      m_seed(seed),
      m_birth_seed(mixSeed(seed ^ 0xB1B1B1B1B1B1B1B1ull)),
      m_crowd_seed(mixSeed(seed ^ 0xC4C4C4C4C4C4C4C4ull)) {
  const auto& p = m_params;
  if (!(p.dt > 0.0)) throw Error(ExitCode::Usage, "short2008.dt must be positive (agents)", true);
  if (!(p.eta >= 0.0 && p.eta <= 1.0))
    throw Error(ExitCode::Usage, "short2008.eta must be in [0, 1] for the agent model", true);
  if (!(p.theta >= 0.0) || !(p.gamma >= 0.0) || !(p.a0 >= 0.0) || !(p.omega >= 0.0))
    throw Error(ExitCode::Usage, "short2008.theta, gamma, a0 and omega must be >= 0 (agents)", true);
  if (p.omega * p.dt > 1.0)
    throw Error(ExitCode::Usage, "short2008.omega * short2008.dt must be <= 1 (B would turn negative)", true);

  const auto& box = m_grid->ownedBox();
  const auto n_owned = static_cast<std::size_t>(box.cells());
  m_cell_bits = bitWidth(static_cast<std::uint64_t>(m_grid->nx()) * static_cast<std::uint64_t>(m_grid->ny()));
  if (m_cell_bits + kCounterBits > 56)
    throw Error(ExitCode::Usage, "agents: grid too large for 64-bit agent ids", true);

  // Decomposition: first column/row of every process column/row (PETSc orders ranks x fastest).
  MPI_Comm_rank(m_grid->comm(), &m_rank);
  const auto [px, py] = m_grid->processors();
  const PetscInt* lx = nullptr;
  const PetscInt* ly = nullptr;
  VIGIE_CHECK_PETSC(DMDAGetOwnershipRanges(m_grid->dm(), &lx, &ly, nullptr));
  m_x_starts.assign(1, 0);
  for (int k = 0; k < px; ++k) m_x_starts.push_back(m_x_starts.back() + static_cast<int>(lx[k]));
  m_y_starts.assign(1, 0);
  for (int k = 0; k < py; ++k) m_y_starts.push_back(m_y_starts.back() + static_cast<int>(ly[k]));
  const int pi = m_rank % px;
  const int pj = m_rank / px;
  if (m_x_starts[static_cast<std::size_t>(pi)] != box.i0 ||
      m_y_starts[static_cast<std::size_t>(pj)] != box.j0)
    throw Error(ExitCode::Internal, "AgentModel: rank layout does not match the DMDA ownership ranges");

  // Edge neighbours (an agent moves one cell per step, so it can only land in one of them).
  const bool periodic = m_grid->spec().boundary == grid::Boundary::Periodic;
  for (int d = 0; d < 4; ++d) {
    int qi = pi + kDi[d];
    int qj = pj + kDj[d];
    if (periodic) {
      qi = (qi + px) % px;
      qj = (qj + py) % py;
    } else if (qi < 0 || qi >= px || qj < 0 || qj >= py) {
      continue;
    }
    const int q = qi + qj * px;
    if (q != m_rank) m_neighbours.push_back(q);
  }
  std::sort(m_neighbours.begin(), m_neighbours.end());
  m_neighbours.erase(std::unique(m_neighbours.begin(), m_neighbours.end()), m_neighbours.end());
  m_send.resize(m_neighbours.size());
  if (px * py > 1) {
    const int n = static_cast<int>(m_neighbours.size());
    VIGIE_CHECK_MPI(MPI_Dist_graph_create_adjacent(m_grid->comm(), n, m_neighbours.data(), MPI_UNWEIGHTED, n,
                                                   m_neighbours.data(), MPI_UNWEIGHTED, MPI_INFO_NULL, 0,
                                                   &m_graph));
  }

  // The mask on the ghosted box: which neighbours the walk may enter. Outside a zero-flux grid: none.
  {
    grid::Field active(*m_grid, "agents.active", 0.0);
    std::vector<double> owned_mask(n_owned);
    const auto& mask = m_grid->ownedMask();
    for (std::size_t c = 0; c < n_owned; ++c) owned_mask[c] = mask[c] != 0 ? 1.0 : 0.0;
    active.setOwned(owned_mask);
    active.updateGhosts();
    m_gi0 = box.i0 - 1;
    m_gj0 = box.j0 - 1;
    m_gni = box.ni + 2;
    m_active_ghosted.assign(static_cast<std::size_t>(m_gni) * static_cast<std::size_t>(box.nj + 2), 0);
    for (int j = m_gj0; j < box.j0 + box.nj + 1; ++j) {
      for (int i = m_gi0; i < box.i0 + box.ni + 1; ++i) {
        const bool inside = i >= 0 && i < m_grid->nx() && j >= 0 && j < m_grid->ny();
        if (!periodic && !inside) continue;
        m_active_ghosted[static_cast<std::size_t>(j - m_gj0) * static_cast<std::size_t>(m_gni) +
                         static_cast<std::size_t>(i - m_gi0)] = active.ghostedUnchecked(i, j) > 0.5 ? 1 : 0;
      }
    }
  }

  const double b0 = p.initial_b < 0.0 ? p.homogeneousB() : p.initial_b;
  m_b = std::make_unique<grid::Field>(*m_grid, "agents.B", 0.0);
  std::vector<double> b(n_owned, 0.0);
  for (std::size_t c = 0; c < n_owned; ++c) b[c] = m_grid->ownedMask()[c] != 0 ? b0 : 0.0;
  m_b->setOwned(b);
  m_b_next.resize(n_owned);
  m_events.assign(n_owned, 0);

  const double n0 = p.initial_per_site < 0.0 ? p.homogeneousAgents() : p.initial_per_site;
  std::vector<std::uint64_t> counts(n_owned, 0);
  std::size_t c = 0;
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i, ++c) {
      if (m_grid->ownedMask()[c] == 0) continue;
      core::RandomStream rng(m_birth_seed, static_cast<std::uint64_t>(m_grid->globalIndex(i, j)), kSetupStep);
      counts[c] = rng.poisson(n0);
    }
  }
  placeAgents(counts, 1);
}

AgentModel::~AgentModel() {
  if (m_graph != MPI_COMM_NULL) MPI_Comm_free(&m_graph);
}

std::vector<std::string> AgentModel::stateNames() const {
  return {"attractiveness", "B", "agents", "events"};
}

std::int64_t AgentModel::stepIndex() const noexcept {
  return static_cast<std::int64_t>(std::floor(time() / m_params.dt + 1e-6));
}

std::uint64_t AgentModel::makeId(std::uint64_t tag, std::int64_t cell, std::uint64_t k) const {
  if (k >= (std::uint64_t{1} << kCounterBits))
    throw Error(ExitCode::Usage, "agents: more than 4095 agents created in one cell at once (cell " +
                                     std::to_string(cell) + ")");
  const int tag_bits = 64 - m_cell_bits - kCounterBits;
  if (tag >= (std::uint64_t{1} << tag_bits))
    throw Error(ExitCode::Usage, "agents: the run has more steps than the agent id layout allows", true);
  return (tag << (m_cell_bits + kCounterBits)) | (static_cast<std::uint64_t>(cell) << kCounterBits) | k;
}

std::int64_t AgentModel::birthStep(std::uint64_t id) const noexcept {
  const std::uint64_t tag = id >> (m_cell_bits + kCounterBits);
  // Tags: 2 s + 1 for agents placed at step index s (setup, setState), 2 s + 2 for births in step s.
  return tag % 2 == 0 ? static_cast<std::int64_t>(tag / 2) - 1 : -1;
}

std::int64_t AgentModel::birthCell(std::uint64_t id) const noexcept {
  return static_cast<std::int64_t>((id >> kCounterBits) & ((std::uint64_t{1} << m_cell_bits) - 1));
}

void AgentModel::placeAgents(const std::vector<std::uint64_t>& counts, std::uint64_t tag) {
  const auto& box = m_grid->ownedBox();
  m_agents.clear();
  std::size_t c = 0;
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i, ++c) {
      const auto cell = m_grid->globalIndex(i, j);
      for (std::uint64_t k = 0; k < counts[c]; ++k) m_agents.push_back(Agent{makeId(tag, cell, k), i, j});
    }
  }
  m_counts_valid = false;
}

int AgentModel::ownerRank(int i, int j) const {
  const auto qi = std::upper_bound(m_x_starts.begin(), m_x_starts.end(), i) - m_x_starts.begin() - 1;
  const auto qj = std::upper_bound(m_y_starts.begin(), m_y_starts.end(), j) - m_y_starts.begin() - 1;
  return static_cast<int>(qi + qj * static_cast<std::ptrdiff_t>(m_grid->processors()[0]));
}

void AgentModel::doAdvance(double t0, double t1) {
  const auto s0 = static_cast<std::int64_t>(std::floor(t0 / m_params.dt + 1e-6));
  const auto s1 = static_cast<std::int64_t>(std::floor(t1 / m_params.dt + 1e-6));
  for (std::int64_t s = s0; s < s1; ++s) {
    if (!m_crowds.empty()) applyCrowds(s);
    step(s);
  }
}

std::uint64_t AgentModel::crowdTag(std::size_t crowd) const noexcept {
  const int tag_bits = 64 - m_cell_bits - kCounterBits;
  return (std::uint64_t{1} << (tag_bits - 1)) | (2 * static_cast<std::uint64_t>(crowd) + 1);
}

void AgentModel::setCrowds(std::vector<Crowd> crowds) {
  const int tag_bits = 64 - m_cell_bits - kCounterBits;
  if (!crowds.empty() && (tag_bits < 2 || 2 * crowds.size() + 1 >= (std::uint64_t{1} << (tag_bits - 1))))
    throw Error(ExitCode::Usage, "agents: more crowds than the agent id layout allows on this grid", true);
  for (const auto& c : crowds) {
    if (c.agents < 0) throw Error(ExitCode::Usage, "agents: a crowd's agent count must be >= 0", true);
    if (c.agents > 0 && c.cells.empty())
      throw Error(ExitCode::Usage, "agents: a crowd with agents needs at least one active cell", true);
  }
  m_crowds = std::move(crowds);
}

void AgentModel::applyCrowds(std::int64_t s) {
  const auto stepOf = [&](double t) { return static_cast<std::int64_t>(std::ceil(t / m_params.dt - 1e-6)); };
  const auto& box = m_grid->ownedBox();
  const auto nx = static_cast<std::int64_t>(m_grid->nx());
  bool changed = false;
  for (std::size_t e = 0; e < m_crowds.size(); ++e) {
    const auto& c = m_crowds[e];
    const auto arrive = stepOf(c.t_arrive);
    if (stepOf(c.t_leave) != s || arrive < 0 || c.agents == 0) continue;
    // The crowd's agents carry its tag in their id's top bits, wherever they walked to.
    const auto tag = crowdTag(e);
    const int shift = m_cell_bits + kCounterBits;
    std::erase_if(m_agents, [&](const Agent& a) { return (a.id >> shift) == tag; });
    changed = true;
  }
  for (std::size_t e = 0; e < m_crowds.size(); ++e) {
    const auto& c = m_crowds[e];
    if (stepOf(c.t_arrive) != s || c.agents == 0 || !(stepOf(c.t_leave) > s)) continue;
    // Every rank draws every agent's cell in agent order, so the per-cell counter k (the id's low bits)
    // does not depend on the decomposition; a rank keeps the agents of the cells it owns.
    std::map<std::int64_t, std::uint64_t> made;
    const auto n_cells = static_cast<double>(c.cells.size());
    for (std::int64_t a = 0; a < c.agents; ++a) {
      core::RandomStream rng(m_crowd_seed, static_cast<std::uint64_t>(a), static_cast<std::uint32_t>(e));
      const auto pick = std::min(static_cast<std::size_t>(rng.uniform() * n_cells), c.cells.size() - 1);
      const auto cell = c.cells[pick];
      const auto k = made[cell]++;
      if (k >= (std::uint64_t{1} << kCounterBits))
        throw Error(ExitCode::Usage,
                    "agents: a crowd puts more than 4095 agents on one cell (cell " + std::to_string(cell) +
                        "); lower scenario.agents_per_person",
                    true);
      const auto i = static_cast<int>(cell % nx);
      const auto j = static_cast<int>(cell / nx);
      if (i >= box.i0 && i < box.i0 + box.ni && j >= box.j0 && j < box.j0 + box.nj)
        m_agents.push_back(Agent{makeId(crowdTag(e), cell, k), i, j});
    }
    changed = true;
  }
  if (changed) m_counts_valid = false;
}

void AgentModel::step(std::int64_t s) {
  const auto& p = m_params;
  const auto& box = m_grid->ownedBox();
  const int nx = m_grid->nx();
  const int ny = m_grid->ny();
  const bool periodic = m_grid->spec().boundary == grid::Boundary::Periodic;
  const auto step32 = static_cast<std::uint32_t>(s);
  const auto birth_tag = static_cast<std::uint64_t>(2 * s + 2);
  if (birth_tag >= (std::uint64_t{1} << (64 - m_cell_bits - kCounterBits - (m_crowds.empty() ? 0 : 1))))
    throw Error(ExitCode::Usage, "agents: the run has more steps than the agent id layout allows", true);

  m_b->updateGhosts();
  const grid::Field& bf = *m_b;
  const auto active = [&](int i, int j) {
    return m_active_ghosted[static_cast<std::size_t>(j - m_gj0) * static_cast<std::size_t>(m_gni) +
                            static_cast<std::size_t>(i - m_gi0)] != 0;
  };

  // 1. Every agent offends or walks; the outcome depends only on (seed, id, step) and the fields.
  const auto n_agents = static_cast<std::int64_t>(m_agents.size());
  m_fate.resize(m_agents.size());
#pragma omp parallel for schedule(static)
  for (std::int64_t k = 0; k < n_agents; ++k) {
    Agent& a = m_agents[static_cast<std::size_t>(k)];
    core::RandomStream rng(m_seed, a.id, step32);
    const double a_here = p.a0 + bf.ghostedUnchecked(a.i, a.j);
    if (rng.uniform() < -std::expm1(-a_here * p.dt)) {
      m_fate[static_cast<std::size_t>(k)] = 1;
      continue;
    }
    double w[4];
    bool ok[4];
    int valid = 0;
    double total = 0.0;
    for (int d = 0; d < 4; ++d) {
      ok[d] = active(a.i + kDi[d], a.j + kDj[d]);
      w[d] = ok[d] ? p.a0 + bf.ghostedUnchecked(a.i + kDi[d], a.j + kDj[d]) : 0.0;
      valid += ok[d] ? 1 : 0;
      total += w[d];
    }
    m_fate[static_cast<std::size_t>(k)] = 0;
    if (valid == 0) continue;  // an isolated cell: nowhere to go
    int chosen = -1;
    const double u = rng.uniform();
    if (total > 0.0) {
      const double x = u * total;
      double cumulative = 0.0;
      for (int d = 0; d < 4 && chosen < 0; ++d) {
        cumulative += w[d];
        if (w[d] > 0.0 && x < cumulative) chosen = d;
      }
      // Rounding can leave x at the very top of the range: take the last neighbour with weight.
      for (int d = 3; d >= 0 && chosen < 0; --d)
        if (w[d] > 0.0) chosen = d;
    } else {
      int pick = std::min(static_cast<int>(u * valid), valid - 1);
      for (int d = 0; d < 4 && chosen < 0; ++d)
        if (ok[d] && pick-- == 0) chosen = d;
    }
    int ni = a.i + kDi[chosen];
    int nj = a.j + kDj[chosen];
    if (periodic) {
      ni = (ni + nx) % nx;
      nj = (nj + ny) % ny;
    }
    a.i = ni;
    a.j = nj;
    const bool owned = ni >= box.i0 && ni < box.i0 + box.ni && nj >= box.j0 && nj < box.j0 + box.nj;
    m_fate[static_cast<std::size_t>(k)] = owned ? 0 : 2;
  }

  // 2. Offenders leave E behind (integer counts: the order of accumulation does not matter), walkers that
  // left the owned box go to the owner of their new cell.
  std::fill(m_events.begin(), m_events.end(), 0);
  for (auto& out : m_send) out.clear();
  std::int64_t offences = 0;
  std::size_t kept = 0;
  for (std::size_t k = 0; k < m_agents.size(); ++k) {
    const Agent& a = m_agents[k];
    if (m_fate[k] == 1) {
      ++m_events[static_cast<std::size_t>(a.j - box.j0) * static_cast<std::size_t>(box.ni) +
                 static_cast<std::size_t>(a.i - box.i0)];
      ++offences;
    } else if (m_fate[k] == 2) {
      const int owner = ownerRank(a.i, a.j);
      const auto slot =
          std::lower_bound(m_neighbours.begin(), m_neighbours.end(), owner) - m_neighbours.begin();
      if (static_cast<std::size_t>(slot) >= m_neighbours.size() ||
          m_neighbours[static_cast<std::size_t>(slot)] != owner)
        throw Error(ExitCode::Internal, "AgentModel: an agent moved to a rank that is not a neighbour");
      m_send[static_cast<std::size_t>(slot)].push_back(a);
    } else {
      m_agents[kept++] = a;
    }
  }
  m_agents.resize(kept);
  exchange();

  // 3. Births: Poisson(gamma dt) per active site, ids from (step, cell, k).
  std::vector<std::uint32_t> births(static_cast<std::size_t>(box.cells()), 0);
  const auto& mask = m_grid->ownedMask();
  const double mean = p.gamma * p.dt;
#pragma omp parallel for schedule(static)
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      const auto c = static_cast<std::size_t>(j - box.j0) * static_cast<std::size_t>(box.ni) +
                     static_cast<std::size_t>(i - box.i0);
      if (mask[c] == 0) continue;
      core::RandomStream rng(m_birth_seed, static_cast<std::uint64_t>(m_grid->globalIndex(i, j)), step32);
      births[c] = static_cast<std::uint32_t>(rng.poisson(mean));
    }
  }
  std::int64_t born = 0;
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      const auto c = static_cast<std::size_t>(j - box.j0) * static_cast<std::size_t>(box.ni) +
                     static_cast<std::size_t>(i - box.i0);
      const auto cell = m_grid->globalIndex(i, j);
      for (std::uint32_t k = 0; k < births[c]; ++k)
        m_agents.push_back(Agent{makeId(birth_tag, cell, k), i, j});
      born += births[c];
    }
  }

  // 4. B(t + dt) = [(1 - eta) B + (eta / 4) sum of neighbours' B] (1 - omega dt) + theta E; an inactive
  // neighbour contributes the cell's own B (no flux across the mask's edge).
  const double decay = 1.0 - p.omega * p.dt;
#pragma omp parallel for schedule(static)
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      const auto c = static_cast<std::size_t>(j - box.j0) * static_cast<std::size_t>(box.ni) +
                     static_cast<std::size_t>(i - box.i0);
      if (mask[c] == 0) {
        m_b_next[c] = 0.0;
        continue;
      }
      const double b = bf.ghostedUnchecked(i, j);
      double nb[4];
      for (int d = 0; d < 4; ++d)
        nb[d] = active(i + kDi[d], j + kDj[d]) ? bf.ghostedUnchecked(i + kDi[d], j + kDj[d]) : b;
      const double spread = (1.0 - p.eta) * b + 0.25 * p.eta * ((nb[0] + nb[1]) + (nb[2] + nb[3]));
      m_b_next[c] = spread * decay + p.theta * static_cast<double>(m_events[c]);
    }
  }
  m_b->setOwned(m_b_next);

  m_births_last = born;
  m_offences_last = offences;
  m_births_total += born;
  m_offences_total += offences;
  m_counts_valid = false;
}

void AgentModel::exchange() {
  if (m_graph == MPI_COMM_NULL) return;
  const std::size_t n = m_neighbours.size();
  std::vector<int> send_bytes(n), recv_bytes(n), send_displs(n, 0), recv_displs(n, 0);
  for (std::size_t k = 0; k < n; ++k) {
    send_bytes[k] = static_cast<int>(m_send[k].size() * sizeof(Agent));
    m_migrated_total += static_cast<std::int64_t>(m_send[k].size());
  }
  VIGIE_CHECK_MPI(
      MPI_Neighbor_alltoall(send_bytes.data(), 1, MPI_INT, recv_bytes.data(), 1, MPI_INT, m_graph));
  int send_total = 0, recv_total = 0;
  for (std::size_t k = 0; k < n; ++k) {
    send_displs[k] = send_total;
    recv_displs[k] = recv_total;
    send_total += send_bytes[k];
    recv_total += recv_bytes[k];
  }
  std::vector<Agent> out;
  out.reserve(static_cast<std::size_t>(send_total) / sizeof(Agent));
  for (const auto& v : m_send) out.insert(out.end(), v.begin(), v.end());
  const std::size_t first_new = m_agents.size();
  m_agents.resize(first_new + static_cast<std::size_t>(recv_total) / sizeof(Agent));
  VIGIE_CHECK_MPI(MPI_Neighbor_alltoallv(out.data(), send_bytes.data(), send_displs.data(), MPI_BYTE,
                                         m_agents.data() + first_new, recv_bytes.data(), recv_displs.data(),
                                         MPI_BYTE, m_graph));
}

void AgentModel::doObserve(double /*t0*/, double /*t1*/, std::span<const double> owned_counts) {
  // Observed events raise B as the model's own offences do (theta per event).
  m_b->getOwned(m_b_next);
  const auto& mask = m_grid->ownedMask();
  for (std::size_t c = 0; c < m_b_next.size(); ++c)
    if (mask[c] != 0) m_b_next[c] += m_params.theta * owned_counts[c];
  m_b->setOwned(m_b_next);
}

void AgentModel::refreshCellCounts() const {
  if (m_counts_valid) return;
  const auto& box = m_grid->ownedBox();
  m_cell_counts.assign(static_cast<std::size_t>(box.cells()), 0);
  for (const Agent& a : m_agents)
    ++m_cell_counts[static_cast<std::size_t>(a.j - box.j0) * static_cast<std::size_t>(box.ni) +
                    static_cast<std::size_t>(a.i - box.i0)];
  m_counts_valid = true;
}

void AgentModel::getState(const std::string& state, std::span<double> owned) const {
  const auto n_owned = static_cast<std::size_t>(m_grid->ownedBox().cells());
  if (owned.size() != n_owned)
    throw Error(ExitCode::Internal, "agents: state span does not match the owned box");
  const auto& mask = m_grid->ownedMask();
  if (state == "B" || state == "attractiveness") {
    m_b->getOwned(owned);
    if (state == "attractiveness")
      for (std::size_t c = 0; c < n_owned; ++c) owned[c] = mask[c] != 0 ? m_params.a0 + owned[c] : 0.0;
  } else if (state == "agents") {
    refreshCellCounts();
    for (std::size_t c = 0; c < n_owned; ++c) owned[c] = static_cast<double>(m_cell_counts[c]);
  } else if (state == "events") {
    for (std::size_t c = 0; c < n_owned; ++c) owned[c] = static_cast<double>(m_events[c]);
  } else {
    throw Error(ExitCode::Internal, "agents has no state '" + state + "'");
  }
}

void AgentModel::setState(const std::string& state, std::span<const double> owned) {
  const auto n_owned = static_cast<std::size_t>(m_grid->ownedBox().cells());
  if (owned.size() != n_owned)
    throw Error(ExitCode::Internal, "agents: state span does not match the owned box");
  const auto& mask = m_grid->ownedMask();
  if (state == "B" || state == "attractiveness") {
    const double shift = state == "attractiveness" ? m_params.a0 : 0.0;
    for (std::size_t c = 0; c < n_owned; ++c) m_b_next[c] = mask[c] != 0 ? owned[c] - shift : 0.0;
    m_b->setOwned(m_b_next);
  } else if (state == "agents") {
    std::vector<std::uint64_t> counts(n_owned, 0);
    for (std::size_t c = 0; c < n_owned; ++c) {
      if (!(owned[c] >= 0.0) || !std::isfinite(owned[c]))
        throw Error(ExitCode::InputData, "agents: agent counts must be finite and non-negative");
      if (mask[c] != 0) counts[c] = static_cast<std::uint64_t>(std::llround(owned[c]));
    }
    placeAgents(counts, static_cast<std::uint64_t>(2 * stepIndex() + 1));
  } else if (state == "events") {
    for (std::size_t c = 0; c < n_owned; ++c) m_events[c] = static_cast<std::int32_t>(std::llround(owned[c]));
  } else {
    throw Error(ExitCode::Internal, "agents has no state '" + state + "'");
  }
}

void AgentModel::contributeIntensity(std::span<double> owned) const {
  const auto n_owned = static_cast<std::size_t>(m_grid->ownedBox().cells());
  if (owned.size() != n_owned)
    throw Error(ExitCode::Internal, "agents: intensity span does not match the owned box");
  refreshCellCounts();
  std::vector<double> b(n_owned);
  m_b->getOwned(b);
  const auto& mask = m_grid->ownedMask();
  for (std::size_t c = 0; c < n_owned; ++c) {
    if (mask[c] == 0) continue;
    const double a = m_params.a0 + b[c];
    owned[c] += static_cast<double>(m_cell_counts[c]) * -std::expm1(-a * m_params.dt) / m_params.dt;
  }
}

AgentCounts AgentModel::counts() const {
  std::int64_t local[6] = {static_cast<std::int64_t>(m_agents.size()),
                           m_births_last,
                           m_offences_last,
                           m_births_total,
                           m_offences_total,
                           m_migrated_total};
  std::int64_t global[6] = {};
  VIGIE_CHECK_MPI(MPI_Allreduce(local, global, 6, MPI_INT64_T, MPI_SUM, m_grid->comm()));
  return AgentCounts{global[0], global[1], global[2], global[3], global[4], global[5]};
}

std::vector<Agent> AgentModel::gatherAgents() const {
  int size = 1;
  MPI_Comm_size(m_grid->comm(), &size);
  const int bytes = static_cast<int>(m_agents.size() * sizeof(Agent));
  std::vector<int> counts(static_cast<std::size_t>(size), 0), displs(static_cast<std::size_t>(size), 0);
  VIGIE_CHECK_MPI(MPI_Gather(&bytes, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, m_grid->comm()));
  int total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = total;
    total += counts[r];
  }
  std::vector<Agent> all(m_rank == 0 ? static_cast<std::size_t>(total) / sizeof(Agent) : 0);
  VIGIE_CHECK_MPI(MPI_Gatherv(m_agents.data(), bytes, MPI_BYTE, all.data(), counts.data(), displs.data(),
                              MPI_BYTE, 0, m_grid->comm()));
  std::sort(all.begin(), all.end(), [](const Agent& a, const Agent& b) { return a.id < b.id; });
  return all;
}

std::vector<std::pair<std::string, double>> AgentModel::diagnostics() const {
  const auto c = counts();
  const auto& box = m_grid->ownedBox();
  const auto& mask = m_grid->ownedMask();
  std::vector<double> b(static_cast<std::size_t>(box.cells()));
  m_b->getOwned(b);
  std::vector<std::int64_t> idx;
  std::vector<double> a;
  std::size_t k = 0;
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i, ++k) {
      if (mask[k] == 0) continue;
      idx.push_back(m_grid->globalIndex(i, j));
      a.push_back(m_params.a0 + b[k]);
    }
  }
  const double n = static_cast<double>(std::max<std::int64_t>(m_grid->activeCells(), 1));
  const double mean = core::orderedSum(m_grid->comm(), idx, a) / n;
  for (double& v : a) v = (v - mean) * (v - mean);
  const double var = core::orderedSum(m_grid->comm(), idx, a) / n;
  return {{"agents_total", static_cast<double>(c.agents)},
          {"offences_total", static_cast<double>(c.offences_total)},
          {"births_total", static_cast<double>(c.births_total)},
          {"cv_A", mean > 0.0 ? std::sqrt(var) / mean : 0.0}};
}

}  // namespace vigie::models
