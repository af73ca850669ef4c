#pragma once
/// Time zones read from the system's TZif database and the time bins of the observation store (hour bins in
/// UTC; day, ISO week and calendar month bins in local civil time, so a daylight-saving day has 23 or 25
/// hours).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ingest/Event.hpp"

namespace vigie::ingest {

/// An IANA time zone (Europe/Paris, America/Vancouver) loaded from /usr/share/zoneinfo (or $TZDIR): the
/// transitions of the TZif file and, for instants after the last one, the POSIX TZ rule of its footer.
/// libstdc++ 12 has no std::chrono::tzdb, and setenv("TZ") would change process-wide state.
class TimeZone {
 public:
  /// Not collective. Loads the zone; Error(Usage) naming it if there is no such zone or its file is
  /// malformed.
  explicit TimeZone(const std::string& name);

  /// The IANA name given to the constructor.
  [[nodiscard]] const std::string& name() const noexcept { return m_name; }
  /// Offset from UTC, seconds east (Paris in summer: 7200), in force at the UTC instant `utc`.
  [[nodiscard]] std::int32_t offsetAt(std::int64_t utc) const noexcept;
  /// Local civil seconds (Event::civil_seconds) of a UTC instant.
  [[nodiscard]] std::int64_t toCivil(std::int64_t utc) const noexcept { return utc + offsetAt(utc); }
  /// UTC instant of a local civil time. A time that does not exist (the spring-forward gap) is moved forward
  /// by the gap (02:30 on the Paris spring day becomes 03:30 CEST); an ambiguous time (the fall-back overlap)
  /// takes its first occurrence (the summer-time one).
  [[nodiscard]] std::int64_t toUtc(std::int64_t civil) const noexcept;

 private:
  struct RuleDate {
    char kind = 'M';  // 'M' month.week.weekday, 'J' Julian day 1..365 without Feb 29, 'N' day 0..365
    int month = 0, week = 0, weekday = 0, day = 0;
    std::int32_t time = 7200;  // local time of day of the change, seconds (may be negative or beyond 24 h)
  };
  struct PosixRule {
    bool valid = false;
    bool has_dst = false;
    std::int32_t std_offset = 0;  // seconds east
    std::int32_t dst_offset = 0;
    RuleDate start;
    RuleDate end;
  };

  void parseTzif(const std::string& bytes, const std::string& file);
  static PosixRule parsePosix(const std::string& text);
  [[nodiscard]] std::int32_t ruleOffset(std::int64_t utc) const noexcept;
  [[nodiscard]] static std::int64_t ruleLocalSeconds(const RuleDate& d, int year) noexcept;

  std::string m_name;
  std::vector<std::int64_t> m_transitions;   // UTC instants, increasing
  std::vector<std::int32_t> m_offset_after;  // offset in force from each transition on
  std::int32_t m_initial_offset = 0;         // before the first transition
  PosixRule m_rule;                          // after the last transition, when the file has a footer
};

/// Not collective. Local ISO-8601 time of a UTC instant with its offset: "2018-03-11T00:00-08:00".
std::string isoLocal(const TimeZone& zone, std::int64_t utc);

/// The width of one time bin (`ingest.bin`).
enum class BinUnit { Hour, Day, Week, Month };

/// Not collective. Parses hour|day|week|month; Error(Usage) naming `key` otherwise.
BinUnit parseBinUnit(const std::string& text, const std::string& key = "ingest.bin");
/// The config spelling of a unit.
const char* binUnitName(BinUnit unit) noexcept;

/// Absolute bin indices: hour bins = floor(utc / 3600); day = local days since 1970-01-01; week =
/// floor((day + 3) / 7) (1970-01-01 was a Thursday, so weeks start on Monday as ISO weeks do); month =
/// (year - 1970) * 12 + month - 1.
class TimeBinning {
 public:
  /// Not collective. Bins of `unit` in `zone`.
  TimeBinning(BinUnit unit, TimeZone zone) : m_unit(unit), m_zone(std::move(zone)) {}

  [[nodiscard]] BinUnit unit() const noexcept { return m_unit; }
  [[nodiscard]] const TimeZone& zone() const noexcept { return m_zone; }
  /// Whether an event known to `precision` can be binned without inventing precision: minute and hour
  /// always; day for day, week and month bins; month for month bins only.
  [[nodiscard]] bool accepts(TimePrecision precision) const noexcept;
  /// The bin of a local civil time (Event::civil_seconds).
  [[nodiscard]] std::int64_t binOf(std::int64_t civil_seconds) const noexcept;
  /// The first bin that overlaps local day `day` (days since 1970-01-01), for coverage periods.
  [[nodiscard]] std::int64_t binOfDay(std::int64_t day) const noexcept;
  /// Local civil seconds at which bin `b` starts.
  [[nodiscard]] std::int64_t binStartCivil(std::int64_t b) const noexcept;
  /// UTC epoch seconds at which bin `b` starts (local midnight of a day bin converted with the zone).
  [[nodiscard]] std::int64_t binStartUtc(std::int64_t b) const noexcept;
  /// Local ISO-8601 start of bin `b` with its UTC offset: "2018-03-11T00:00-08:00".
  [[nodiscard]] std::string isoStart(std::int64_t b) const;
  /// The text that identifies this binning in journal and store fingerprints: "bin=day;timezone=...".
  [[nodiscard]] std::string fingerprint() const;

 private:
  BinUnit m_unit;
  TimeZone m_zone;
};

}  // namespace vigie::ingest
