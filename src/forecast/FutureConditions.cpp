#include "forecast/FutureConditions.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "ingest/Covariates.hpp"
#include "ingest/Event.hpp"

namespace vigie::forecast {

namespace {

using core::Error;
using core::ExitCode;

const char* const kWeatherKey = "forecast.weather";
const char* const kWindowKey = "forecast.climatology_half_window_days";
const char* const kOverridesKey = "forecast.weather_overrides";
const char* const kHolidaysKey = "forecast.public_holidays";
constexpr double kRainDayMm = 1.0;  // a rain day: at least 1 mm, as the rain_day covariate of the models

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string isoDate(std::int64_t day) {
  const ingest::CivilTime t = ingest::civilFromSeconds(day * 86400);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
  return buf;
}

int yearOf(std::int64_t day) {
  return ingest::civilFromSeconds(day * 86400).year;
}

// Shortest text that reads back to the same double ("0", "35", "12.5").
std::string numberText(double x) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(x);
}

// Physical bounds of a daily value: amounts and speeds are not negative, a day has at most one thunder or fog
// day.
std::string outOfRange(const std::string& var, double x) {
  if ((var == "rain_mm" || var == "wind_mean_ms" || var == "gust_max_ms") && x < 0) return "is negative";
  if ((var == "thunder_days" || var == "fog_days") && (x < 0 || x > 1))
    return "is outside 0..1 (days per day)";
  return {};
}

std::string namesList() {
  std::string out;
  for (const auto& n : ingest::Weather::names()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

void FutureConditions::declareOptions(core::OptionSet& options) {
  options.add(kWeatherKey, core::OptionType::String, "climatology",
              "weather of future bins: climatology (mean of covariates.weather over the same calendar days "
              "of every year) or none (unknown: the weather covariates are flagged missing)");
  options.add(kWindowKey, core::OptionType::Int, "7",
              "climatology window: a future day's value is the mean over every year of the weather file's "
              "days within +- this many calendar days of the same month/day (0..182)");
  options.add(
      kOverridesKey, core::OptionType::List, "",
      "scenario weather as var=value daily values replacing the climatology on every future day, e.g. "
      "rain_mm=0,tmax_c=35; var is one of rain_mm, tmin_c, tmax_c, tmean_c, wind_mean_ms, "
      "gust_max_ms, thunder_days, fog_days");
  options.add(kHolidaysKey, core::OptionType::List, "",
              "ISO dates (YYYY-MM-DD) treated as public holidays in future bins in addition to "
              "covariates.holidays' rule (scenario use)");
}

FutureConditions FutureConditions::fromConfig(const core::Config& config) {
  FutureConditions fc;
  const ingest::CovariateSpec spec = ingest::Covariates::fromConfig(config);

  const std::string mode = config.getString(kWeatherKey);
  if (mode != "climatology" && mode != "none") {
    throw Error(ExitCode::Usage,
                std::string(kWeatherKey) + ": unknown value '" + mode + "' (expected climatology or none)",
                true);
  }
  fc.m_weather_none = mode == "none";
  const std::int64_t h = config.getInt(kWindowKey);
  if (h < 0 || h > 182) {
    throw Error(ExitCode::Usage,
                std::string(kWindowKey) + " must be between 0 and 182 days, not " + std::to_string(h), true);
  }
  fc.m_half_window_days = static_cast<int>(h);

  for (const auto& item : config.getList(kOverridesKey)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      throw Error(ExitCode::Usage, std::string(kOverridesKey) + ": '" + item + "' is not var=value", true);
    }
    const std::string var = trim(item.substr(0, eq));
    const std::string text = trim(item.substr(eq + 1));
    if (!ingest::Weather::indexOf(var)) {
      throw Error(ExitCode::Usage,
                  std::string(kOverridesKey) + ": unknown weather variable '" + var + "' (expected one of " +
                      namesList() + ")",
                  true);
    }
    double x = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(x)) {
      throw Error(ExitCode::Usage,
                  std::string(kOverridesKey) + ": the value of " + var + " ('" + text + "') is not a number",
                  true);
    }
    if (const auto why = outOfRange(var, x); !why.empty()) {
      throw Error(ExitCode::Usage, std::string(kOverridesKey) + ": " + var + "=" + text + " " + why, true);
    }
    if (!fc.m_overrides.emplace(var, x).second) {
      throw Error(ExitCode::Usage, std::string(kOverridesKey) + ": " + var + " is given twice", true);
    }
  }

  for (const auto& item : config.getList(kHolidaysKey)) {
    const auto day = ingest::parseIsoDate(item);
    if (!day) {
      throw Error(ExitCode::Usage,
                  std::string(kHolidaysKey) + ": '" + item + "' is not an ISO date (YYYY-MM-DD)", true);
    }
    fc.m_extra_holidays.push_back(*day);
  }
  std::sort(fc.m_extra_holidays.begin(), fc.m_extra_holidays.end());
  fc.m_extra_holidays.erase(std::unique(fc.m_extra_holidays.begin(), fc.m_extra_holidays.end()),
                            fc.m_extra_holidays.end());

  fc.m_weather_path = spec.weather;
  fc.m_climatology = !fc.m_weather_none && !spec.weather.empty();
  if (fc.m_climatology) fc.m_weather = ingest::Weather::read(spec.weather);
  fc.m_rule = spec.holidays;
  fc.m_school_path = spec.school_holidays;
  if (!spec.school_holidays.empty()) fc.m_school = ingest::SchoolHolidays::read(spec.school_holidays);
  return fc;
}

FutureCovariates FutureConditions::at(const std::vector<ingest::DaySpan>& spans) const {
  FutureCovariates out;
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  if (!spans.empty()) {
    lo = spans.front().first_day;
    hi = spans.front().end_day;
    for (const auto& s : spans) {
      lo = std::min(lo, s.first_day);
      hi = std::max(hi, s.end_day);
    }
  }
  // Without the climatology an empty record stands in: every day present, every value empty, so aggregate()
  // flags every variable missing except those the scenario sets.
  static const ingest::Weather kUnknown;
  ingest::Weather daily = (m_climatology ? m_weather : kUnknown).climatology(lo, hi, m_half_window_days);
  for (const auto& [var, value] : m_overrides) daily.overrideVariable(*ingest::Weather::indexOf(var), value);
  out.weather = daily.aggregate(spans);

  // A day's chance of at least 1 mm of rain: the climatology of the indicator RR >= 1, not a threshold on the
  // mean amount (a mean of 2 mm/day may come from one wet day in four).
  const std::size_t rain = *ingest::Weather::indexOf("rain_mm");
  ingest::Weather wet = (m_climatology ? m_weather : kUnknown)
                            .indicator(rain, kRainDayMm)
                            .climatology(lo, hi, m_half_window_days);
  if (const auto it = m_overrides.find("rain_mm"); it != m_overrides.end()) {
    wet.overrideVariable(rain, it->second >= kRainDayMm ? 1.0 : 0.0);
  }
  out.rain_day_share.assign(spans.size(), 0.0);
  for (std::size_t b = 0; b < spans.size(); ++b) {
    double sum = 0.0;
    int known = 0;
    for (std::int64_t d = spans[b].first_day; d < spans[b].end_day; ++d) {
      const double p = wet.dailyValue(d, rain);
      if (std::isnan(p)) continue;
      sum += p;
      ++known;
    }
    out.rain_day_share[b] = known > 0 ? sum / known : 0.0;
  }

  const ingest::Calendar calendar(m_rule, m_school);
  out.calendar = calendar.columns(spans);
  for (std::size_t b = 0; b < spans.size(); ++b) {
    const auto first = std::lower_bound(m_extra_holidays.begin(), m_extra_holidays.end(), spans[b].first_day);
    for (auto it = first; it != m_extra_holidays.end() && *it < spans[b].end_day; ++it) {
      if (!calendar.isPublicHoliday(*it)) ++out.calendar.public_holiday[b];
    }
  }
  return out;
}

std::string FutureConditions::source() const {
  if (!m_overrides.empty() || !m_extra_holidays.empty()) return "scenario";
  return m_climatology ? "climatology" : "none";
}

std::string FutureConditions::weatherText() const {
  std::string text;
  if (m_climatology) {
    text = "climatology of " + m_weather_path.filename().string();
    if (m_weather.endDay() > m_weather.firstDay()) {
      text += " (" + std::to_string(yearOf(m_weather.firstDay())) + "-" +
              std::to_string(yearOf(m_weather.endDay() - 1)) + ")";
    } else {
      text += " (no rows)";
    }
    text += ", mean of the same calendar days +-" + std::to_string(m_half_window_days) +
            " days over every year of the file";
  } else if (m_weather_none) {
    text = "weather unknown (forecast.weather = none), flagged missing";
  } else {
    text = "no weather file (covariates.weather is not set), weather flagged missing";
  }
  if (!m_overrides.empty()) {
    std::string list;
    for (const auto& [var, value] : m_overrides)
      list += (list.empty() ? "" : ", ") + var + "=" + numberText(value);
    text += m_climatology ? ", overridden on every future day by the scenario's " + list
                          : ", except the scenario's " + list + " on every future day";
  }
  return text;
}

std::string FutureConditions::calendarText() const {
  std::string text = m_rule == ingest::HolidayRule::None
                         ? std::string("no public holidays by rule (covariates.holidays = none)")
                         : std::string("public holidays ") + ingest::holidayRuleName(m_rule) + " by rule";
  if (!m_extra_holidays.empty()) {
    std::string list;
    for (const auto d : m_extra_holidays) list += (list.empty() ? "" : ", ") + isoDate(d);
    text += " plus the scenario's " + list;
  }
  if (m_school_path.empty()) {
    text += "; school holidays unknown (covariates.school_holidays is not set)";
  } else if (m_school.covers()) {
    text += "; school holidays from " + m_school_path.filename().string() + " (covers " +
            isoDate(m_school.coverageStart()) + " to " + isoDate(m_school.coverageEnd()) +
            ", unknown outside)";
  } else {
    text += "; school holidays from " + m_school_path.filename().string() + " (covers no date)";
  }
  return text;
}

}  // namespace vigie::forecast
