#pragma once
/// A source profile: how the columns of one kind of event file (a police export, the BAAC road-accident file)
/// map to a time, a location, a Vigie category and a reported/discovered flag. Read from its own INI file,
/// named by `ingest.profile`. An optional [conditions] section names a per-event condition column (the
/// weather BAAC records at each accident) that models::eventFactors reads in its own pass; the event reader
/// never reads it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/Event.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::ingest {

/// Where the time of a row comes from.
enum class TimeMode { DateTime, Columns };
/// How the location of a row is given.
enum class LocationMode { Xy, LonLat };
/// What happens to an exact duplicate row (counted in the summary either way).
enum class DuplicatePolicy { Keep, Drop };

/// One `Source Type:vigie_category` pair of `category.map`.
struct CategoryMapEntry {
  std::string source;  ///< the value in the category column, exactly (case and spaces matter)
  std::string target;  ///< the Vigie category name (must be one of ingest.categories)
};

/// A parsed, checked source profile. Every key of the INI file is a public member.
class SourceProfile {
 public:
  /// Declares every profile key (a separate catalogue from the case configuration).
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Reads and checks a profile; throws core::Error(Usage) naming the file and line for an
  /// unknown key, a malformed value or an inconsistent combination (e.g. minute precision without minutes),
  /// core::Error(InputData) if the file cannot be read.
  static SourceProfile load(const std::filesystem::path& ini);

  std::filesystem::path file;  ///< the INI file it was read from (absolute), for messages
  std::string name;            ///< source.name

  char delimiter = ',';  ///< csv.delimiter (one character; "tab" for '\t')
  bool header = true;    ///< csv.header: the first line names the columns (required: columns are named)
  char quote = '"';      ///< csv.quote

  TimeMode time_mode = TimeMode::DateTime;  ///< time.mode
  std::string time_column;                  ///< time.column (datetime mode)
  std::string time_format;                  ///< time.format: %Y %m %d %H %M %S and literal characters
  std::string year_column;                  ///< time.year (columns mode; empty = time.year_fixed)
  int year_fixed = 0;         ///< time.year_fixed: the year of a one-year file without a year column
  std::string month_column;   ///< time.month
  std::string day_column;     ///< time.day
  std::string hour_column;    ///< time.hour
  std::string minute_column;  ///< time.minute
  std::string hhmm_column;    ///< time.hhmm: HHMM as an integer (5 = 00:05)
  TimePrecision precision = TimePrecision::Minute;  ///< time.precision: the finest the source really has
  bool midnight_unknown = false;  ///< time.midnight_unknown: 00:00 means "time of day unknown"

  LocationMode location_mode = LocationMode::Xy;  ///< location.mode
  std::string x_column;                           ///< location.x (easting or longitude)
  std::string y_column;                           ///< location.y (northing or latitude)
  int crs_epsg = 0;                               ///< location.crs as an EPSG code (lonlat: 4326)
  bool withheld_zero = false;  ///< location.withheld_zero: x = y = 0 marks a withheld location

  std::string category_column;                 ///< category.column (empty: every row is category.fixed)
  std::string category_fixed;                  ///< category.fixed: the one category of a single-type source
  std::vector<CategoryMapEntry> category_map;  ///< category.map
  int category_map_line = 0;                   ///< line of category.map (or category.fixed) in the file

  std::string flag_column;                   ///< flag.column (empty: no flag, every event Unknown)
  std::vector<std::string> flag_reported;    ///< flag.reported: values meaning "reported by the public"
  std::vector<std::string> flag_discovered;  ///< flag.discovered: values meaning "discovered by patrols"

  DuplicatePolicy duplicates = DuplicatePolicy::Keep;  ///< source.duplicates

  /// conditions.column: the column holding a per-event condition code (BAAC: atm, the weather at the
  /// accident); empty: the profile has no [conditions] section. Integer codes; "2.0" reads as 2.
  std::string condition_column;
  /// conditions.codes: every code that records a known condition (BAAC atm: 1-9). Required with the column.
  std::vector<int> condition_codes;
  /// conditions.unknown: codes meaning "not recorded" (default -1, BAAC's "non renseigné"); an empty field is
  /// always unknown. A value in neither list is a data error.
  std::vector<int> condition_unknown;
  /// conditions.rain: the codes meaning rain at the event (BAAC: 2, 3), a subset of conditions.codes.
  std::vector<int> condition_rain;
  /// conditions.heavy_rain: the codes meaning heavy rain (BAAC: 3), a subset of conditions.rain; may be
  /// empty.
  std::vector<int> condition_heavy_rain;

  /// "file:line" of `key` in the profile (just the file when the key is not set there), for messages.
  [[nodiscard]] std::string where(const std::string& key) const;
};

}  // namespace vigie::ingest
