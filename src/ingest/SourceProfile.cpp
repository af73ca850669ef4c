#include "ingest/SourceProfile.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "core/Config.hpp"
#include "core/Error.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;
using core::OptionType;

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// The 1-based line on which `key` (section.name) is set in an INI file, or 0. Config knows only whether a key
// was set; messages about a profile's content (a category of the map, a column name) need the line too.
int keyLine(const std::filesystem::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string raw;
  std::string section;
  int n = 0;
  while (std::getline(in, raw)) {
    ++n;
    const std::string t = trimmed(raw);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trimmed(t.substr(1, t.size() - 2));
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = trimmed(t.substr(0, eq));
    if ((section.empty() ? name : section + "." + name) == key) return n;
  }
  return 0;
}

char parseChar(const SourceProfile& p, const std::string& key, const std::string& text) {
  if (text == "tab" || text == "\\t") return '\t';
  if (text.size() != 1 || text[0] == '\n' || text[0] == '\r')
    throw Error(ExitCode::Usage,
                p.where(key) + ": '" + key + "' must be one character (or 'tab'), not '" + text + "'", true);
  return text[0];
}

int parseEpsg(const SourceProfile& p, const std::string& text) {
  const std::string prefix = "EPSG:";
  if (text.rfind(prefix, 0) == 0 && text.size() > prefix.size()) {
    int code = 0;
    for (std::size_t k = prefix.size(); k < text.size(); ++k) {
      if (text[k] < '0' || text[k] > '9' || code > 10000000) {
        code = 0;
        break;
      }
      code = code * 10 + (text[k] - '0');
    }
    if (code > 0) return code;
  }
  throw Error(ExitCode::Usage, p.where("location.crs") + ": location.crs '" + text + "' is not 'EPSG:<code>'",
              true);
}

TimePrecision parsePrecision(const SourceProfile& p, const std::string& text) {
  if (text == "minute") return TimePrecision::Minute;
  if (text == "hour") return TimePrecision::Hour;
  if (text == "day") return TimePrecision::Day;
  if (text == "month") return TimePrecision::Month;
  throw Error(ExitCode::Usage,
              p.where("time.precision") + ": time.precision '" + text + "' is not minute, hour, day or month",
              true);
}

// The map is one line of "Source Type:category" pairs separated by ';' (source types contain '/', '(' and
// spaces but neither ';' nor ':' in the real files; the last ':' separates, so a type may contain ':').
std::vector<CategoryMapEntry> parseMap(const SourceProfile& p, const std::string& text) {
  std::vector<CategoryMapEntry> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = trimmed(text.substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    const auto colon = item.rfind(':');
    if (colon == std::string::npos)
      throw Error(
          ExitCode::Usage,
          p.where("category.map") + ": category.map item '" + item + "' is not 'Source Type:vigie_category'",
          true);
    CategoryMapEntry e{trimmed(item.substr(0, colon)), trimmed(item.substr(colon + 1))};
    if (e.source.empty() || e.target.empty())
      throw Error(ExitCode::Usage,
                  p.where("category.map") + ": category.map item '" + item + "' has an empty side", true);
    for (const auto& prior : out) {
      if (prior.source == e.source)
        throw Error(ExitCode::Usage, p.where("category.map") + ": category.map maps '" + e.source + "' twice",
                    true);
    }
    out.push_back(std::move(e));
  }
  return out;
}

// A list of integer codes of the [conditions] section; each must be an integer (no sign but '-').
std::vector<int> parseCodes(const SourceProfile& p, const std::string& key,
                            const std::vector<std::string>& items) {
  std::vector<int> out;
  for (const auto& item : items) {
    int code = 0;
    const auto* first = item.data();
    const auto* last = item.data() + item.size();
    const auto [end, ec] = std::from_chars(first, last, code);
    if (ec != std::errc() || end != last)
      throw Error(ExitCode::Usage, p.where(key) + ": " + key + " item '" + item + "' is not an integer code",
                  true);
    if (std::find(out.begin(), out.end(), code) != out.end())
      throw Error(ExitCode::Usage, p.where(key) + ": " + key + " lists " + item + " twice", true);
    out.push_back(code);
  }
  return out;
}

}  // namespace

