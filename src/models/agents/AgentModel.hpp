#pragma once
/// The discrete lattice model of repeat victimisation (Short, D'Orsogna et al. 2008), agent by agent.
///
/// Each site s of the lattice has attractiveness A_s = A0 + B_s. One step of length dt (days):
///   1. every agent at s offends with probability 1 - exp(-A_s dt); an offender is removed and adds one to
///      the site's event count E_s; every other agent moves to one of the z = 4 neighbours s' of s, chosen
///      with probability A_s' / sum_{s''} A_s'' (the biased walk);
///   2. every site gives birth to Poisson(Gamma dt) new agents;
///   3. B_s(t + dt) = [(1 - eta) B_s + (eta / z) sum_{s' ~ s} B_s'] (1 - omega dt) + theta E_s,
///      which is the paper's [B_s + (eta l^2 / z) Lap B_s] (1 - omega dt) + theta E_s with the 5-point
///      Laplacian (l cancels).
/// The homogeneous state is B = theta Gamma / omega exactly and n = Gamma dt / (1 - exp(-A dt)) ~ Gamma / A.
///
/// Cells outside the grid's mask are not part of the lattice: no births there, no walk into them, and B does
/// not diffuse across their edges; with zero-flux edges the walk never leaves the grid, with periodic edges
/// it wraps. When all neighbours have A = 0 the walk picks one of them uniformly.
///
/// Parallel: the lattice is the CityGrid's DMDA decomposition. An agent that steps out of the owned box is
/// sent to the rank owning its new cell, which is always an edge neighbour of this rank (periodic wrap
/// included): one neighbour-only exchange per step. Every random draw is keyed by (seed, agent id, step) or
/// (seed, cell, step) with core::RandomStream, newborn ids are a function of (step, cell, k), and event
/// counts are integers, so the agent list (ids and cells), E and B are bit-identical at any rank count and
/// any number of OpenMP threads (the per-agent loop is OpenMP-parallel).
///
/// Crowds (a scenario's events, vigie simulate --scenario; setCrowds): crowd e adds `agents` agents at the
/// start of the first step s with s dt >= t_arrive, agent a on cells[floor(u cells.size())] with u uniform
/// from the stream (seed', a, e), and removes those of them still present (not yet offended) at the start of
/// the first step with s dt >= t_leave; in between they follow the model's rules. Their ids carry the crowd
/// tag 2^(T-1) + 2 e + 1 (T: the id's tag bits, above every birth tag the run reaches) and the per-cell
/// counter k in agent order, so they are unique and the same at any rank count.
#include <cstdint>
#include <memory>
#include <vector>

#include "grid/Field.hpp"
#include "models/Model.hpp"

namespace vigie::core {
class OptionSet;
class Config;
}  // namespace vigie::core

namespace vigie::models {

/// One agent: its global id (the key of its random draws) and the global cell (i, j) it stands on.
struct Agent {
  std::uint64_t id = 0;
  std::int32_t i = 0;
  std::int32_t j = 0;
  friend bool operator==(const Agent&, const Agent&) = default;
};

/// Parameters of the agent model (lattice units, days).
struct AgentParams {
  double eta = 0.03;          ///< short2008.eta: share of B that spreads to the neighbours per step
  double theta = 0.56;        ///< short2008.theta: B added per event
  double gamma = 0.019;       ///< short2008.gamma: births per site per day
  double omega = 1.0 / 15.0;  ///< short2008.omega: decay rate of B, 1/days
  double a0 = 1.0 / 30.0;     ///< short2008.a0: static attractiveness
  double dt = 0.01;           ///< short2008.dt: step, days
  /// Agents per site at the start, drawn Poisson per site; < 0: the homogeneous state Gamma dt/(1-e^-Abar
  /// dt).
  double initial_per_site = -1.0;
  /// B at the start in every active site; < 0: the homogeneous state theta Gamma / omega.
  double initial_b = -1.0;

  /// Homogeneous-state values of B and of the agents per site.
  [[nodiscard]] double homogeneousB() const noexcept { return theta * gamma / omega; }
  [[nodiscard]] double homogeneousAgents() const noexcept;
};

/// Cumulative and last-step counts over the whole run (every rank gets the same values).
struct AgentCounts {
  std::int64_t agents = 0;          ///< agents alive now
  std::int64_t births_last = 0;     ///< births in the last step
  std::int64_t offences_last = 0;   ///< offences in the last step
  std::int64_t births_total = 0;    ///< since construction (setState of "agents" does not count)
  std::int64_t offences_total = 0;  ///< since construction
  std::int64_t migrated_total = 0;  ///< agents sent to another rank since construction
};

/// The agent model (registered as "agents").
class AgentModel final : public Model {
 public:
  /// A crowd of extra agents (see the top of this file); times in model days.
  struct Crowd {
    double t_arrive = 0.0;
    double t_leave = 0.0;
    std::int64_t agents = 0;
    std::vector<std::int64_t> cells;  ///< global indices of active cells, the same on every rank
  };

  /// Declares the agents.* options (the physical parameters are the short2008.* options).
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Reads short2008.{eta,theta,gamma,omega,a0,dt} and agents.*; throws Error(Usage).
  static AgentParams paramsFromConfig(const core::Config& config);

