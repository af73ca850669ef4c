#pragma once
/// `vigie scenario --config CASE.ini --scenario FILE.ini`: the baseline forecast and the scenario's, as
/// paired ensembles over the scenario's window, and their difference. Members (parameter draws of the fitted
/// models and draws of the assumed effect sizes) are split over member groups: MPI_COMM_WORLD is cut into
/// scenario.groups communicators, each of which decomposes the grid, replays and fits the models and computes
/// its members (two-level parallelism). A member's maps do not depend on which group computed it, so the
/// result is the same at any rank count and any group count. Layout of the outputs: docs/scenarios.md.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/Provenance.hpp"
#include "grid/CityGrid.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core

namespace vigie::scenario {

/// What a scenario run wrote.
struct ScenarioResult {
  nlohmann::json doc;                ///< scenario.json (the same on every rank)
  std::vector<std::string> outputs;  ///< files under <output.dir>, relative to it
};

class ScenarioRun {
 public:
  /// Declares scenario.file, scenario.members, scenario.groups, the weekend assumption
  /// (scenario.weekend_ratio, _sd_log, _basis) and the simulators' crowd options (scenario.a0_elasticity,
  /// scenario.agents_per_person).
  static void declareOptions(core::OptionSet& options);

  /// Collective over `world`. Reads the scenario file (refused with the file, line and key of a bad value
  /// before any model work), builds the member groups, runs the paired ensembles and writes
  /// <out>/scenario/delta.h5 (+ .xmf), scenario.json and scenario.md. `spec` is the case's grid and
  /// `global_mask` the store's mask.
  static ScenarioResult run(MPI_Comm world, const grid::GridSpec& spec,
                            const std::vector<std::uint8_t>& global_mask, const core::Config& config,
                            const core::Provenance& provenance, const std::filesystem::path& out);
};

}  // namespace vigie::scenario
