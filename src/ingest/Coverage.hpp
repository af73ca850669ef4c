#pragma once
/// The periods a case declares its sources to cover: `ingest.coverage = 2018-01-01/2018-12-31, 2020-01-01/`.
/// A bin outside every period is marked missing in /time/missing, never stored as zero incidents.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace vigie::ingest {

/// Days since 1970-01-01 of an ISO date "YYYY-MM-DD". Throws Error(Usage) naming `what` if malformed.
std::int64_t parseIsoDay(const std::string& text, const std::string& what);

/// Inclusive range of local days; `last_day` is the largest int64 for an open end ("2024-01-01/").
struct CoverageInterval {
  std::int64_t first_day = 0;
  std::int64_t last_day = std::numeric_limits<std::int64_t>::max();
};

/// The declared coverage (sorted, non-overlapping). Empty list = everything covered.
class Coverage {
 public:
  /// Parses items "START/END" or "START/" (ISO dates, END inclusive). Throws Error(Usage) naming the item.
  static Coverage parse(const std::vector<std::string>& items);
  [[nodiscard]] bool coversDay(std::int64_t day) const noexcept;
  /// True if every day of [first_day, last_day] is covered.
  [[nodiscard]] bool coversAll(std::int64_t first_day, std::int64_t last_day) const noexcept;
  [[nodiscard]] const std::vector<CoverageInterval>& intervals() const noexcept { return m_intervals; }
  [[nodiscard]] bool empty() const noexcept { return m_intervals.empty(); }

 private:
  std::vector<CoverageInterval> m_intervals;
};

}  // namespace vigie::ingest
