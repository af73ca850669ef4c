// The agent model (Short et al. 2008 discrete lattice model) at 1, 2 and 4 ranks: the run is bit-identical,
// agent for agent, to a one-rank run (and with 2 OpenMP threads against 1); the agent count obeys births
// minus offences exactly every step; agents crossing internal and periodic edges are conserved; the biased
// walk picks neighbours in proportion to their attractiveness; the ensemble mean field matches the
// homogeneous state B = theta Gamma / omega, n = Gamma / (A0 + B).
#include <gtest/gtest.h>
#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>

#include "../support/GatherField.hpp"
#include "../support/MpiTest.hpp"
#include "core/Config.hpp"
#include "grid/CityGrid.hpp"
#include "models/ModelRegistry.hpp"
#include "models/agents/AgentModel.hpp"

namespace {

using vigie::core::Config;
using vigie::core::OptionSet;
using vigie::core::OptionType;
using vigie::grid::Boundary;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::models::Agent;
using vigie::models::AgentModel;
using vigie::models::AgentParams;
using vigie::models::ModelContext;
using vigie::testing::commRank;
using vigie::testing::commSize;

/// The shared short2008.* parameters are declared here with the paper's set (c), so the test does not
/// depend on the PDE model's declarations; the agents.* keys come from the model itself.
Config makeConfig(const std::vector<std::pair<std::string, std::string>>& overrides) {
  static const OptionSet options = [] {
    OptionSet o;
    o.add("short2008.eta", OptionType::Double, "0.03", "eta")
        .add("short2008.theta", OptionType::Double, "0.56", "theta")
        .add("short2008.gamma", OptionType::Double, "0.019", "Gamma")
        .add("short2008.omega", OptionType::Double, "0.0666666666666666667", "omega")
        .add("short2008.a0", OptionType::Double, "0.0333333333333333333", "A0")
        .add("short2008.dt", OptionType::Double, "0.01", "dt");
    AgentModel::declareOptions(o);
    return o;
  }();
  return Config::parse(options, {}, overrides);
}

GridSpec lattice(int nx, int ny, Boundary boundary) {
  GridSpec s;
  s.nx = nx;
  s.ny = ny;
  s.boundary = boundary;
  return s;
}

std::vector<double> state(const AgentModel& m, const CityGrid& g, const std::string& name) {
  std::vector<double> v(static_cast<std::size_t>(g.ownedBox().cells()));
  m.getState(name, v);
  return v;
}

/// Collective. True on every rank once rank 0 has recorded a failure: rank 0 runs the checks of gathered
/// data inside a lambda (an ASSERT leaves only the lambda), then every rank leaves the test together instead
/// of waiting in a collective that rank 0 never reaches.
bool rootFailed() {
  int failed = commRank() == 0 && ::testing::Test::HasFailure() ? 1 : 0;
  MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return failed != 0;
}

/// Lattice distance of one step, periodic wrap counted as one step.
int wrappedDistance(const Agent& a, const Agent& b, int nx, int ny, bool periodic) {
  int di = std::abs(a.i - b.i);
  int dj = std::abs(a.j - b.j);
  if (periodic) {
    di = std::min(di, nx - di);
    dj = std::min(dj, ny - dj);
  }
  return di + dj;
}

/// Runs `steps` steps of a model on the world grid (with `threads` OpenMP threads) and of the same model on
/// MPI_COMM_SELF (one thread) and checks, every `every` steps, that the agent lists and B are identical.
void expectIdenticalRuns(const GridSpec& spec, const std::vector<std::uint8_t>& mask, const Config& cfg,
                         int steps, int every, int threads) {
  CityGrid g(MPI_COMM_WORLD, spec);
  CityGrid serial(MPI_COMM_SELF, spec);
  if (!mask.empty()) {
    g.setMask(mask);
    serial.setMask(mask);
  }
  auto dist = vigie::models::ModelRegistry::instance().create("agents", ModelContext{g, cfg, 2024});
  auto& m = dynamic_cast<AgentModel&>(*dist);
  AgentModel ms(serial, AgentModel::paramsFromConfig(cfg), 2024);
  const double dt = m.params().dt;
  const int saved_threads = omp_get_max_threads();
  for (int s = 0; s < steps; s += every) {
    omp_set_num_threads(threads);
    m.advance(s * dt, (s + every) * dt);
    omp_set_num_threads(1);
    ms.advance(s * dt, (s + every) * dt);
    const auto all = m.gatherAgents();
    const auto b = vigie::testing::gatherGlobal(g, state(m, g, "B"));
    const auto agents_field = vigie::testing::gatherGlobal(g, state(m, g, "agents"));
    const auto ref = ms.gatherAgents();
    if (commRank() == 0)
      [&] {
        ASSERT_EQ(all.size(), ref.size()) << "after step " << s + every;
        ASSERT_TRUE(all == ref) << "agent lists differ after step " << s + every;
        const auto bs = state(ms, serial, "B");
        const auto ns = state(ms, serial, "agents");
        for (std::size_t c = 0; c < bs.size(); ++c) {
          ASSERT_EQ(b[c], bs[c]) << "B differs in cell " << c << " after step " << s + every;
          ASSERT_EQ(agents_field[c], ns[c]) << "agents differ in cell " << c;
        }
      }();
    if (rootFailed()) break;
  }
  omp_set_num_threads(saved_threads);
  const auto d = m.diagnostics();
  const auto ds = ms.diagnostics();
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].first, "agents_total");
  EXPECT_EQ(d[3].first, "cv_A");
  for (std::size_t k = 0; k < d.size(); ++k) EXPECT_EQ(d[k].second, ds[k].second) << d[k].first;
  const auto c = m.counts();
  // The comparison is only meaningful if something happened: offences, births and migrations.
  EXPECT_GT(c.offences_total, 50);
  EXPECT_GT(c.births_total, 50);
  if (commSize() > 1) {
    EXPECT_GT(c.migrated_total, 100);
  }
  const auto final_agents = m.gatherAgents();
  if (!mask.empty() && commRank() == 0) {
    for (const Agent& a : final_agents) {
      ASSERT_EQ(mask[static_cast<std::size_t>(a.j * spec.nx + a.i)], 1) << "agent " << a.id << " in a hole";
    }
  }
}

