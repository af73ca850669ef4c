#pragma once
/// Daily weather observations (Météo-France DPClim daily CSV) aggregated over time bins.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/Calendar.hpp"

namespace vigie::ingest {

/// Weather aggregated per bin: values[v][b] for the variable names()[v], and missing[b].
struct WeatherSeries {
  std::vector<std::vector<double>> values;
  /// 1 if a day of the bin is absent from the file or lacks one of the values used; the aggregates then use
  /// the days that have the value, and are 0 when none has it.
  std::vector<std::uint8_t> missing;
  /// missing_by_var[v][b]: 1 when a day of bin b is absent or lacks variable v (so a thunder gap does not
  /// hide a complete rain series).
  std::vector<std::vector<std::uint8_t>> missing_by_var;
};

/// A daily weather record per date, read once and aggregated for any list of bins.
class Weather {
 public:
  /// The aggregated variables, in the order of WeatherSeries::values: rain_mm (sum of RR), tmin_c, tmax_c,
  /// tmean_c (means of TN, TX, TM), wind_mean_ms (mean of FFM), gust_max_ms (max of FXI), thunder_days (sum
  /// of ORAG), fog_days (sum of BROU).
  static const std::vector<std::string>& names();
  /// Units of each variable, same order as names().
  static const std::vector<std::string>& units();

  /// Not collective. Reads the CSV (header with at least DATE, RR, TN, TX, TM, FFM, FXI, ORAG, BROU; an empty
  /// field is a missing value). Throws core::Error(InputData, "<file>:<line>: <reason>") for a missing
  /// column, a row with the wrong number of fields, a bad date, a non-numeric value, or a date given twice.
  static Weather read(const std::filesystem::path& path);

  /// Not collective. Aggregates over each span; all values finite.
  [[nodiscard]] WeatherSeries aggregate(const std::vector<DaySpan>& spans) const;

  /// The index of `name` in names(), nullopt for an unknown name.
  static std::optional<std::size_t> indexOf(std::string_view name);

  /// Not collective. A daily record over [first_day, end_day) (every day present) holding this record's
  /// climatology: a day's value of a variable is the mean over every day of this record that has the value
  /// and whose calendar day lies within +-half_window_days of the day's own, whatever the year. Calendar days
  /// are compared on a 365-day circle (31 December and 1 January are one day apart); 29 February sits halfway
  /// between 28 February and 1 March, so it is within the window of its neighbours and its own window is
  /// symmetric. A value no such day has is left empty (flagged missing by aggregate()). Throws
  /// core::Error(Internal) for half_window_days outside 0..182.
  [[nodiscard]] Weather climatology(std::int64_t first_day, std::int64_t end_day, int half_window_days) const;

  /// Not collective. Sets variable names()[v] to `value` on every day of the record's range; a day absent so
  /// far becomes present with its other values empty. Throws core::Error(Internal) for v out of range.
  void overrideVariable(std::size_t v, double value);

  /// Not collective. A copy in which variable names()[v] is 1 where its value is at least `threshold`, 0
  /// where it is below and empty where empty: an indicator whose climatology is the share of days over the
  /// threshold. Throws core::Error(Internal) for v out of range.
  [[nodiscard]] Weather indicator(std::size_t v, double threshold) const;

  /// Not collective. The value of variable names()[v] on `day`, NaN when the record lacks it.
  [[nodiscard]] double dailyValue(std::int64_t day, std::size_t v) const;

  /// First and one-past-last day of the file's range (days since 1970-01-01).
  [[nodiscard]] std::int64_t firstDay() const noexcept { return m_first_day; }
  [[nodiscard]] std::int64_t endDay() const noexcept {
    return m_first_day + static_cast<std::int64_t>(m_present.size());
  }

 private:
  std::int64_t m_first_day = 0;
  std::vector<std::uint8_t> m_present;  // per day from m_first_day: a row exists
  std::vector<double> m_raw;            // [day][variable], NaN = empty field
};

}  // namespace vigie::ingest