void SourceProfile::declareOptions(core::OptionSet& options) {
  options.add("source.name", OptionType::String, "", "name of the source, for messages and provenance")
      .add("source.duplicates", OptionType::String, "keep",
           "exact duplicate rows (same bytes): keep (counted as distinct incidents) or drop (rejected as "
           "duplicate_row); counted in the summary either way")
      .add("csv.delimiter", OptionType::String, ",", "field delimiter: one character, or 'tab'")
      .add("csv.header", OptionType::Bool, "true", "the first line names the columns (columns are named)")
      .add("csv.quote", OptionType::String, "\"", "quote character of quoted fields (doubled inside)")
      .add("time.mode", OptionType::String, "datetime",
           "datetime: one column parsed with time.format; columns: separate year/month/day/hour/minute "
           "columns")
      .add("time.column", OptionType::String, "", "datetime mode: the column holding the date-time")
      .add("time.format", OptionType::String, "%Y-%m-%dT%H:%M",
           "datetime mode: the format, from %Y %m %d %H %M %S and literal characters")
      .add("time.year", OptionType::String, "", "columns mode: the year column (empty: time.year_fixed)")
      .add("time.year_fixed", OptionType::Int, "0",
           "columns mode without a year column: the one year the file covers (0: none)")
      .add("time.month", OptionType::String, "", "columns mode: the month column (1-12)")
      .add("time.day", OptionType::String, "", "columns mode: the day-of-month column (empty: absent)")
      .add("time.hour", OptionType::String, "", "columns mode: the hour column (empty: absent)")
      .add("time.minute", OptionType::String, "", "columns mode: the minute column (empty: absent)")
      .add("time.hhmm", OptionType::String, "",
           "columns mode: a time-of-day column HHMM written as an integer (1430 = 14:30, 5 = 00:05)")
      .add("time.precision", OptionType::String, "minute",
           "the finest time precision the source really has: minute, hour, day or month")
      .add("time.midnight_unknown", OptionType::Bool, "false",
           "a 00:00 time means the time of day is unknown: such events get day precision and no hour")
      .add("location.mode", OptionType::String, "xy", "xy: projected coordinates; lonlat: longitude/latitude")
      .add("location.x", OptionType::String, "", "column of the easting (xy) or longitude (lonlat)")
      .add("location.y", OptionType::String, "", "column of the northing (xy) or latitude (lonlat)")
      .add("location.crs", OptionType::String, "",
           "CRS of the coordinates, EPSG:<code> (lonlat: EPSG:4326 if empty)")
      .add("location.withheld_zero", OptionType::Bool, "false",
           "x = y = 0 marks a location withheld by the source (rejected as withheld_location)")
      .add("category.column", OptionType::String, "",
           "the column holding the source's incident type (empty: every row is category.fixed)")
      .add("category.fixed", OptionType::String, "",
           "without category.column: the Vigie category of every row (single-type sources)")
      .add("category.map", OptionType::String, "",
           "'Source Type:vigie_category' pairs separated by ';'; unmapped types are rejected "
           "(unknown_category)")
      .add("flag.column", OptionType::String, "", "column telling reported from discovered (empty: none)")
      .add("flag.reported", OptionType::List, "", "values of flag.column meaning reported by the public")
      .add("flag.discovered", OptionType::List, "", "values of flag.column meaning discovered by patrols")
      .add("conditions.column", OptionType::String, "",
           "column of a per-event condition code (BAAC: atm, the weather at the accident), read only for "
           "the event factors; empty: none")
      .add("conditions.codes", OptionType::List, "",
           "every integer code of a known condition (BAAC atm: 1-9)")
      .add("conditions.unknown", OptionType::List, "-1",
           "codes meaning 'not recorded' (an empty field is always unknown); other values are data errors")
      .add("conditions.rain", OptionType::List, "", "codes meaning rain at the event (a subset of codes)")
      .add("conditions.heavy_rain", OptionType::List, "",
           "codes meaning heavy rain at the event (a subset of rain; may be empty)");
}

std::string SourceProfile::where(const std::string& key) const {
  const int line = keyLine(file, key);
  return line > 0 ? file.string() + ":" + std::to_string(line) : file.string();
}