TEST(Agents, PeriodicRunIsBitIdenticalAtAnyRankAndThreadCount) {
  // A long step and many agents (B = 0.75, about 1.3 agents per site, 7% of them offend per step), so B
  // varies from cell to cell and agents live long enough to cross the ranks' edges. Two OpenMP threads
  // against one only at one rank: more would oversubscribe the test machine's cores.
  const auto cfg = makeConfig({{"short2008.eta", "0.03"},
                               {"short2008.theta", "0.05"},
                               {"short2008.gamma", "1.0"},
                               {"short2008.dt", "0.1"},
                               {"agents.initial_per_site", "1.5"}});
  expectIdenticalRuns(lattice(26, 18, Boundary::Periodic), {}, cfg, 300, 50, commSize() == 1 ? 2 : 1);
}

TEST(Agents, ZeroFluxRunWithAHoleIsBitIdenticalAtAnyRankCount) {
  const GridSpec spec = lattice(21, 23, Boundary::ZeroFlux);
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(21 * 23), 1);
  for (int j = 8; j < 14; ++j)
    for (int i = 5; i < 12; ++i) mask[static_cast<std::size_t>(j * 21 + i)] = 0;
  const auto cfg = makeConfig({{"short2008.eta", "0.2"},
                               {"short2008.theta", "0.05"},
                               {"short2008.gamma", "1.0"},
                               {"short2008.dt", "0.1"},
                               {"agents.initial_per_site", "1"}});
  expectIdenticalRuns(spec, mask, cfg, 200, 40, commSize() == 1 ? 2 : 1);
}

