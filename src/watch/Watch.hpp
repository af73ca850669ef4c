#pragma once
/// `vigie watch`: the real-time loop. New event rows stream in (LineStream, rank 0), are appended to the
/// store through the journaled ingest (crash-safe and idempotent), and once per cycle of data time (a whole
/// number of store bins, watch.cycle_bins) the watcher
///   1. assimilates the cycle's counts into an ensemble of log-intensity corrections of the published model
///      (LETKF, assim/EnsembleFilter),
///   2. scans the last cycles for clusters the forecast did not expect (verify/SpaceTimeScan, Monte Carlo
///      significance, recurrence interval) and raises de-duplicated alerts,
///   3. moves the models on over the cycle and refreshes the forecast of the next cycle.
/// Its state (ensemble, scan window, active alerts) is committed after every cycle to
/// <output.dir>/watch/state.h5, so a watcher killed at any point and started again with the same stream goes
/// on where it stopped: nothing lost, nothing counted twice. See docs/realtime.md.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::core {
class Config;
class OptionSet;
struct Provenance;
}  // namespace vigie::core
namespace vigie::grid {
class CityGrid;
}

namespace vigie::watch {

/// What a watch did (the same on every rank).
struct WatchResult {
  nlohmann::json doc;                ///< watch/watch.json
  std::vector<std::string> outputs;  ///< files written, relative to output.dir
  bool interrupted = false;          ///< stopped by SIGTERM/SIGINT after committing its state (exit 8)
};

class Watch {
 public:
  static void declareOptions(core::OptionSet& options);

  /// Collective. Watches watch.stream until it ends (or a stop signal), on the store <out>/obs.h5 (which must
  /// exist; its mask already set on `grid`). Error(Usage) for a bad option, Error(InputData) for a state file
  /// of another configuration.
  static WatchResult run(grid::CityGrid& grid, const core::Config& config, const core::Provenance& provenance,
                         const std::filesystem::path& out);
};

}  // namespace vigie::watch
