#include "ingest/Weather.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <string_view>

#include "core/Error.hpp"
#include "ingest/Calendar.hpp"
#include "ingest/Event.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;

enum class Reduction { Sum, Mean, Max };

struct Variable {
  const char* name;
  const char* column;  // Météo-France DPClim column
  const char* units;
  Reduction reduction;
};

constexpr std::array<Variable, 8> kVariables = {{
    {"rain_mm", "RR", "mm", Reduction::Sum},
    {"tmin_c", "TN", "degC", Reduction::Mean},
    {"tmax_c", "TX", "degC", Reduction::Mean},
    {"tmean_c", "TM", "degC", Reduction::Mean},
    {"wind_mean_ms", "FFM", "m/s", Reduction::Mean},
    {"gust_max_ms", "FXI", "m/s", Reduction::Max},
    {"thunder_days", "ORAG", "days", Reduction::Sum},
    {"fog_days", "BROU", "days", Reduction::Sum},
}};
constexpr std::size_t kNumVars = kVariables.size();

std::string_view trimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void splitFields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    out.push_back(trimView(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

// Calendar days on a circle of 730 half-day steps: day k (0-based) of a non-leap year is 2k, and 29 February
// is 117, halfway between 28 February (116) and 1 March (118).
constexpr int kCircle = 730;

int calendarPosition(std::int64_t day) noexcept {
  static constexpr std::array<int, 12> kBeforeMonth = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const CivilTime t = civilFromSeconds(day * 86400);
  if (t.month == 2 && t.day == 29) return 2 * 58 + 1;
  return 2 * (kBeforeMonth[static_cast<std::size_t>(t.month - 1)] + t.day - 1);
}

}  // namespace

const std::vector<std::string>& Weather::names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& var : kVariables) v.emplace_back(var.name);
    return v;
  }();
  return names;
}

const std::vector<std::string>& Weather::units() {
  static const std::vector<std::string> units = [] {
    std::vector<std::string> v;
    for (const auto& var : kVariables) v.emplace_back(var.units);
    return v;
  }();
  return units;
}

Weather Weather::read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ExitCode::InputData, path.string() + ": cannot open the weather file");
  long line_no = 0;
  const auto fail = [&](const std::string& why) {
    return Error(ExitCode::InputData, path.string() + ":" + std::to_string(line_no) + ": " + why);
  };

  std::string raw;
  std::vector<std::string_view> fields;
  do {
    if (!std::getline(in, raw)) {
      line_no = std::max(line_no, 1L);
      throw fail("empty file: expected a header line with DATE, RR, TN, TX, TM, FFM, FXI, ORAG, BROU");
    }
    ++line_no;
  } while (trimView(raw).empty());
  splitFields(trimView(raw), fields);
  const std::size_t num_fields = fields.size();
  std::size_t date_col = num_fields;
  std::array<std::size_t, kNumVars> cols{};
  cols.fill(num_fields);
  for (std::size_t c = 0; c < num_fields; ++c) {
    if (fields[c] == "DATE") date_col = c;
    for (std::size_t v = 0; v < kNumVars; ++v) {
      if (fields[c] == kVariables[v].column) cols[v] = c;
    }
  }
  if (date_col == num_fields) throw fail("no DATE column in the header (is the delimiter a comma?)");
  for (std::size_t v = 0; v < kNumVars; ++v) {
    if (cols[v] == num_fields)
      throw fail(std::string("no ") + kVariables[v].column + " column in the header");
  }

  std::map<std::int64_t, std::array<double, kNumVars>> rows;
  while (std::getline(in, raw)) {
    ++line_no;
    const auto line = trimView(raw);
    if (line.empty()) continue;
    splitFields(line, fields);
    if (fields.size() != num_fields) {
      throw fail("expected " + std::to_string(num_fields) + " fields, found " +
                 std::to_string(fields.size()));
    }
    const auto day = parseIsoDate(fields[date_col]);
    if (!day) throw fail("DATE is not an ISO date (YYYY-MM-DD)");
    std::array<double, kNumVars> values{};
    for (std::size_t v = 0; v < kNumVars; ++v) {
      const auto text = fields[cols[v]];
      if (text.empty()) {
        values[v] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      double x = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(x)) {
        throw fail(std::string(kVariables[v].column) + " is not a number");
      }
      values[v] = x;
    }
    if (!rows.emplace(*day, values).second) throw fail("the date appears twice");
  }
  if (in.bad()) throw Error(ExitCode::InputData, path.string() + ": read error");

  Weather w;
  if (rows.empty()) return w;
  w.m_first_day = rows.begin()->first;
  const auto ndays = static_cast<std::size_t>(rows.rbegin()->first - w.m_first_day + 1);
  w.m_present.assign(ndays, 0);
  w.m_raw.assign(ndays * kNumVars, std::numeric_limits<double>::quiet_NaN());
  for (const auto& [day, values] : rows) {
    const auto k = static_cast<std::size_t>(day - w.m_first_day);
    w.m_present[k] = 1;
    std::copy(values.begin(), values.end(), w.m_raw.begin() + static_cast<std::ptrdiff_t>(k * kNumVars));
  }
  return w;
}