TEST(Agents, CountObeysBirthsMinusOffencesEveryStep) {
  const GridSpec spec = lattice(16, 12, Boundary::Periodic);
  const CityGrid g(MPI_COMM_WORLD, spec);
  const auto cfg = makeConfig({{"short2008.theta", "1.0"},
                               {"short2008.gamma", "0.5"},
                               {"short2008.dt", "0.1"},
                               {"agents.initial_per_site", "0.8"}});
  AgentModel m(g, AgentModel::paramsFromConfig(cfg), 5);
  auto before = m.gatherAgents();
  std::int64_t offences = 0, births = 0;
  const auto start = m.counts();
  EXPECT_EQ(start.births_total, 0);
  for (int s = 0; s < 150; ++s) {
    m.advance(s * 0.1, (s + 1) * 0.1);
    const auto c = m.counts();
    const auto after = m.gatherAgents();
    const auto events = vigie::testing::gatherGlobal(g, state(m, g, "events"));
    const auto per_cell = vigie::testing::gatherGlobal(g, state(m, g, "agents"));
    offences += c.offences_last;
    births += c.births_last;
    if (commRank() == 0)
      [&] {
        ASSERT_EQ(c.agents, static_cast<std::int64_t>(after.size()));
        ASSERT_EQ(c.agents, static_cast<std::int64_t>(before.size()) + c.births_last - c.offences_last);
        EXPECT_EQ(std::accumulate(events.begin(), events.end(), 0.0), static_cast<double>(c.offences_last));
        EXPECT_EQ(std::accumulate(per_cell.begin(), per_cell.end(), 0.0), static_cast<double>(c.agents));
        // Independent of the model's counters: ids that vanished are the offenders, ids that appeared are the
        // newborns of this step, standing on their birth cell; every other agent took one lattice step.
        std::map<std::uint64_t, Agent> old;
        for (const Agent& a : before) old.emplace(a.id, a);
        std::int64_t appeared = 0;
        for (const Agent& a : after) {
          const auto it = old.find(a.id);
          if (it == old.end()) {
            ++appeared;
            ASSERT_EQ(m.birthStep(a.id), s);
            ASSERT_EQ(m.birthCell(a.id), static_cast<std::int64_t>(a.j) * spec.nx + a.i);
          } else {
            ASSERT_EQ(wrappedDistance(a, it->second, spec.nx, spec.ny, true), 1);
            old.erase(it);
          }
        }
        ASSERT_EQ(appeared, c.births_last);
        ASSERT_EQ(static_cast<std::int64_t>(old.size()), c.offences_last);
      }();
    if (rootFailed()) return;
    before = after;
  }
  const auto end = m.counts();
  EXPECT_EQ(end.births_total, births);
  EXPECT_EQ(end.offences_total, offences);
  EXPECT_GT(births, 100);
  EXPECT_GT(offences, 100);
}

