#pragma once
/// Calendar covariates: weekday, public holidays computed by rule (France, British Columbia) and school
/// holidays read from a table that states which dates it covers.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigie::ingest {

/// The local days a time bin covers, [first_day, end_day) in days since 1970-01-01. An hour bin spans the one
/// day it falls in (so it carries that day's weather and holidays) and sets `hour` to its local hour of day.
struct DaySpan {
  std::int64_t first_day = 0;
  std::int64_t end_day = 1;
  int hour = -1;  ///< local hour of day 0..23 of an hour bin's start; -1 for day, week and month bins
};

/// Calendar covariates per bin. public_holiday and school_holiday count the bin's days that are holidays (0/1
/// for hour and day bins); school_holiday counts only the days the table covers, and school_holiday_missing
/// is 1 when some day of the bin is not covered.
struct CalendarColumns {
  std::vector<std::int32_t> weekday;      ///< weekday of the bin's first day, 0 = Monday
  std::vector<std::int32_t> hour_of_day;  ///< DaySpan::hour
  std::vector<std::int32_t> days;         ///< days in the bin
  std::vector<std::int32_t> public_holiday;
  std::vector<std::int32_t> school_holiday;
  std::vector<std::uint8_t> school_holiday_missing;
};

/// Which public-holiday rules apply (`covariates.holidays`).
enum class HolidayRule { None, France, BritishColumbia };

/// Not collective. Parses "FR", "CA-BC" or "none"; throws core::Error(Usage) naming the key otherwise.
HolidayRule parseHolidayRule(const std::string& text);
/// The config spelling of a rule: "FR", "CA-BC" or "none".
const char* holidayRuleName(HolidayRule rule) noexcept;
/// Days since 1970-01-01 of a strict ISO date "YYYY-MM-DD" (a real calendar date), nullopt otherwise.
std::optional<std::int64_t> parseIsoDate(std::string_view text) noexcept;

/// A school-holiday table: inclusive date ranges (days since 1970-01-01) and the range of dates it covers.
/// Outside the covered range the answer is unknown, never "school day".
class SchoolHolidays {
 public:
  /// An empty table that covers no date (every answer unknown).
  SchoolHolidays() = default;
  /// Not collective. Reads the CSV: '#' comments and blank lines ignored; a header line
  /// `coverage_start,coverage_end` followed by one line of two ISO dates; a header line `start,end,label`
  /// followed by one line per holiday (inclusive ISO dates, free label). Throws core::Error(InputData,
  /// "<file>:<line>: <reason>") for a malformed file, a range with end < start or a range outside the
  /// coverage.
  static SchoolHolidays read(const std::filesystem::path& path);

  /// Not collective. True/false for a covered day, nullopt when the table does not cover it.
  [[nodiscard]] std::optional<bool> isHoliday(std::int64_t day) const;
  /// First and last covered day (inclusive); meaningless when covers() is false.
  [[nodiscard]] std::int64_t coverageStart() const noexcept { return m_cover_first; }
  [[nodiscard]] std::int64_t coverageEnd() const noexcept { return m_cover_last; }
  /// Whether the table covers any date at all.
  [[nodiscard]] bool covers() const noexcept { return m_cover_first <= m_cover_last; }

 private:
  std::int64_t m_cover_first = 1;
  std::int64_t m_cover_last = 0;
  std::map<std::int64_t, std::int64_t> m_ranges;  // first day -> last day, inclusive, non-overlapping merged
};

/// Public holidays by rule, weekday and school holidays of local civil dates (days since 1970-01-01).
class Calendar {
 public:
  /// Not collective. A calendar with the given rules; `school` may be an empty table.
  Calendar(HolidayRule rule, SchoolHolidays school);

  /// Days since 1970-01-01 of Easter Sunday of `year` (anonymous Gregorian algorithm).
  static std::int64_t easterSunday(int year) noexcept;
  /// Weekday of a day since 1970-01-01: 0 = Monday ... 6 = Sunday.
  static int weekday(std::int64_t day) noexcept;
  /// The distinct public-holiday dates of `year` under `rule`, sorted (days since 1970-01-01).
  static std::vector<std::int64_t> publicHolidays(HolidayRule rule, int year);

  /// Not collective. Whether `day` is a public holiday under this calendar's rule.
  [[nodiscard]] bool isPublicHoliday(std::int64_t day) const;
  /// Not collective. School holiday (true/false) or nullopt when the table does not cover `day`.
  [[nodiscard]] std::optional<bool> isSchoolHoliday(std::int64_t day) const {
    return m_school.isHoliday(day);
  }
  [[nodiscard]] HolidayRule rule() const noexcept { return m_rule; }
  /// Not collective. The calendar covariates of each bin.
  [[nodiscard]] CalendarColumns columns(const std::vector<DaySpan>& spans) const;

 private:
  HolidayRule m_rule;
  SchoolHolidays m_school;
};

}  // namespace vigie::ingest