  /// Collective. Parameters from the configuration.
  explicit AgentModel(const ModelContext& context);
  /// Collective. Places the initial agents and B (draws keyed by `seed`).
  AgentModel(const grid::CityGrid& grid, const AgentParams& params, std::uint64_t seed);
  /// Collective (frees the neighbour-graph communicator).
  ~AgentModel() override;

  /// "attractiveness" (A0 + B), "B", "agents" (agents per cell), "events" (offences per cell in the last
  /// step).
  [[nodiscard]] std::vector<std::string> stateNames() const override;
  /// Not collective.
  void getState(const std::string& state, std::span<double> owned) const override;
  /// Not collective. "agents" replaces every agent of this rank by round(value) agents per cell with fresh
  /// ids made from (step, cell, k); "attractiveness" sets B = value - A0.
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Not collective. Expected offences per cell per day at the current state: n (1 - exp(-A dt)) / dt.
  void contributeIntensity(std::span<double> owned) const override;
  /// Collective. agents_total, offences_total, births_total and cv_A (std / mean of A over active cells).
  [[nodiscard]] std::vector<std::pair<std::string, double>> diagnostics() const override;

  [[nodiscard]] const AgentParams& params() const noexcept { return m_params; }
  /// Not collective. The agents this rank owns, in no particular order.
  [[nodiscard]] const std::vector<Agent>& localAgents() const noexcept { return m_agents; }
  /// Collective. Every agent of the run sorted by id on rank 0 (empty on the other ranks).
  [[nodiscard]] std::vector<Agent> gatherAgents() const;
  /// Collective. Counts over every rank.
  [[nodiscard]] AgentCounts counts() const;
  /// Index of the next step (steps are numbered from time 0: step s covers [s dt, (s + 1) dt)).
  [[nodiscard]] std::int64_t stepIndex() const noexcept;
  /// Not collective. The step that created the agent with this id (-1 for agents placed at setup or by
  /// setState), and its birth cell.
  [[nodiscard]] std::int64_t birthStep(std::uint64_t id) const noexcept;
  [[nodiscard]] std::int64_t birthCell(std::uint64_t id) const noexcept;
  /// Not collective (the same crowds on every rank). Replaces the crowds; each acts only if its arrival step
  /// is at or after the current step (a crowd that should have arrived before time() never arrives).
  /// Error(Usage) for a negative agent count, agents without cells, or more crowds than the id layout holds.
  void setCrowds(std::vector<Crowd> crowds);

 private:
  void doAdvance(double t0, double t1) override;
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }

  /// Collective. One step with index s.
  void step(std::int64_t s);
  /// Not collective. Removes the crowds that leave at step s, then adds those that arrive at step s.
  void applyCrowds(std::int64_t s);
  [[nodiscard]] std::uint64_t crowdTag(std::size_t crowd) const noexcept;
  /// Collective. Sends the agents in m_send[k] to neighbour k and appends what arrives to m_agents.
  void exchange();
  /// Not collective. Replaces the local agents by counts[c] agents in each owned cell c, ids tagged `tag`.
  void placeAgents(const std::vector<std::uint64_t>& counts, std::uint64_t tag);
  [[nodiscard]] std::uint64_t makeId(std::uint64_t tag, std::int64_t cell, std::uint64_t k) const;
  [[nodiscard]] int ownerRank(int i, int j) const;
  void refreshCellCounts() const;

  const grid::CityGrid* m_grid;
  AgentParams m_params;
  std::uint64_t m_seed;        ///< agent draws
  std::uint64_t m_birth_seed;  ///< birth draws, keyed by cell
  std::uint64_t m_crowd_seed;  ///< crowd placement draws, keyed by (agent index, crowd)
  std::vector<Crowd> m_crowds;
  int m_cell_bits = 1;  ///< id layout: tag | cell | k
  std::unique_ptr<grid::Field> m_b;
  std::vector<std::uint8_t> m_active_ghosted;  ///< mask on the ghosted box (0 outside a zero-flux grid)
  int m_gi0 = 0, m_gj0 = 0, m_gni = 0;         ///< ghosted box origin and width

  std::vector<Agent> m_agents;
  std::vector<std::uint8_t> m_fate;  ///< per agent in a step: 0 stays, 1 offends, 2 leaves this rank
  std::vector<std::int32_t> m_events;
  std::vector<double> m_b_next;
  mutable std::vector<std::int32_t> m_cell_counts;
  mutable bool m_counts_valid = false;

  // Decomposition and the neighbour graph.
  std::vector<int> m_x_starts, m_y_starts;  ///< first column / row of each process column / row, plus the end
  int m_rank = 0;
  std::vector<int> m_neighbours;  ///< distinct edge-neighbour ranks (sorted, self excluded)
  MPI_Comm m_graph = MPI_COMM_NULL;
  std::vector<std::vector<Agent>> m_send;

  std::int64_t m_births_last = 0, m_offences_last = 0, m_births_total = 0, m_offences_total = 0;
  std::int64_t m_migrated_total = 0;
};

}  // namespace vigie::models