/// Gathers every rank's owned box on rank 0.
std::vector<vigie::store::Box> boxes(const CityGrid& g) {
  const auto& b = g.ownedBox();
  const int mine[4] = {b.i0, b.j0, b.ni, b.nj};
  std::vector<int> all(static_cast<std::size_t>(4 * commSize()));
  MPI_Gather(mine, 4, MPI_INT, all.data(), 4, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<vigie::store::Box> out;
  for (std::size_t r = 0; r + 3 < all.size(); r += 4)
    out.push_back({all[r], all[r + 1], all[r + 2], all[r + 3]});
  return out;
}

int owner(const std::vector<vigie::store::Box>& bs, const Agent& a) {
  for (std::size_t r = 0; r < bs.size(); ++r)
    if (a.i >= bs[r].i0 && a.i < bs[r].i0 + bs[r].ni && a.j >= bs[r].j0 && a.j < bs[r].j0 + bs[r].nj)
      return static_cast<int>(r);
  return -1;
}

void checkMigration(Boundary boundary) {
  // A0 = B = 0, no births, theta = 0: nobody offends and the walk is uniform, so the agents must all
  // survive every step, each one lattice step from where it was.
  const GridSpec spec = lattice(12, 10, boundary);
  const bool periodic = boundary == Boundary::Periodic;
  const CityGrid g(MPI_COMM_WORLD, spec);
  const auto cfg = makeConfig({{"short2008.a0", "0"},
                               {"short2008.theta", "0"},
                               {"short2008.gamma", "0"},
                               {"agents.initial_b", "0"},
                               {"agents.initial_per_site", "3"}});
  AgentModel m(g, AgentModel::paramsFromConfig(cfg), 11);
  const auto bs = boxes(g);
  auto before = m.gatherAgents();
  const auto n0 = before.size();
  std::int64_t changed_owner = 0, wrapped = 0, blocked = 0;
  for (int s = 0; s < 60; ++s) {
    m.advance(s * 0.01, (s + 1) * 0.01);
    const auto after = m.gatherAgents();
    if (commRank() == 0)
      [&] {
        ASSERT_EQ(after.size(), n0) << "agents lost or duplicated at step " << s;
        for (std::size_t k = 0; k < after.size(); ++k) {
          const Agent& a = after[k];
          const Agent& b = before[k];
          ASSERT_EQ(a.id, b.id);
          ASSERT_TRUE(a.i >= 0 && a.i < spec.nx && a.j >= 0 && a.j < spec.ny);
          ASSERT_EQ(wrappedDistance(a, b, spec.nx, spec.ny, periodic), 1);
          if (owner(bs, a) != owner(bs, b)) ++changed_owner;
          if (std::abs(a.i - b.i) > 1 || std::abs(a.j - b.j) > 1) ++wrapped;
          if ((b.i == 0 || b.i == spec.nx - 1 || b.j == 0 || b.j == spec.ny - 1)) ++blocked;
        }
      }();
    if (rootFailed()) return;
    before = after;
  }
  const auto c = m.counts();
  EXPECT_EQ(c.offences_total, 0);
  EXPECT_EQ(c.births_total, 0);
  if (commRank() == 0) {
    EXPECT_EQ(c.agents, static_cast<std::int64_t>(n0));
    EXPECT_EQ(changed_owner, c.migrated_total) << "every change of owner is one migration";
    EXPECT_GT(n0, 300u);
    if (commSize() > 1) {
      EXPECT_GT(changed_owner, 100);
    }
    if (periodic) {
      EXPECT_GT(wrapped, 50) << "agents must cross the periodic edges";
    } else {
      EXPECT_EQ(wrapped, 0);
      EXPECT_GT(blocked, 50);
    }
  }
}

TEST(Agents, MigrationAcrossInternalAndPeriodicEdgesConservesAgents) {
  checkMigration(Boundary::Periodic);
}

TEST(Agents, MigrationWithZeroFluxEdgesKeepsAgentsOnTheGrid) {
  checkMigration(Boundary::ZeroFlux);
}

TEST(Agents, BiasedWalkChoosesNeighboursInProportionToAttractiveness) {
  // 4000 agents on cell (5, 5); A = A0 + B with A0 = 1 and B = 3 on the east neighbour, 1 on the north one,
  // 0 elsewhere: the walk must pick west, east, south, north with probabilities 1/8, 4/8, 1/8, 2/8.
  const GridSpec spec = lattice(10, 10, Boundary::Periodic);
  const CityGrid g(MPI_COMM_WORLD, spec);
  const auto cfg = makeConfig({{"short2008.a0", "1"},
                               {"short2008.theta", "0"},
                               {"short2008.gamma", "0"},
                               {"short2008.dt", "1e-9"},
                               {"agents.initial_b", "0"},
                               {"agents.initial_per_site", "0"}});
  AgentModel m(g, AgentModel::paramsFromConfig(cfg), 99);
  const auto& box = g.ownedBox();
  std::vector<double> b(static_cast<std::size_t>(box.cells()), 0.0);
  std::vector<double> n(b.size(), 0.0);
  for (int j = box.j0; j < box.j0 + box.nj; ++j)
    for (int i = box.i0; i < box.i0 + box.ni; ++i) {
      const auto c = static_cast<std::size_t>((j - box.j0) * box.ni + (i - box.i0));
      if (i == 6 && j == 5) b[c] = 3.0;
      if (i == 5 && j == 6) b[c] = 1.0;
      if (i == 5 && j == 5) n[c] = 4000.0;
    }
  m.setState("B", b);
  m.setState("agents", n);
  m.advance(0.0, 1e-9);
  const auto all = m.gatherAgents();
  if (commRank() != 0) return;
  ASSERT_EQ(all.size(), 4000u);
  std::map<std::pair<int, int>, int> hits;
  for (const Agent& a : all) ++hits[{a.i, a.j}];
  const std::map<std::pair<int, int>, double> expected = {
      {{4, 5}, 1.0 / 8.0}, {{6, 5}, 4.0 / 8.0}, {{5, 4}, 1.0 / 8.0}, {{5, 6}, 2.0 / 8.0}};
  int total = 0;
  for (const auto& [cell, p] : expected) {
    const double count = hits[cell];
    total += hits[cell];
    const double sd = std::sqrt(4000.0 * p * (1.0 - p));
    EXPECT_NEAR(count, 4000.0 * p, 5.0 * sd) << "neighbour (" << cell.first << ", " << cell.second << ")";
  }
  EXPECT_EQ(total, 4000);
}

TEST(Agents, EnsembleMeanFieldMatchesTheHomogeneousState) {
  // Set (a) of the paper (eta = 0.2: the homogeneous state is stable) on a 24 x 24 periodic lattice,
  // started empty (no agents, B = 0) so the state must be reached, not merely kept. Members differ by
  // their seed and run on MPI_COMM_SELF, spread over the ranks. Each member's average over days 120-240
  // (sampled daily) is one sample; the ensemble mean must lie within 4 standard errors of the
  // homogeneous state B = theta Gamma / omega = 0.1596, n = Gamma / (A0 + B) = 0.0985 agents per site and
  // offences = Gamma per site per day.
  const int members = 16;
  const auto cfg =
      makeConfig({{"short2008.eta", "0.2"}, {"agents.initial_per_site", "0"}, {"agents.initial_b", "0"}});
  const CityGrid g(MPI_COMM_SELF, lattice(24, 24, Boundary::Periodic));
  const double sites = 24.0 * 24.0;
  std::vector<double> local(3 * members, 0.0);
  for (int k = commRank(); k < members; k += commSize()) {
    AgentModel m(g, AgentModel::paramsFromConfig(cfg), 1000 + static_cast<std::uint64_t>(k));
    m.advance(0.0, 120.0);
    double sb = 0, sn = 0, si = 0;
    const int samples = 120;
    for (int d = 0; d < samples; ++d) {
      m.advance(120.0 + d, 121.0 + d);
      const auto b = state(m, g, "B");
      std::vector<double> intensity(b.size(), 0.0);
      m.contributeIntensity(intensity);
      sb += std::accumulate(b.begin(), b.end(), 0.0) / sites;
      sn += static_cast<double>(m.localAgents().size()) / sites;
      si += std::accumulate(intensity.begin(), intensity.end(), 0.0) / sites;
    }
    local[static_cast<std::size_t>(3 * k)] = sb / samples;
    local[static_cast<std::size_t>(3 * k + 1)] = sn / samples;
    local[static_cast<std::size_t>(3 * k + 2)] = si / samples;
  }
  std::vector<double> all(local.size());
  MPI_Allreduce(local.data(), all.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  const AgentParams p = AgentModel::paramsFromConfig(cfg);
  const double b_bar = p.theta * p.gamma / p.omega;
  const double n_bar = p.gamma / (p.a0 + b_bar);
  const double expected[3] = {b_bar, n_bar, p.gamma};
  const char* names[3] = {"B", "agents per site", "offences per site per day"};
  for (int q = 0; q < 3; ++q) {
    double mean = 0, var = 0;
    for (int k = 0; k < members; ++k) mean += all[static_cast<std::size_t>(3 * k + q)] / members;
    for (int k = 0; k < members; ++k) {
      const double d = all[static_cast<std::size_t>(3 * k + q)] - mean;
      var += d * d / (members - 1);
    }
    const double se = std::sqrt(var / members);
    if (commRank() == 0)
      std::printf("[ agents ] %s: ensemble mean %.5f, expected %.5f, standard error %.5f (%.2f SE)\n",
                  names[q], mean, expected[q], se, (mean - expected[q]) / se);
    EXPECT_LT(se, 0.03 * expected[q]) << names[q] << ": the ensemble is too small to test anything";
    EXPECT_NEAR(mean, expected[q], 4.0 * se) << names[q];
  }
}

}  // namespace
