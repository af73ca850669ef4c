#include "ingest/Event.hpp"

namespace vigie::ingest {

// Days from civil: the classic era-based algorithm for the proleptic Gregorian calendar.
std::int64_t daysFromCivil(int year, int month, int day) noexcept {
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int daysInMonth(int year, int month) noexcept {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[(month - 1) % 12];
}

std::int64_t civilSeconds(const CivilTime& t) noexcept {
  return daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60;
}

CivilTime civilFromSeconds(std::int64_t s) noexcept {
  std::int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  const std::int64_t rem = s - days * 86400;
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  CivilTime t;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = static_cast<int>(yoe + era * 400 + (t.month <= 2 ? 1 : 0));
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>((rem % 3600) / 60);
  return t;
}

const char* rejectReasonName(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::MalformedRow:
      return "malformed_row";
    case RejectReason::UnparseableTime:
      return "unparseable_time";
    case RejectReason::MissingCoordinates:
      return "missing_coordinates";
    case RejectReason::WithheldLocation:
      return "withheld_location";
    case RejectReason::OutsideGrid:
      return "outside_grid";
    case RejectReason::OutsideMask:
      return "outside_mask";
    case RejectReason::UnknownCategory:
      return "unknown_category";
    case RejectReason::DuplicateRow:
      return "duplicate_row";
    case RejectReason::PrecisionTooCoarse:
      return "precision_too_coarse";
    case RejectReason::OutsideCoverage:
      return "outside_coverage";
  }
  return "unknown";
}

}  // namespace vigie::ingest
