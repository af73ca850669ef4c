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
  std::int64_t last_event_bin = -1;  ///< bin of the latest event the journal holds (-1: none)
  StoreSummary store;
  std::vector<std::string> categories;
};

/// Rows of a stream (`vigie watch`) handed to the pipeline as a chunk file: line 1 the header, line 2 + r the
/// chunk's row r. Identity and place come from the stream, not from the chunk: row r's key is its bytes'
/// hash with its occurrence among identical rows since the stream began (so a stream sent again from its
/// start is appended idempotently), and its rejects name the stream and its line there.
struct StreamChunk {
  std::string source;                     ///< the stream's name in rejects.csv ("stdin", a path)
  std::vector<std::int64_t> stream_line;  ///< row r -> its line in the stream (1-based)
  std::vector<std::uint64_t> key_hi;      ///< row r -> identity (XXH3-128 of the bytes, seeded by occurrence)
  std::vector<std::uint64_t> key_lo;
  std::vector<std::uint32_t> occurrence;  ///< row r -> earlier identical rows in the stream
  std::int64_t skip_rejects_through = 0;  ///< rejects at or before this stream line were already written
  /// Stream lines the watcher refused before the chunk (an unbalanced quote, a control byte, over 1 MiB):
  /// each is a row read and rejected as malformed_row, so one bad line never stops the stream.
  std::vector<std::int64_t> malformed_lines;
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
  /// With `chunk` (significant on rank 0), ingest.events names one chunk file of a stream (see StreamChunk);
  /// with a profile that drops duplicates, a row identical to an earlier row of the stream is dropped. With
  /// `chunk` and no file, nothing is read: the journal is opened (a torn last record cut off) and the store
  /// brought up to date with it (what a watcher does first after a crash).
  static IngestSummary run(const core::Config& config, grid::CityGrid& grid, const std::filesystem::path& out,
                           bool append, const core::Provenance& provenance,
                           const StreamChunk* chunk = nullptr);

  /// Collective. True when ingest.events is set and <out>/obs.h5 is missing or older than the configuration
  /// or any input file it names (events, profile, covariate files).
  [[nodiscard]] static bool needed(MPI_Comm comm, const core::Config& config,
                                   const std::filesystem::path& out);

  /// Collective. Events per owned cell over every category and bin of <out>/obs.h5 (owned-box order). When
  /// the grid's mask comes from events, also sets it from the store's /mask.
  [[nodiscard]] static std::vector<std::int64_t> observedTotals(grid::CityGrid& grid,
                                                                const std::filesystem::path& out);

  /// Collective. The bin (of ingest.bin in ingest.timezone) of the latest event in <out>/obs.journal, -1
  /// when it holds none. The store's time axis may run further (to the end of ingest.coverage).
  [[nodiscard]] static std::int64_t lastEventBin(const core::Config& config, const grid::CityGrid& grid,
                                                 const std::filesystem::path& out);

  /// Human summary printed by `vigie ingest` (rank 0).
  [[nodiscard]] static std::string describe(const IngestSummary& s);
};

}  // namespace vigie::ingest
