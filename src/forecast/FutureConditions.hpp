#pragma once
/// The covariates of future time bins, which the observation store does not cover: weather from the
/// climatology of the weather file (or a scenario's values), calendar from the holiday rules and tables.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ingest/Calendar.hpp"
#include "ingest/Weather.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core

namespace vigie::forecast {

/// The raw covariates of future bins, laid out as ingest writes them into obs.h5 for observed bins.
struct FutureCovariates {
  /// Weather::names() order, aggregated over each span exactly as ingest::Weather::aggregate does.
  ingest::WeatherSeries weather;
  /// As ingest::Calendar::columns(spans), public holidays including the scenario's extra dates.
  ingest::CalendarColumns calendar;
  /// Per span: the expected share of its days with at least 1 mm of rain (the climatological probability of a
  /// wet day, averaged over the span's days; 1 or 0 under a rain_mm override); the mean over the days whose
  /// share is known, 0 when none is (rain_mm is then flagged missing).
  std::vector<double> rain_day_share;
};

/// Where future weather and calendar come from (`[forecast]` weather, climatology_half_window_days,
/// weather_overrides, public_holidays, with the `[covariates]` files), and their values for any bins.
class FutureConditions {
 public:
  /// Declares forecast.weather, forecast.climatology_half_window_days, forecast.weather_overrides and
  /// forecast.public_holidays (the covariates.* keys are Covariates::declareOptions').
  static void declareOptions(core::OptionSet& options);
  /// Not collective (every rank reads the same files and gets the same result). Reads the weather file (when
  /// forecast.weather = climatology) and the school-holiday table. Throws core::Error(Usage) naming the key
  /// for a bad value, core::Error(InputData) naming the file for a malformed input.
  static FutureConditions fromConfig(const core::Config& config);

  /// Not collective. The covariates of each span (the local days of a bin, ingest::Covariates::daySpans).
  [[nodiscard]] FutureCovariates at(const std::vector<ingest::DaySpan>& spans) const;

  /// "climatology", "scenario" (weather overrides or extra public holidays given) or "none" (no weather).
  [[nodiscard]] std::string source() const;
  /// One English sentence saying where future weather comes from.
  [[nodiscard]] std::string weatherText() const;
  /// One English sentence saying where future public and school holidays come from.
  [[nodiscard]] std::string calendarText() const;
  /// The scenario's daily values by variable name (empty without overrides).
  [[nodiscard]] std::map<std::string, double> overrides() const { return m_overrides; }

 private:
  FutureConditions() = default;

  bool m_climatology = false;  // weather from the file's climatology (file given and forecast.weather set so)
  bool m_weather_none = false;  // forecast.weather = none was asked for
  int m_half_window_days = 7;
  std::filesystem::path m_weather_path;
  ingest::Weather m_weather;
  std::map<std::string, double> m_overrides;
  ingest::HolidayRule m_rule = ingest::HolidayRule::None;
  std::filesystem::path m_school_path;
  ingest::SchoolHolidays m_school;
  std::vector<std::int64_t> m_extra_holidays;  // sorted, distinct
};

}  // namespace vigie::forecast
