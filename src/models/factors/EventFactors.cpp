#include "models/factors/EventFactors.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string_view>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "ingest/Calendar.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/SourceProfile.hpp"
#include "ingest/Weather.hpp"

namespace vigie::models {

namespace {

using core::Error;
using core::ExitCode;

constexpr double kZ95 = 1.959963984540054;  // the 0.975 quantile of the standard normal
constexpr double kRainyDayMm = 1.0;         // Météo-France "jour de pluie": RR >= 1 mm
constexpr double kHeavyRainDayMm = 10.0;  // Météo-France "jour de forte pluie" threshold used for heavy rain

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

std::string isoDate(std::int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

std::int64_t firstDayOfYear(int year) {
  return std::chrono::sys_days{std::chrono::year{year} / 1 / 1}.time_since_epoch().count();
}

// Fields of one record, only those asked for, with the line the record starts on.
struct Record {
  std::int64_t line = 0;
  std::size_t num_fields = 0;
  bool blank = true;  // a line with nothing on it (skipped, as the event reader does)
  std::vector<std::string> kept;
};

// A small CSV scanner for one pass over an event file: plain or gzip (zlib's gzread reads both, telling them
// by the magic bytes), the profile's delimiter and quote, quoted fields that hold delimiters, doubled quotes
// and line breaks. It keeps the text of the fields it is asked for and nothing else.
class ConditionScanner {
 public:
  ConditionScanner(const std::filesystem::path& path, char delimiter, char quote)
      : m_path(path.string()), m_delimiter(delimiter), m_quote(quote) {
    m_gz = gzopen(m_path.c_str(), "rb");
    if (m_gz == nullptr) throw Error(ExitCode::InputData, m_path + ": cannot open the event file");
    gzbuffer(m_gz, 1U << 17);
  }
  ~ConditionScanner() {
    if (m_gz != nullptr) gzclose(m_gz);
  }
  ConditionScanner(const ConditionScanner&) = delete;
  ConditionScanner& operator=(const ConditionScanner&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return m_path; }

  // The fields to keep (column indices; the header record keeps every field when `all` is set).
  void keep(std::vector<std::size_t> columns) { m_columns = std::move(columns); }

  // The next record, or false at the end of the file.
  bool next(Record& rec, bool all) {
    rec = Record{};
    rec.line = m_line;
    rec.kept.assign(all ? 0 : m_columns.size(), std::string());
    std::string field;
    bool in_quotes = false;
    bool any = false;
    std::size_t index = 0;
    const auto endField = [&] {
      if (all) {
        rec.kept.push_back(trimmed(field));
      } else {
        for (std::size_t k = 0; k < m_columns.size(); ++k) {
          if (m_columns[k] == index) rec.kept[k] = trimmed(field);
        }
      }
      field.clear();
      ++index;
    };
    while (true) {
      const int c = get();
      if (c < 0) {
        if (in_quotes)
          throw Error(ExitCode::InputData,
                      m_path + ":" + std::to_string(rec.line) +
                          ": unbalanced quote: the quoted field opened on this line never closes");
        if (!any) return false;
        rec.blank = index == 0 && trimmed(field).empty();
        endField();
        rec.num_fields = index;
        return true;
      }
      any = true;
      const char ch = static_cast<char>(c);
      if (in_quotes) {
        if (ch == '\n') ++m_line;
        if (ch == m_quote) {
          if (peek() == m_quote) {
            get();
            field.push_back(m_quote);
          } else {
            in_quotes = false;
          }
        } else {
          field.push_back(ch);
        }
        continue;
      }
      if (ch == '\n') {
        ++m_line;
        rec.blank = index == 0 && trimmed(field).empty();
        endField();
        rec.num_fields = index;
        return true;
      }
      if (ch == m_delimiter) {
        endField();
      } else if (ch == m_quote && trimmed(field).empty()) {
        field.clear();
        in_quotes = true;
      } else {
        field.push_back(ch);
      }
    }
  }

  // Throws if zlib reported a read or decompression error (a truncated or corrupt gzip stream).
  void checkEnd() {
    int errnum = Z_OK;
    const char* message = gzerror(m_gz, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END)
      throw Error(ExitCode::InputData, m_path + ":" + std::to_string(m_line) +
                                           ": truncated or corrupt gzip stream (zlib: " + message + ")");
  }

 private:
  int get() {
    if (m_pos == m_size) fill();
    return m_pos < m_size ? static_cast<unsigned char>(m_buf[m_pos++]) : -1;
  }
  int peek() {
    if (m_pos == m_size) fill();
    return m_pos < m_size ? static_cast<unsigned char>(m_buf[m_pos]) : -1;
  }
  void fill() {
    const int got = gzread(m_gz, m_buf.data(), static_cast<unsigned>(m_buf.size()));
    m_pos = 0;
    m_size = got > 0 ? static_cast<std::size_t>(got) : 0;
    if (got < 0) checkEnd();
  }

  std::string m_path;
  char m_delimiter;
  char m_quote;
  gzFile m_gz = nullptr;
  std::array<char, 1U << 16> m_buf{};
  std::size_t m_pos = 0;
  std::size_t m_size = 0;
  std::int64_t m_line = 1;
  std::vector<std::size_t> m_columns;
};

// Counts of one pass over the event files.
struct ConditionCounts {
  std::int64_t known = 0;
  std::int64_t unknown = 0;
  std::int64_t rain = 0;
  std::int64_t heavy_rain = 0;
  std::int64_t malformed = 0;  // rows with the wrong number of fields: the event reader rejects them too
  int min_year = std::numeric_limits<int>::max();
  int max_year = std::numeric_limits<int>::min();
};

bool contains(const std::vector<int>& codes, int code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

void countFile(const std::filesystem::path& file, const ingest::SourceProfile& profile, bool want_years,
               ConditionCounts& counts) {
  ConditionScanner scan(file, profile.delimiter, profile.quote);
  Record rec;
  do {
    if (!scan.next(rec, true))
      throw Error(ExitCode::InputData, scan.path() + ":1: empty file: expected a header line");
  } while (rec.blank);
  if (!rec.kept.empty() && rec.kept.front().rfind("\xEF\xBB\xBF", 0) == 0)
    rec.kept.front().erase(0, 3);  // a UTF-8 byte-order mark written by spreadsheet exports
  const std::size_t num_fields = rec.num_fields;
  const auto column = [&](const std::string& name, const char* key) {
    const auto it = std::find(rec.kept.begin(), rec.kept.end(), name);
    if (it == rec.kept.end())
      throw Error(ExitCode::InputData, scan.path() + ":" + std::to_string(rec.line) + ": no column '" + name +
                                           "' (" + key + " of " + profile.where(key) +
                                           ") in the header; is csv.delimiter right?");
    return static_cast<std::size_t>(it - rec.kept.begin());
  };
  std::vector<std::size_t> columns = {column(profile.condition_column, "conditions.column")};
  if (want_years) columns.push_back(column(profile.year_column, "time.year"));
  scan.keep(columns);

  while (scan.next(rec, false)) {
    if (rec.blank) continue;
    if (rec.num_fields != num_fields) {
      ++counts.malformed;
      continue;
    }
    const auto where = [&] { return scan.path() + ":" + std::to_string(rec.line) + ": "; };
    const std::string& text = rec.kept[0];
    if (want_years) {
      int year = 0;
      const auto& y = rec.kept[1];
      const auto [end, ec] = std::from_chars(y.data(), y.data() + y.size(), year);
      if (ec == std::errc() && end == y.data() + y.size() && year >= 1 && year <= 9999) {
        counts.min_year = std::min(counts.min_year, year);
        counts.max_year = std::max(counts.max_year, year);
      }
    }
    if (text.empty()) {
      ++counts.unknown;
      continue;
    }
    // BAAC copies write the codes as 1.0, 2.0, ...: read a number, then require an integer.
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
        value != std::floor(value) || std::fabs(value) > 1e9)
      throw Error(ExitCode::InputData,
                  where() + profile.condition_column + " value '" + text + "' is not an integer code");
    const int code = static_cast<int>(value);
    if (contains(profile.condition_unknown, code)) {
      ++counts.unknown;
      continue;
    }
    if (!contains(profile.condition_codes, code))
      throw Error(ExitCode::InputData, where() + profile.condition_column + " code " + std::to_string(code) +
                                           " is in neither conditions.codes nor conditions.unknown of " +
                                           profile.where("conditions.codes"));
    ++counts.known;
    if (contains(profile.condition_rain, code)) ++counts.rain;
    if (contains(profile.condition_heavy_rain, code)) ++counts.heavy_rain;
  }
  scan.checkEnd();
}

// The inclusive day ranges the events span, and their text for the method sentence.
std::vector<ingest::CoverageInterval> periodOf(const core::Config& config,
                                               const ingest::SourceProfile& profile,
                                               const ConditionCounts& counts) {
  const auto coverage = ingest::Coverage::parse(config.getList("ingest.coverage"));
  if (!coverage.empty()) {
    for (const auto& interval : coverage.intervals()) {
      if (interval.last_day == std::numeric_limits<std::int64_t>::max())
        throw Error(ExitCode::Usage,
                    "ingest.coverage: an open-ended period (START/) leaves the days of the event factors "
                    "unknown; give START/END");
    }
    return coverage.intervals();
  }
  if (profile.year_fixed != 0)
    return {{firstDayOfYear(profile.year_fixed), firstDayOfYear(profile.year_fixed + 1) - 1}};
  if (!profile.year_column.empty() && counts.min_year <= counts.max_year)
    return {{firstDayOfYear(counts.min_year), firstDayOfYear(counts.max_year + 1) - 1}};
  throw Error(ExitCode::Usage,
              "ingest.coverage: the event factors need the days the events span; give closed periods "
              "(START/END), or a profile with time.year_fixed or time.year");
}

std::string codesText(const std::vector<int>& codes) {
  std::string out;
  for (std::size_t k = 0; k < codes.size(); ++k) {
    if (k > 0) out += ',';
    out += std::to_string(codes[k]);
  }
  return out;
}

std::string numberText(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

}  // namespace

ShareRatio shareRatio(std::int64_t a, std::int64_t n, std::int64_t d, std::int64_t days) {
  if (n <= 0 || days <= 0 || a < 0 || a > n || d < 0 || d > days)
    throw Error(ExitCode::Internal, "shareRatio: counts out of range (a " + std::to_string(a) + " of " +
                                        std::to_string(n) + ", d " + std::to_string(d) + " of " +
                                        std::to_string(days) + ")");
  ShareRatio r{};
  double ea = static_cast<double>(a);
  double en = static_cast<double>(n);
  double ed = static_cast<double>(d);
  double eD = static_cast<double>(days);
  if (a == 0 || d == 0) {
    // Haldane-Anscombe: half an event in each cell of both 2x2 margins keeps log RR and its variance finite.
    r.zero_corrected = true;
    ea += 0.5;
    en += 1.0;
    ed += 0.5;
    eD += 1.0;
  }
  const double p1 = ea / en;
  const double p2 = ed / eD;
  r.estimate = p1 / p2;
  const double se = std::sqrt((1.0 - p1) / ea + (1.0 - p2) / ed);
  r.lo95 = r.estimate * std::exp(-kZ95 * se);
  r.hi95 = r.estimate * std::exp(kZ95 * se);
  return r;
}

std::vector<EventFactor> eventFactors(const core::Config& config) {
  const auto files = config.getPathList("ingest.events");
  const auto profile_path = config.getPath("ingest.profile");
  const auto weather_path = config.getPath("covariates.weather");
  if (files.empty() || profile_path.empty() || weather_path.empty()) return {};
  const auto profile = ingest::SourceProfile::load(profile_path);
  if (profile.condition_column.empty()) return {};

  const bool want_years =
      config.getList("ingest.coverage").empty() && profile.year_fixed == 0 && !profile.year_column.empty();
  ConditionCounts counts;
  for (const auto& file : files) countFile(file, profile, want_years, counts);
  if (counts.known == 0)
    throw Error(ExitCode::InputData, "ingest.events: no row records a known " + profile.condition_column +
                                         " (" + std::to_string(counts.unknown) +
                                         " unknown), so no event factor can be estimated");

  const auto period = periodOf(config, profile, counts);
  std::vector<ingest::DaySpan> spans;
  std::string period_text;
  for (const auto& interval : period) {
    for (std::int64_t day = interval.first_day; day <= interval.last_day; ++day)
      spans.push_back({day, day + 1, -1});
    if (!period_text.empty()) period_text += ", ";
    period_text += isoDate(interval.first_day) + ".." + isoDate(interval.last_day);
  }
  // One span per day: the weather reader's aggregate of a single day is that day's value, or missing.
  const auto series = ingest::Weather::read(weather_path).aggregate(spans);
  const auto& names = ingest::Weather::names();
  const auto rain_var =
      static_cast<std::size_t>(std::find(names.begin(), names.end(), "rain_mm") - names.begin());
  std::int64_t days_known = 0;
  std::int64_t days_rain = 0;
  std::int64_t days_heavy = 0;
  for (std::size_t b = 0; b < spans.size(); ++b) {
    if (series.missing_by_var[rain_var][b] != 0) continue;
    ++days_known;
    const double mm = series.values[rain_var][b];
    if (mm >= kRainyDayMm) ++days_rain;
    if (mm >= kHeavyRainDayMm) ++days_heavy;
  }
  if (days_known == 0)
    throw Error(ExitCode::InputData,
                weather_path.string() + ": no day of " + period_text + " has a rain value (RR)");

  const auto days_missing = static_cast<std::int64_t>(spans.size()) - days_known;
  const std::string days_note =
      days_missing > 0 ? ", " + std::to_string(days_missing) + " days of the period without RR left out" : "";

  const auto make = [&](const std::string& name, const std::vector<int>& codes, std::int64_t a,
                        double threshold_mm, std::int64_t d) {
    const auto ratio = shareRatio(a, counts.known, d, days_known);
    const std::string col = profile.condition_column;
    std::string method = "share of the " + std::to_string(counts.known) + " events with a known " + col +
                         " recorded as " + (name == "rain" ? "rain" : "heavy rain") + " (" + col + " in " +
                         codesText(codes) + ": " + std::to_string(a) + ") over the share of the " +
                         std::to_string(days_known) + " days of " + period_text +
                         " with RR >= " + numberText(threshold_mm) + " mm in " +
                         weather_path.filename().string() + " (" + std::to_string(d) + " days" + days_note +
                         "); every well-formed row of the event files counts, inside the grid and "
                         "mask or not";
    if (counts.unknown > 0)
      method += ", " + std::to_string(counts.unknown) + " rows with " + col + " unknown left out";
    if (counts.malformed > 0) method += ", " + std::to_string(counts.malformed) + " malformed rows skipped";
    method +=
        "; 95% interval on the log scale (Katz), var(log RR) = (1-p1)/a + (1-p2)/d, taking events as "
        "independent (events of one wet day are not, so it is too narrow)";
    if (ratio.zero_corrected) method += ", with 0.5 added to a and d and 1 to n and D as a count is zero";
    method +=
        "; rain at the event is set against wet days and a wet day is not wet at every hour, so the ratio "
        "understates the risk per hour of rain.";
    return EventFactor{name, ratio.estimate, ratio.lo95, ratio.hi95, a, counts.known, d, days_known, method};
  };

  std::vector<EventFactor> out;
  out.push_back(make("rain", profile.condition_rain, counts.rain, kRainyDayMm, days_rain));
  if (!profile.condition_heavy_rain.empty())
    out.push_back(
        make("heavy_rain", profile.condition_heavy_rain, counts.heavy_rain, kHeavyRainDayMm, days_heavy));
  return out;
}

}  // namespace vigie::models
