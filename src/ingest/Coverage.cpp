#include "ingest/Coverage.hpp"

#include <algorithm>
#include <charconv>

#include "core/Error.hpp"
#include "ingest/Event.hpp"

namespace vigie::ingest {

using core::Error;
using core::ExitCode;

std::int64_t parseIsoDay(const std::string& text, const std::string& what) {
  int y = 0, m = 0, d = 0;
  const auto bad = [&] {
    return Error(ExitCode::Usage, what + ": '" + text + "' is not a date YYYY-MM-DD", true);
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') throw bad();
  const char* p = text.data();
  if (std::from_chars(p, p + 4, y).ptr != p + 4 || std::from_chars(p + 5, p + 7, m).ptr != p + 7 ||
      std::from_chars(p + 8, p + 10, d).ptr != p + 10)
    throw bad();
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) throw bad();
  return daysFromCivil(y, m, d);
}

Coverage Coverage::parse(const std::vector<std::string>& items) {
  Coverage c;
  for (const auto& item : items) {
    const auto slash = item.find('/');
    if (slash == std::string::npos)
      throw Error(ExitCode::Usage, "ingest.coverage: '" + item + "' is not START/END or START/", true);
    CoverageInterval iv;
    iv.first_day = parseIsoDay(item.substr(0, slash), "ingest.coverage");
    const auto end = item.substr(slash + 1);
    if (!end.empty()) iv.last_day = parseIsoDay(end, "ingest.coverage");
    if (iv.last_day < iv.first_day)
      throw Error(ExitCode::Usage, "ingest.coverage: '" + item + "' ends before it starts", true);
    c.m_intervals.push_back(iv);
  }
  std::sort(c.m_intervals.begin(), c.m_intervals.end(),
            [](const auto& a, const auto& b) { return a.first_day < b.first_day; });
  for (std::size_t k = 1; k < c.m_intervals.size(); ++k) {
    if (c.m_intervals[k].first_day <= c.m_intervals[k - 1].last_day)
      throw Error(ExitCode::Usage, "ingest.coverage: periods overlap", true);
  }
  return c;
}

bool Coverage::coversDay(std::int64_t day) const noexcept {
  if (m_intervals.empty()) return true;
  return std::any_of(m_intervals.begin(), m_intervals.end(),
                     [&](const auto& iv) { return day >= iv.first_day && day <= iv.last_day; });
}

bool Coverage::coversAll(std::int64_t first_day, std::int64_t last_day) const noexcept {
  if (m_intervals.empty()) return true;
  return std::any_of(m_intervals.begin(), m_intervals.end(),
                     [&](const auto& iv) { return first_day >= iv.first_day && last_day <= iv.last_day; });
}

}  // namespace vigie::ingest
