#include "ingest/Calendar.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>

#include "core/Error.hpp"
#include "ingest/Event.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;

std::string_view trimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> splitCommas(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    out.push_back(trimView(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// The n-th (1-based) given weekday (0 = Monday) of a month.
std::int64_t nthWeekday(int year, int month, int wd, int n) {
  const std::int64_t first = daysFromCivil(year, month, 1);
  return first + (wd - Calendar::weekday(first) + 7) % 7 + 7 * static_cast<std::int64_t>(n - 1);
}

constexpr int kMonday = 0;

}  // namespace

HolidayRule parseHolidayRule(const std::string& text) {
  if (text == "FR") return HolidayRule::France;
  if (text == "CA-BC") return HolidayRule::BritishColumbia;
  if (text == "none" || text.empty()) return HolidayRule::None;
  throw Error(ExitCode::Usage,
              "covariates.holidays: unknown holiday rules '" + text + "' (expected FR, CA-BC or none)", true);
}

const char* holidayRuleName(HolidayRule rule) noexcept {
  switch (rule) {
    case HolidayRule::France:
      return "FR";
    case HolidayRule::BritishColumbia:
      return "CA-BC";
    case HolidayRule::None:
      return "none";
  }
  return "none";
}

std::optional<std::int64_t> parseIsoDate(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int value[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t k = 0; k < lengths[f]; ++k) {
      const char c = text[starts[f] + k];
      if (c < '0' || c > '9') return std::nullopt;
      value[f] = value[f] * 10 + (c - '0');
    }
  }
  if (value[1] < 1 || value[1] > 12 || value[2] < 1 || value[2] > daysInMonth(value[0], value[1])) {
    return std::nullopt;
  }
  return daysFromCivil(value[0], value[1], value[2]);
}

SchoolHolidays SchoolHolidays::read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ExitCode::InputData, path.string() + ": cannot open the school-holiday table");
  SchoolHolidays table;
  enum class Expect { Header, Coverage, Ranges } expect = Expect::Header;
  bool have_coverage = false;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  std::vector<long> range_lines;
  std::string raw;
  long line_no = 0;
  const auto fail = [&](const std::string& why) {
    return Error(ExitCode::InputData, path.string() + ":" + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, raw)) {
    ++line_no;
    const auto line = trimView(raw);
    if (line.empty() || line.front() == '#') continue;
    const auto fields = splitCommas(line);
    if (fields.size() >= 2 && fields[0] == "coverage_start" && fields[1] == "coverage_end") {
      if (have_coverage) throw fail("a second coverage_start,coverage_end header");
      expect = Expect::Coverage;
      continue;
    }
    if (fields.size() >= 2 && fields[0] == "start" && fields[1] == "end") {
      expect = Expect::Ranges;
      continue;
    }
    if (expect == Expect::Header) {
      throw fail("expected a 'coverage_start,coverage_end' or 'start,end,label' header line");
    }
    if (fields.size() < 2) throw fail("expected two ISO dates separated by a comma");
    const auto first = parseIsoDate(fields[0]);
    const auto last = parseIsoDate(fields[1]);
    if (!first || !last) throw fail("not an ISO date (YYYY-MM-DD)");
    if (*last < *first) throw fail("the end date is before the start date");
    if (expect == Expect::Coverage) {
      if (fields.size() != 2) throw fail("the coverage line has two fields: coverage_start,coverage_end");
      table.m_cover_first = *first;
      table.m_cover_last = *last;
      have_coverage = true;
      expect = Expect::Header;
    } else {
      if (fields.size() > 3)
        throw fail("more than three fields (start,end,label; labels may not hold commas)");
      ranges.emplace_back(*first, *last);
      range_lines.push_back(line_no);
    }
  }
  if (in.bad()) throw Error(ExitCode::InputData, path.string() + ": read error");
  if (!have_coverage) {
    throw Error(
        ExitCode::InputData,
        path.string() + ": no 'coverage_start,coverage_end' line: the table must say which dates it covers");
  }
  for (std::size_t k = 0; k < ranges.size(); ++k) {
    // A holiday that starts before the coverage or ends after it would silently claim dates the table does
    // not describe; clip nothing, refuse it.
    if (ranges[k].first < table.m_cover_first || ranges[k].second > table.m_cover_last) {
      line_no = range_lines[k];
      throw fail("holiday range outside the table's coverage");
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (const auto& [first, last] : ranges) {
    if (!table.m_ranges.empty()) {
      auto prev = std::prev(table.m_ranges.end());
      if (first <= prev->second + 1) {
        prev->second = std::max(prev->second, last);
        continue;
      }
    }
    table.m_ranges.emplace(first, last);
  }
  return table;
}

std::optional<bool> SchoolHolidays::isHoliday(std::int64_t day) const {
  if (day < m_cover_first || day > m_cover_last) return std::nullopt;
  auto it = m_ranges.upper_bound(day);
  if (it == m_ranges.begin()) return false;
  --it;
  return day <= it->second;
}

Calendar::Calendar(HolidayRule rule, SchoolHolidays school) : m_rule(rule), m_school(std::move(school)) {}

std::int64_t Calendar::easterSunday(int year) noexcept {
  const int a = year % 19;
  const int b = year / 100;
  const int c = year % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return daysFromCivil(year, month, day);
}

int Calendar::weekday(std::int64_t day) noexcept {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

std::vector<std::int64_t> Calendar::publicHolidays(HolidayRule rule, int year) {
  std::vector<std::int64_t> days;
  const auto date = [year](int month, int day) { return daysFromCivil(year, month, day); };
  switch (rule) {
    case HolidayRule::None:
      break;
    case HolidayRule::France: {
      const std::int64_t easter = easterSunday(year);
      days = {date(1, 1),  easter + 1,  date(5, 1),  date(5, 8),   easter + 39, easter + 50,
              date(7, 14), date(8, 15), date(11, 1), date(11, 11), date(12, 25)};
      break;
    }
    case HolidayRule::BritishColumbia: {
      days.push_back(date(1, 1));
      // Family Day became a statutory holiday in 2013 on the second Monday of February, moved to the third
      // Monday from 2019.
      if (year >= 2013) days.push_back(nthWeekday(year, 2, kMonday, year >= 2019 ? 3 : 2));
      days.push_back(easterSunday(year) - 2);  // Good Friday
      const std::int64_t may24 = date(5, 24);
      days.push_back(may24 - weekday(may24));  // Victoria Day: the last Monday before 25 May
      const std::int64_t july1 = date(7, 1);
      days.push_back(weekday(july1) == 6 ? july1 + 1 : july1);  // Canada Day moves to 2 July after a Sunday
      days.push_back(nthWeekday(year, 8, kMonday, 1));          // British Columbia Day
      days.push_back(nthWeekday(year, 9, kMonday, 1));          // Labour Day
      if (year >= 2023) days.push_back(date(9, 30));            // National Day for Truth and Reconciliation
      days.push_back(nthWeekday(year, 10, kMonday, 2));         // Thanksgiving
      days.push_back(date(11, 11));
      days.push_back(date(12, 25));
      break;
    }
  }
  // Movable feasts can coincide with fixed ones (Ascension on 1 May in 2008): a date is one holiday.
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

bool Calendar::isPublicHoliday(std::int64_t day) const {
  if (m_rule == HolidayRule::None) return false;
  const int year = civilFromSeconds(day * 86400).year;
  const auto days = publicHolidays(m_rule, year);
  return std::binary_search(days.begin(), days.end(), day);
}

CalendarColumns Calendar::columns(const std::vector<DaySpan>& spans) const {
  CalendarColumns c;
  const std::size_t n = spans.size();
  c.weekday.resize(n);
  c.hour_of_day.resize(n);
  c.days.resize(n);
  c.public_holiday.assign(n, 0);
  c.school_holiday.assign(n, 0);
  c.school_holiday_missing.assign(n, 0);
  int cached_year = std::numeric_limits<int>::min();
  std::vector<std::int64_t> holidays;
  for (std::size_t b = 0; b < n; ++b) {
    const DaySpan& s = spans[b];
    c.weekday[b] = weekday(s.first_day);
    c.hour_of_day[b] = s.hour;
    c.days[b] = static_cast<std::int32_t>(std::max<std::int64_t>(0, s.end_day - s.first_day));
    for (std::int64_t d = s.first_day; d < s.end_day; ++d) {
      const int year = civilFromSeconds(d * 86400).year;
      if (year != cached_year) {
        holidays = publicHolidays(m_rule, year);
        cached_year = year;
      }
      if (std::binary_search(holidays.begin(), holidays.end(), d)) ++c.public_holiday[b];
      const auto school = m_school.isHoliday(d);
      if (!school) {
        c.school_holiday_missing[b] = 1;
      } else if (*school) {
        ++c.school_holiday[b];
      }
    }
  }
  return c;
}

}  // namespace vigie::ingest
