#pragma once
/// The observation store <output.dir>/obs.h5: per-category event counts on the grid for every time bin,
/// kept up to date with the journal, by a rebuild or by an in-place append guarded by a `dirty` flag.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/Coverage.hpp"
#include "ingest/Event.hpp"
#include "ingest/TimeBinning.hpp"

namespace vigie::grid {
class CityGrid;
}
namespace vigie::store {
class FieldFile;
}

namespace vigie::ingest {

/// What the store is made of besides the events.
struct StoreMeta {
  std::vector<std::string> categories;  ///< Event::category indexes this list; names become dataset names
  TimeBinning binning;                  ///< bin unit and time zone
  Coverage coverage;                    ///< periods the sources cover; bins outside are marked missing
  bool flagged =
      false;  ///< the source has a reported/discovered flag: also store /counts_discovered/<category>
  std::string fingerprint;  ///< the journal's fingerprint (grid, bins, zone, categories); a change rebuilds
  std::vector<std::pair<std::string, std::string>>
      attributes;  ///< extra root attributes (provenance, sources)
};

/// The stored time axis: absolute bin index of t = 0 and the number of bins.
struct TimeAxis {
  std::int64_t first_bin = 0;
  std::int64_t nt = 0;
};

/// What update() did; the same on every rank.
struct StoreSummary {
  TimeAxis axis;
  std::string first_iso;             ///< local ISO start of t = 0 ("" when nt = 0)
  std::vector<std::int64_t> totals;  ///< events stored per category, whole store
  std::int64_t events_counted = 0;   ///< journal records counted by this update
  std::int64_t journal_records = 0;  ///< records the store now includes
  bool rebuilt = false;              ///< true for a rebuild, false for an append or nothing to do
};

/// Writes obs.h5 (schema "vigie.obs/1"): /counts/<category> int32 [nt][ny][nx] (extendible in t),
/// /time/bin_start, /time/bin_start_iso, /time/missing, /mask, /profiles/hour_of_day/<category> int32
/// [24][ny][nx], root attributes schema, categories, journal_records, dirty, bin, timezone, first_bin,
/// fingerprint.
class ObservationStore {
 public:
  /// Called with the open store after the counts are written and before it is marked clean, so layers
  /// written there (covariates) are part of the same crash-safe update. On an append, datasets written by an
  /// earlier update are still there (1-D ones can be rewritten with FieldFile::write1d at the new nt).
  using ExtraWriter = std::function<void(store::FieldFile&, const TimeAxis&)>;

  /// Collective. Brings `path` up to date with the journal records (`records`, significant on rank 0 only;
  /// the other ranks may pass an empty vector). Rebuilds into a temporary file and renames it when the file
  /// is missing, unreadable, of another fingerprint or geometry, left dirty, ahead of the journal, or when
  /// new events fall before its first bin; otherwise appends the records it does not include yet, in place:
  /// dirty=1 and flush, extend the time axis, add the new counts to the slices of each rank's own box,
  /// dirty=0, flush. Each rank counts the events of the cells it owns. Error(Internal) on every rank for an
  /// event whose cell or category is out of range.
  static StoreSummary update(const grid::CityGrid& grid, const std::filesystem::path& path,
                             const StoreMeta& meta, const std::vector<Event>& records,
                             const ExtraWriter& extra = {});

  /// Collective. True when `path` is a clean observation store of this fingerprint (and coverage) that
  /// already includes `journal_records` records; false when it is missing, unreadable, dirty or behind.
  static bool isUpToDate(MPI_Comm comm, const std::filesystem::path& path, const StoreMeta& meta,
                         std::int64_t journal_records);

  /// The fingerprint stored in obs.h5: the journal's plus the coverage (it decides the missing flags).
  static std::string storeFingerprint(const StoreMeta& meta);
};

}  // namespace vigie::ingest
