#pragma once
/// The one time loop of a Vigie run: advance the enabled models, aggregate their intensities, write on
/// schedule.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/Provenance.hpp"
#include "models/Model.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core
namespace vigie::grid {
class CityGrid;
}
namespace vigie::store {
class FieldFile;
}

namespace vigie::forecast {

/// What a run produced, for the summary line and the audit record.
struct RunSummary {
  std::filesystem::path output_file;
  int snapshots = 0;
  double horizon_days = 0.0;
  double final_intensity_sum = 0.0;  ///< expected events per day over the grid at the last snapshot
  std::vector<std::string> models;
};

/// Runs the enabled models on the grid from day 0 to run.horizon_days and writes `<output.dir>/vigie_run.h5`:
/// /fields/mask, /fields/observations (counts observed so far; empty until an observation store is attached),
/// /fields/intensity [nt][ny][nx] (expected events per cell per day at each output time), the grid geometry
/// and the run's provenance.
class ForecastDriver {
 public:
  static void declareOptions(core::OptionSet& options);

  /// Collective. Creates the enabled models from the registry.
  ForecastDriver(const grid::CityGrid& grid, const core::Config& config, core::Provenance provenance);
  ~ForecastDriver();

  /// Collective. The single time loop: advance every model to min(next output, end), aggregate, write.
  RunSummary run(const std::filesystem::path& output_dir);

  [[nodiscard]] std::vector<models::Model*> models() const;

  /// Not collective. Observed events per owned cell (owned-box order) for the published /fields/observations;
  /// cells below privacy.min_count are shown as 0 there.
  void setObservations(std::vector<std::int64_t> owned_counts);

 private:
  void aggregate(std::vector<double>& intensity) const;

  const grid::CityGrid& m_grid;
  const core::Config& m_config;
  core::Provenance m_provenance;
  std::vector<std::unique_ptr<models::Model>> m_models;
  std::vector<std::int64_t> m_observed;
  std::int64_t m_min_count = 0;
  double m_horizon;
  double m_output_every;
};

/// Collective. Writes the provenance attributes (version, git hash, config, ranks, threads, seed) to a file.
void writeProvenance(store::FieldFile& file, const core::Provenance& p);

}  // namespace vigie::forecast
