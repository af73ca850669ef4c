#pragma once
/// `vigie forecast`: the main job. The enabled models (or the blend of them that the backtest's stacking
/// chose) replay the observation store up to the forecast start, fitted models are fitted on everything
/// observed, and for each horizon of forecast.horizons (e.g. the next 24 hours by hour, the next 7 days by
/// day, the next month) the driver writes, per step and cell: the expected count, P(at least one event) and
/// the 10th/50th/90th percentiles over an ensemble (parameter draws from the fit; Poisson members for the
/// predictive counts of the city and of each area). Layout of the outputs: docs/forecast.md.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/Provenance.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core
namespace vigie::grid {
class CityGrid;
}

namespace vigie::forecast {

/// One horizon of forecast.horizons: `name=unit:steps`, e.g. next_24h=hour:24.
struct HorizonSpec {
  std::string name;
  std::string unit;  ///< hour, day, week or month (local calendar steps)
  int steps = 1;
};

/// What a forecast wrote.
struct ForecastResult {
  nlohmann::json doc;                ///< forecast.json (the same on every rank)
  std::vector<std::string> outputs;  ///< files under <output.dir>/forecast/, relative to output.dir
  std::int64_t resumed_step = -1;    ///< the step a restarted run resumed from (-1: a fresh run)
};

class Forecast {
 public:
  /// Declares forecast.*, output.lang and privacy.radius_m.
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Parses forecast.horizons; Error(Usage) naming the key for a malformed entry.
  static std::vector<HorizonSpec> horizons(const core::Config& config);

  /// Collective. Runs the forecast on `grid` (whose mask must be the store's) from <out>/obs.h5 (and
  /// <out>/backtest.json for the blend weights, the tuned parameters and the skill) and writes
  /// <out>/forecast/: forecast.h5 (+ .xmf), one GeoTIFF per horizon and map (<H>_expected.tif,
  /// <H>_p_any.tif), forecast.json and the planners' products (Products.hpp).
  ///
  /// Checkpoints: after every forecast.checkpoint_every steps (counted over all horizons), and when any rank
  /// receives SIGTERM or SIGINT (polled after each step), it writes <out>/forecast/checkpoint.h5 (atomic);
  /// after a signal it throws Error(Interrupted) ("stopped after step k"). With `restart` (or on a Slurm
  /// requeue) it replays and fits again (deterministic), restores the steps done from the checkpoint and
  /// logs "resuming at step k"; the outputs are then identical to an uninterrupted run's.
  static ForecastResult run(const grid::CityGrid& grid, const core::Config& config,
                            const core::Provenance& provenance, const std::filesystem::path& out,
                            bool restart = false);
};

}  // namespace vigie::forecast
