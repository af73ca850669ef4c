#pragma once
/// What an accepted incident becomes at the door: a time, a cell, a category and a flag. Nothing else about
/// the source row (address, case number, free text) ever leaves the reader.
#include <cstdint>
#include <string>

namespace vigie::ingest {

/// The finest time resolution a source really has for an event. Precision is recorded, never invented.
enum class TimePrecision : std::uint8_t {
  Minute = 0,
  Hour = 1,
  Day = 2,    ///< e.g. a 00:00 time in a source that uses midnight for "unknown"
  Month = 3,  ///< e.g. BAAC: month and time of day, no day of month
};

/// Whether the incident was reported by the public or discovered by patrols (Ensign et al. 2018 feedback
/// loops).
enum class EventFlag : std::uint8_t { Unknown = 0, Reported = 1, Discovered = 2 };

/// A local civil date-time of the source's time zone (no offset applied).
struct CivilTime {
  int year = 1970;
  int month = 1;  ///< 1..12
  int day = 1;    ///< 1..31
  int hour = 0;
  int minute = 0;
};

/// Seconds since 1970-01-01T00:00 of the local civil calendar (a "naive" time line without DST jumps).
std::int64_t civilSeconds(const CivilTime& t) noexcept;
/// Inverse of civilSeconds.
CivilTime civilFromSeconds(std::int64_t s) noexcept;
/// Days since 1970-01-01 of a civil date (proleptic Gregorian), and back.
std::int64_t daysFromCivil(int year, int month, int day) noexcept;
/// Number of days in a month.
int daysInMonth(int year, int month) noexcept;

/// One accepted event. 40 bytes; also the journal's record payload.
struct Event {
  std::int64_t civil_seconds = 0;  ///< local civil time, truncated to `precision`
  std::int64_t cell = 0;           ///< global cell index j * nx + i
  std::int32_t category = 0;       ///< index into ingest.categories
  TimePrecision precision = TimePrecision::Minute;
  EventFlag flag = EventFlag::Unknown;
  std::uint16_t hour_of_day =
      0xFFFF;                ///< 0..23 when the hour is known (even for Month precision), else 0xFFFF
  std::uint64_t key_hi = 0;  ///< identity of the source row: XXH3-128 of the raw row bytes and the
  std::uint64_t key_lo = 0;  ///< occurrence index of identical rows in the file (idempotent re-ingest)
};

/// Why a row was not accepted. Every rejected row gets exactly one reason.
enum class RejectReason : std::uint8_t {
  MalformedRow,        ///< wrong number of fields, unbalanced quotes, bad encoding
  UnparseableTime,     ///< time fields missing or not a valid date-time
  MissingCoordinates,  ///< empty or non-numeric coordinates
  WithheldLocation,    ///< the source withheld the location (e.g. VPD X = Y = 0)
  OutsideGrid,         ///< the point falls outside the grid
  OutsideMask,         ///< inside the grid, outside the study area mask
  UnknownCategory,     ///< the source type is not mapped to a Vigie category
  DuplicateRow,        ///< an exact duplicate row dropped by the profile's duplicate policy
  PrecisionTooCoarse,  ///< the time is known less precisely than the bins need (e.g. month into days)
  OutsideCoverage,     ///< the time falls outside the periods the case declares the source to cover
};

/// Stable lowercase name of a reason, as written in rejects.csv and the summary.
const char* rejectReasonName(RejectReason r) noexcept;

}  // namespace vigie::ingest