WeatherSeries Weather::aggregate(const std::vector<DaySpan>& spans) const {
  WeatherSeries out;
  const std::size_t nb = spans.size();
  out.values.assign(kNumVars, std::vector<double>(nb, 0.0));
  out.missing.assign(nb, 0);
  out.missing_by_var.assign(kNumVars, std::vector<std::uint8_t>(nb, 0));
  for (std::size_t b = 0; b < nb; ++b) {
    std::array<double, kNumVars> acc{};
    std::array<int, kNumVars> used{};
    acc.fill(0.0);
    used.fill(0);
    bool missing = spans[b].end_day <= spans[b].first_day;
    std::array<bool, kNumVars> var_missing{};
    var_missing.fill(missing);
    for (std::int64_t day = spans[b].first_day; day < spans[b].end_day; ++day) {
      if (day < firstDay() || day >= endDay() ||
          m_present[static_cast<std::size_t>(day - m_first_day)] == 0) {
        missing = true;
        var_missing.fill(true);
        continue;
      }
      const double* row = &m_raw[static_cast<std::size_t>(day - m_first_day) * kNumVars];
      for (std::size_t v = 0; v < kNumVars; ++v) {
        if (std::isnan(row[v])) {
          missing = true;
          var_missing[v] = true;
          continue;
        }
        if (kVariables[v].reduction == Reduction::Max) {
          acc[v] = used[v] == 0 ? row[v] : std::max(acc[v], row[v]);
        } else {
          acc[v] += row[v];
        }
        ++used[v];
      }
    }
    for (std::size_t v = 0; v < kNumVars; ++v) {
      double value = 0.0;
      if (used[v] > 0) value = kVariables[v].reduction == Reduction::Mean ? acc[v] / used[v] : acc[v];
      out.values[v][b] = value;
    }
    out.missing[b] = missing ? 1 : 0;
    for (std::size_t v = 0; v < kNumVars; ++v) out.missing_by_var[v][b] = var_missing[v] ? 1 : 0;
  }
  return out;
}

std::optional<std::size_t> Weather::indexOf(std::string_view name) {
  for (std::size_t v = 0; v < kNumVars; ++v) {
    if (name == kVariables[v].name) return v;
  }
  return std::nullopt;
}

Weather Weather::climatology(std::int64_t first_day, std::int64_t end_day, int half_window_days) const {
  if (half_window_days < 0 || 2 * half_window_days >= kCircle / 2) {
    throw Error(ExitCode::Internal,
                "Weather::climatology: half window " + std::to_string(half_window_days) + " outside 0..182");
  }
  // Sums and counts per calendar position over the whole record, in date order, then the window's positions
  // in a fixed order: the result does not depend on who computes it.
  std::vector<double> sum(static_cast<std::size_t>(kCircle) * kNumVars, 0.0);
  std::vector<std::int64_t> count(static_cast<std::size_t>(kCircle) * kNumVars, 0);
  for (std::size_t k = 0; k < m_present.size(); ++k) {
    if (m_present[k] == 0) continue;
    const auto pos = static_cast<std::size_t>(calendarPosition(m_first_day + static_cast<std::int64_t>(k)));
    for (std::size_t v = 0; v < kNumVars; ++v) {
      const double x = m_raw[k * kNumVars + v];
      if (std::isnan(x)) continue;
      sum[pos * kNumVars + v] += x;
      ++count[pos * kNumVars + v];
    }
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> mean_at(static_cast<std::size_t>(kCircle) * kNumVars, kNaN);
  std::vector<std::uint8_t> done(kCircle, 0);
  const auto meansAt = [&](int pos) -> const double* {
    const auto p = static_cast<std::size_t>(pos);
    if (done[p] == 0) {
      std::array<double, kNumVars> s{};
      std::array<std::int64_t, kNumVars> n{};
      s.fill(0.0);
      n.fill(0);
      for (int off = -2 * half_window_days; off <= 2 * half_window_days; ++off) {
        const auto q = static_cast<std::size_t>(((pos + off) % kCircle + kCircle) % kCircle);
        for (std::size_t v = 0; v < kNumVars; ++v) {
          s[v] += sum[q * kNumVars + v];
          n[v] += count[q * kNumVars + v];
        }
      }
      for (std::size_t v = 0; v < kNumVars; ++v) {
        if (n[v] > 0) mean_at[p * kNumVars + v] = s[v] / static_cast<double>(n[v]);
      }
      done[p] = 1;
    }
    return &mean_at[p * kNumVars];
  };

  Weather out;
  out.m_first_day = first_day;
  const auto ndays = static_cast<std::size_t>(std::max<std::int64_t>(0, end_day - first_day));
  out.m_present.assign(ndays, 1);
  out.m_raw.assign(ndays * kNumVars, kNaN);
  for (std::size_t k = 0; k < ndays; ++k) {
    const double* means = meansAt(calendarPosition(first_day + static_cast<std::int64_t>(k)));
    std::copy(means, means + kNumVars, out.m_raw.begin() + static_cast<std::ptrdiff_t>(k * kNumVars));
  }
  return out;
}

void Weather::overrideVariable(std::size_t v, double value) {
  if (v >= kNumVars) {
    throw Error(ExitCode::Internal,
                "Weather::overrideVariable: variable index " + std::to_string(v) + " out of range");
  }
  for (std::size_t k = 0; k < m_present.size(); ++k) {
    m_present[k] = 1;
    m_raw[k * kNumVars + v] = value;
  }
}

Weather Weather::indicator(std::size_t v, double threshold) const {
  if (v >= kNumVars) {
    throw Error(ExitCode::Internal,
                "Weather::indicator: variable index " + std::to_string(v) + " out of range");
  }
  Weather out = *this;
  for (std::size_t k = 0; k < out.m_present.size(); ++k) {
    double& x = out.m_raw[k * kNumVars + v];
    if (!std::isnan(x)) x = x >= threshold ? 1.0 : 0.0;
  }
  return out;
}

double Weather::dailyValue(std::int64_t day, std::size_t v) const {
  if (v >= kNumVars || day < firstDay() || day >= endDay() ||
      m_present[static_cast<std::size_t>(day - m_first_day)] == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return m_raw[static_cast<std::size_t>(day - m_first_day) * kNumVars + v];
}

}  // namespace vigie::ingest
