#pragma once
/// The reader at the door: parses one event file (plain or gzip CSV) with a source profile into Events and
/// Rejects. Only (time, precision, cell, category, flag, hour of day, row key) leave it; no row content does.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/Event.hpp"
#include "ingest/SourceProfile.hpp"

namespace vigie::grid {
class CityGrid;
}
namespace vigie::geo {
class Projection;
}

namespace vigie::ingest {

/// One rejected data row: where it is and why, never what it holds.
struct Reject {
  std::string file;   ///< the event file as given to EventReader::read
  std::int64_t line;  ///< 1-based line on which the row starts (the header is line 1)
  RejectReason reason;
};

/// Counts of one read. Always accepted + sum(rejected) == rows_read.
struct ReadStats {
  std::int64_t rows_read = 0;       ///< data rows (header and blank lines excluded)
  std::int64_t accepted = 0;        ///< rows that became events
  std::int64_t duplicate_rows = 0;  ///< rows identical to an earlier row of the file (kept or dropped)
  std::map<RejectReason, std::int64_t> rejected;
  /// Sum of the rejected counts.
  [[nodiscard]] std::int64_t rejectedTotal() const noexcept;
};

/// Everything one file gives: accepted events in file order, rejects in line order, counts.
struct ReadResult {
  std::vector<Event> events;
  std::vector<std::int64_t>
      lines;  ///< the line of each event (parallel to events), for rejects decided later
  std::vector<Reject> rejects;
  ReadStats stats;
};

/// Parses event files with one source profile onto one grid.
class EventReader {
 public:
  /// Not collective. `categories` are the case's Vigie category names (ingest.categories); an event's
  /// `category` is an index into them. The profile's map (or category.fixed) must target only these: a map
  /// naming an unknown Vigie category is core::Error(Usage) naming the profile file and line. Coordinates are
  /// projected from the profile's CRS to the grid's (no projection when they are the same; on a lattice grid,
  /// coordinates are taken as lattice units).
  EventReader(const SourceProfile& profile, std::vector<std::string> categories, const grid::CityGrid& grid);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  /// Not collective (call on one rank). Reads a plain or gzip CSV (detected by its magic bytes). Rows that
  /// cannot be used become Rejects; checks run in the order malformed row, unknown category, time, missing or
  /// withheld coordinates, outside grid, duplicate (so a dropped duplicate is one whose first copy was
  /// accepted). Throws core::Error(InputData, "<file>:<line>: <reason>") for a malformed file: unreadable,
  /// empty, binary data, a header without a required column (e.g. a wrong delimiter), an unbalanced quote, a
  /// truncated or corrupt gzip stream. A header-only file gives zero rows.
  [[nodiscard]] ReadResult read(const std::filesystem::path& file) const;

  [[nodiscard]] const SourceProfile& profile() const noexcept { return m_profile; }
  [[nodiscard]] const std::vector<std::string>& categories() const noexcept { return m_categories; }

 private:
  SourceProfile m_profile;
  std::vector<std::string> m_categories;
  const grid::CityGrid& m_grid;
  std::unique_ptr<geo::Projection> m_projection;  ///< null when the source CRS is the grid's
  /// source type -> index into m_categories; a short list scanned linearly (cheaper than hashing each row)
  std::vector<std::pair<std::string, std::int32_t>> m_category_of;
  std::int32_t m_fixed_category = -1;                           ///< category.fixed as an index, or -1
  std::vector<std::pair<std::string, std::int32_t>> m_flag_of;  ///< flag value -> EventFlag as an integer
};

}  // namespace vigie::ingest