SourceProfile SourceProfile::load(const std::filesystem::path& ini) {
  core::OptionSet options;
  declareOptions(options);
  const auto cfg = core::Config::parse(options, ini, {});
  SourceProfile p;
  p.file = cfg.file();
  const auto fail = [&](const std::string& key, const std::string& why) {
    return Error(ExitCode::Usage, p.where(key) + ": " + why, true);
  };

  p.name = cfg.getString("source.name");
  const auto dup = cfg.getString("source.duplicates");
  if (dup == "keep") {
    p.duplicates = DuplicatePolicy::Keep;
  } else if (dup == "drop") {
    p.duplicates = DuplicatePolicy::Drop;
  } else {
    throw fail("source.duplicates", "source.duplicates '" + dup + "' is not keep or drop");
  }

  p.delimiter = parseChar(p, "csv.delimiter", cfg.getString("csv.delimiter"));
  p.quote = parseChar(p, "csv.quote", cfg.getString("csv.quote"));
  p.header = cfg.getBool("csv.header");
  if (!p.header) throw fail("csv.header", "csv.header = false is not supported: columns are found by name");
  if (p.delimiter == p.quote) throw fail("csv.quote", "csv.quote and csv.delimiter must differ");

  const auto mode = cfg.getString("time.mode");
  if (mode == "datetime") {
    p.time_mode = TimeMode::DateTime;
  } else if (mode == "columns") {
    p.time_mode = TimeMode::Columns;
  } else {
    throw fail("time.mode", "time.mode '" + mode + "' is not datetime or columns");
  }
  p.time_column = cfg.getString("time.column");
  p.time_format = cfg.getString("time.format");
  p.year_column = cfg.getString("time.year");
  p.year_fixed = static_cast<int>(cfg.getInt("time.year_fixed"));
  p.month_column = cfg.getString("time.month");
  p.day_column = cfg.getString("time.day");
  p.hour_column = cfg.getString("time.hour");
  p.minute_column = cfg.getString("time.minute");
  p.hhmm_column = cfg.getString("time.hhmm");
  p.precision = parsePrecision(p, cfg.getString("time.precision"));
  p.midnight_unknown = cfg.getBool("time.midnight_unknown");

  // Which calendar fields the source has, so the declared precision can be checked against them.
  bool has_year = false, has_month = false, has_day = false, has_hour = false, has_minute = false;
  if (p.time_mode == TimeMode::DateTime) {
    if (p.time_column.empty()) throw fail("time.column", "time.mode = datetime needs time.column");
    const auto& f = p.time_format;
    for (std::size_t k = 0; k < f.size(); ++k) {
      if (f[k] != '%') continue;
      if (k + 1 >= f.size()) throw fail("time.format", "time.format '" + f + "' ends with a lone '%'");
      switch (f[++k]) {
        case 'Y':
          has_year = true;
          break;
        case 'm':
          has_month = true;
          break;
        case 'd':
          has_day = true;
          break;
        case 'H':
          has_hour = true;
          break;
        case 'M':
          has_minute = true;
          break;
        case 'S':
        case '%':
          break;
        default:
          throw fail("time.format", "time.format '" + f + "': unsupported directive '%" +
                                        std::string(1, f[k]) + "' (use %Y %m %d %H %M %S)");
      }
    }
  } else {
    if (!p.year_column.empty() && p.year_fixed != 0)
      throw fail("time.year_fixed", "give time.year or time.year_fixed, not both");
    if (p.year_fixed < 0 || p.year_fixed > 9999)
      throw fail("time.year_fixed", "time.year_fixed must be 1..9999");
    if (!p.hhmm_column.empty() && (!p.hour_column.empty() || !p.minute_column.empty()))
      throw fail("time.hhmm", "give time.hhmm or time.hour/time.minute, not both");
    has_year = !p.year_column.empty() || p.year_fixed != 0;
    has_month = !p.month_column.empty();
    has_day = !p.day_column.empty();
    has_hour = !p.hour_column.empty() || !p.hhmm_column.empty();
    has_minute = !p.minute_column.empty() || !p.hhmm_column.empty();
  }
  if (!has_year || !has_month)
    throw fail(p.time_mode == TimeMode::DateTime ? "time.format" : "time.month",
               "the time needs a year (time.year, time.year_fixed or %Y) and a month (time.month or %m)");
  const bool enough = p.precision == TimePrecision::Month || (p.precision == TimePrecision::Day && has_day) ||
                      (p.precision == TimePrecision::Hour && has_day && has_hour) ||
                      (p.precision == TimePrecision::Minute && has_day && has_hour && has_minute);
  if (!enough)
    throw fail("time.precision", "time.precision '" + cfg.getString("time.precision") +
                                     "' is finer than the time fields the profile gives");
  if (has_hour && !has_minute && p.midnight_unknown)
    throw fail("time.midnight_unknown", "time.midnight_unknown needs minutes (00:00 is tested)");

  const auto loc = cfg.getString("location.mode");
  if (loc == "xy") {
    p.location_mode = LocationMode::Xy;
  } else if (loc == "lonlat") {
    p.location_mode = LocationMode::LonLat;
  } else {
    throw fail("location.mode", "location.mode '" + loc + "' is not xy or lonlat");
  }
  p.x_column = cfg.getString("location.x");
  p.y_column = cfg.getString("location.y");
  if (p.x_column.empty() || p.y_column.empty())
    throw fail("location.x", "location.x and location.y (column names) are required");
  const auto crs = cfg.getString("location.crs");
  if (crs.empty()) {
    if (p.location_mode == LocationMode::Xy)
      throw fail("location.crs", "location.mode = xy needs location.crs");
    p.crs_epsg = 4326;
  } else {
    p.crs_epsg = parseEpsg(p, crs);
  }
  p.withheld_zero = cfg.getBool("location.withheld_zero");

  p.category_column = cfg.getString("category.column");
  p.category_fixed = cfg.getString("category.fixed");
  if (p.category_column.empty()) {
    if (p.category_fixed.empty())
      throw fail("category.column", "give category.column (with category.map) or category.fixed");
    if (cfg.isSet("category.map")) throw fail("category.map", "category.map needs category.column");
    p.category_map_line = keyLine(p.file, "category.fixed");
  } else {
    if (!p.category_fixed.empty())
      throw fail("category.fixed", "give category.column or category.fixed, not both");
    p.category_map = parseMap(p, cfg.getString("category.map"));
    if (p.category_map.empty()) throw fail("category.map", "category.column needs a non-empty category.map");
    p.category_map_line = keyLine(p.file, "category.map");
  }

  p.flag_column = cfg.getString("flag.column");
  p.flag_reported = cfg.getList("flag.reported");
  p.flag_discovered = cfg.getList("flag.discovered");
  if (p.flag_column.empty() && (!p.flag_reported.empty() || !p.flag_discovered.empty()))
    throw fail("flag.column", "flag.reported/flag.discovered need flag.column");
  if (!p.flag_column.empty() && p.flag_reported.empty() && p.flag_discovered.empty())
    throw fail("flag.column", "flag.column needs flag.reported and/or flag.discovered values");

  p.condition_column = cfg.getString("conditions.column");
  p.condition_codes = parseCodes(p, "conditions.codes", cfg.getList("conditions.codes"));
  p.condition_unknown = parseCodes(p, "conditions.unknown", cfg.getList("conditions.unknown"));
  p.condition_rain = parseCodes(p, "conditions.rain", cfg.getList("conditions.rain"));
  p.condition_heavy_rain = parseCodes(p, "conditions.heavy_rain", cfg.getList("conditions.heavy_rain"));
  const auto contains = [](const std::vector<int>& set, int code) {
    return std::find(set.begin(), set.end(), code) != set.end();
  };
  if (p.condition_column.empty()) {
    for (const auto* key : {"conditions.codes", "conditions.rain", "conditions.heavy_rain"}) {
      if (cfg.isSet(key)) throw fail(key, std::string(key) + " needs conditions.column");
    }
  } else {
    if (p.condition_codes.empty()) throw fail("conditions.codes", "conditions.column needs conditions.codes");
    if (p.condition_rain.empty()) throw fail("conditions.rain", "conditions.column needs conditions.rain");
    for (const int code : p.condition_unknown) {
      if (contains(p.condition_codes, code))
        throw fail("conditions.unknown", "code " + std::to_string(code) + " is both known and unknown");
    }
    for (const int code : p.condition_rain) {
      if (!contains(p.condition_codes, code))
        throw fail("conditions.rain", "rain code " + std::to_string(code) + " is not in conditions.codes");
    }
    for (const int code : p.condition_heavy_rain) {
      if (!contains(p.condition_rain, code))
        throw fail("conditions.heavy_rain",
                   "heavy rain code " + std::to_string(code) + " is not in conditions.rain");
    }
  }
  return p;
}

}  // namespace vigie::ingest
