#pragma once
/// `vigie ingest`: event files -> rejects, journal, observation store (counts, time axis, covariates).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ingest/ObservationStore.hpp"

namespace vigie::core {
class Config;
class OptionSet;
struct Provenance;
}  // namespace vigie::core
namespace vigie::grid {
class CityGrid;
}

namespace vigie::ingest {

/// What one ingest did. Invariant: accepted + rejected_total = rows_read.
struct IngestSummary {
  std::vector<std::string> files;
  std::int64_t rows_read = 0;
  std::int64_t accepted = 0;        ///< rows that passed every check (new or already in the journal)
  std::int64_t new_events = 0;      ///< accepted rows the journal did not hold yet
  std::int64_t duplicate_rows = 0;  ///< exact duplicate rows seen (kept or dropped per profile)
  std::int64_t rejected_total = 0;
  std::map<std::string, std::int64_t> rejected;  ///< by reason name
  std::int64_t missing_bins = 0;
  StoreSummary store;
  std::vector<std::string> categories;
};

/// The ingest pipeline. Rank 0 reads the files and keeps the journal; every rank counts its own cells.
class IngestPipeline {
 public:
  static void declareOptions(core::OptionSet& options);

  /// Collective. Reads every file of ingest.events with the profile of ingest.profile, appends the accepted
  /// events to <out>/obs.journal (fsync'd, idempotent), brings <out>/obs.h5 up to date, appends rejected rows
  /// to <out>/rejects.csv. A malformed file stops everything before anything is written (Error(InputData)).
  /// With `append`, the store must exist already. The grid's mask is set from the events when
  /// grid.mask_events_within_m > 0.
  static IngestSummary run(const core::Config& config, grid::CityGrid& grid, const std::filesystem::path& out,
                           bool append, const core::Provenance& provenance);

  /// Collective. True when ingest.events is set and <out>/obs.h5 is missing or older than the configuration
  /// or any input file it names (events, profile, covariate files).
  [[nodiscard]] static bool needed(MPI_Comm comm, const core::Config& config,
                                   const std::filesystem::path& out);

  /// Collective. Events per owned cell over every category and bin of <out>/obs.h5 (owned-box order). When
  /// the grid's mask comes from events, also sets it from the store's /mask.
  [[nodiscard]] static std::vector<std::int64_t> observedTotals(grid::CityGrid& grid,
                                                                const std::filesystem::path& out);

  /// Human summary printed by `vigie ingest` (rank 0).
  [[nodiscard]] static std::string describe(const IngestSummary& s);
};

}  // namespace vigie::ingest
