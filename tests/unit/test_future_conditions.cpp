// Covariates of future bins: the climatology of a hand-made three-year weather file against means worked out
// by hand (pooled years, +-h window across the new year, 29 February, days and values the file lacks),
// scenario overrides and extra public holidays, the configuration errors, and the real Marignane file for
// January 2019 against values computed independently with Python.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "forecast/FutureConditions.hpp"
#include "ingest/Calendar.hpp"
#include "ingest/Covariates.hpp"
#include "ingest/Event.hpp"
#include "ingest/Weather.hpp"

namespace fs = std::filesystem;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::forecast::FutureConditions;
using vigie::forecast::FutureCovariates;
using vigie::ingest::daysFromCivil;
using vigie::ingest::DaySpan;
using vigie::ingest::Weather;

namespace {

const fs::path kMarseille = fs::path(VIGIE_SOURCE_DIR) / "inputs" / "marseille";
const fs::path kScratch = fs::path(VIGIE_BINARY_DIR) / "test-output" / "future_conditions";

using Overrides = std::vector<std::pair<std::string, std::string>>;

std::int64_t day(int y, int m, int d) {
  return daysFromCivil(y, m, d);
}

DaySpan daySpan(int y, int m, int d) {
  return DaySpan{day(y, m, d), day(y, m, d) + 1, -1};
}

DaySpan monthSpan(int y, int m) {
  return DaySpan{day(y, m, 1), day(y, m, vigie::ingest::daysInMonth(y, m)) + 1, -1};
}

std::size_t var(const std::string& name) {
  return *Weather::indexOf(name);
}

// The hand-made file, 2016-01-01 to 2018-12-31 with the columns of the Météo-France file:
//   RR  = 0 (2016), 2 (2017), 7 (2018): pooled mean 3 per day, two rain days (>= 1 mm) in three
//   TN  = year - 2016: pooled mean 1
//   TX  = FXI = day of month
//   TM  = 10
//   FFM = 2 (2016), 4 (2017), empty in 2018: mean 3 over the days that have it
//   ORAG = 1 in 2017, 0 otherwise: a third of a thunder day per day
//   BROU = 0, empty in June and July
//   no row for 2017-03-10.
fs::path handMadeWeather() {
  fs::create_directories(kScratch);
  const fs::path path = kScratch / "weather_hand_2016_2018.csv";
  std::ofstream out(path, std::ios::binary);
  out << "POSTE,DATE,RR,DRR,TN,TX,TM,TAMPLI,FFM,FXI,DXI,UN,UX,UM,INST,GLOT,PMERM,ORAG,BROU,BRUME,GRELE,NEIG,"
         "ETPGRILLE\n";
  for (std::int64_t d = day(2016, 1, 1); d <= day(2018, 12, 31); ++d) {
    if (d == day(2017, 3, 10)) continue;
    const auto t = vigie::ingest::civilFromSeconds(d * 86400);
    char date[16];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", t.year, t.month, t.day);
    const int rr = t.year == 2016 ? 0 : t.year == 2017 ? 2 : 7;
    const std::string ffm = t.year == 2016 ? "2.0" : t.year == 2017 ? "4.0" : "";
    const std::string brou = (t.month == 6 || t.month == 7) ? "" : "0.0";
    out << "13054001," << date << "," << rr << ",," << (t.year - 2016) << "," << t.day << ",10.0,," << ffm
        << "," << t.day << ",300.0,,,,,,," << (t.year == 2017 ? 1 : 0) << "," << brou << ",,,,\n";
  }
  return path;
}

vigie::core::Config config(const Overrides& overrides) {
  static vigie::core::OptionSet options = [] {
    vigie::core::OptionSet o;
    vigie::ingest::Covariates::declareOptions(o);
    FutureConditions::declareOptions(o);
    return o;
  }();
  return vigie::core::Config::parse(options, "", overrides);
}

FutureConditions hand(Overrides more = {}) {
  Overrides o = {{"covariates.weather", handMadeWeather().string()}, {"covariates.holidays", "FR"}};
  o.insert(o.end(), more.begin(), more.end());
  return FutureConditions::fromConfig(config(o));
}

double value(const FutureCovariates& c, const std::string& name, std::size_t b = 0) {
  return c.weather.values[var(name)][b];
}

template <class F>
void expectError(F&& f, ExitCode code, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error thrown, expected one containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(FutureConditions, JanuaryMonthOfTheHandMadeClimatology) {
  const auto fc = hand();
  EXPECT_EQ(fc.source(), "climatology");
  const auto c = fc.at({monthSpan(2019, 1)});
  ASSERT_EQ(c.weather.values.size(), Weather::names().size());
  // The +-7 day windows of January (25 December to 7 February) hold every year's RR, TN, TM, ORAG.
  EXPECT_NEAR(value(c, "rain_mm"), 31 * 3.0, 1e-9);
  EXPECT_NEAR(value(c, "tmin_c"), 1.0, 1e-12);
  EXPECT_NEAR(value(c, "tmean_c"), 10.0, 1e-12);
  EXPECT_NEAR(value(c, "wind_mean_ms"), 3.0, 1e-12);  // 2018 has no FFM: mean of 2 and 4, not of 2, 4, 0
  EXPECT_NEAR(value(c, "thunder_days"), 31.0 / 3.0, 1e-9);
  // 2017 and 2018 have at least 1 mm every day, 2016 none: the chance of a rain day, not "mean >= 1 mm".
  ASSERT_EQ(c.rain_day_share.size(), 1U);
  EXPECT_NEAR(c.rain_day_share[0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(value(c, "fog_days"), 0.0, 1e-12);
  // The highest daily mean of FXI = day of month: 24 January, window 17..31 January.
  EXPECT_NEAR(value(c, "gust_max_ms"), 24.0, 1e-12);
  EXPECT_EQ(c.weather.missing[0], 0);
  for (const auto& m : c.weather.missing_by_var) EXPECT_EQ(m[0], 0);
  EXPECT_EQ(c.calendar.days[0], 31);
  EXPECT_EQ(c.calendar.public_holiday[0], 1);
  EXPECT_EQ(c.calendar.weekday[0], 1);                 // 1 January 2019 was a Tuesday
  EXPECT_EQ(c.calendar.school_holiday_missing[0], 1);  // no school table given
  EXPECT_NE(fc.weatherText().find("climatology of weather_hand_2016_2018.csv (2016-2018)"), std::string::npos)
      << fc.weatherText();
  EXPECT_NE(fc.weatherText().find("+-7 days"), std::string::npos) << fc.weatherText();
  EXPECT_NE(fc.calendarText().find("public holidays FR by rule"), std::string::npos) << fc.calendarText();
  EXPECT_NE(fc.calendarText().find("school holidays unknown"), std::string::npos) << fc.calendarText();
}

TEST(FutureConditions, MonthAggregatesTheDailyClimatologyAsIngestDoes) {
  const auto fc = hand();
  std::vector<DaySpan> days;
  for (int d = 1; d <= 31; ++d) days.push_back(daySpan(2019, 1, d));
  const auto daily = fc.at(days);
  const auto month = fc.at({monthSpan(2019, 1)});
  double rain = 0;
  double tmax = 0;
  double gust = 0;
  for (std::size_t b = 0; b < days.size(); ++b) {
    rain += value(daily, "rain_mm", b);
    tmax += value(daily, "tmax_c", b);
    gust = std::max(gust, value(daily, "gust_max_ms", b));
  }
  EXPECT_NEAR(value(month, "rain_mm"), rain, 1e-9);
  EXPECT_NEAR(value(month, "tmax_c"), tmax / 31, 1e-12);
  EXPECT_DOUBLE_EQ(value(month, "gust_max_ms"), gust);
  // 3 January: its window runs from 27 December (27..31) to 10 January (1..10) in every year.
  EXPECT_NEAR(value(daily, "tmax_c", 2), 200.0 / 15.0, 1e-12);
  EXPECT_NEAR(value(daily, "tmax_c", 14), 15.0, 1e-12);
  // The same calendar day of another year has the same climatology.
  const auto later = fc.at({daySpan(2031, 1, 3)});
  EXPECT_DOUBLE_EQ(value(later, "tmax_c"), value(daily, "tmax_c", 2));
}

TEST(FutureConditions, WindowWidthFebruary29AndDaysTheFileLacks) {
  const auto h0 = hand({{"forecast.climatology_half_window_days", "0"}});
  // 29 February alone: only 2016 has it.
  auto c = h0.at({daySpan(2020, 2, 29)});
  EXPECT_NEAR(value(c, "tmax_c"), 29.0, 1e-12);
  EXPECT_NEAR(value(c, "rain_mm"), 0.0, 1e-12);
  EXPECT_NEAR(value(c, "tmin_c"), 0.0, 1e-12);
  EXPECT_NEAR(c.rain_day_share[0], 0.0, 1e-12);
  // 28 February with h = 0 is not mixed with 29 February.
  c = h0.at({daySpan(2019, 2, 28)});
  EXPECT_NEAR(value(c, "tmax_c"), 28.0, 1e-12);
  EXPECT_NEAR(value(c, "rain_mm"), 3.0, 1e-12);
  // 10 March: the file has no row for 2017-03-10, so the mean is over 2016 and 2018 only.
  c = h0.at({daySpan(2019, 3, 10)});
  EXPECT_NEAR(value(c, "rain_mm"), (0.0 + 7.0) / 2.0, 1e-12);
  EXPECT_NEAR(c.rain_day_share[0], 0.5, 1e-12);
  EXPECT_NEAR(value(c, "tmin_c"), (0.0 + 2.0) / 2.0, 1e-12);
  EXPECT_NEAR(value(c, "wind_mean_ms"), 2.0, 1e-12);  // 2017 lacks the row, 2018 the value
  EXPECT_EQ(c.weather.missing[0], 0);

  // 1 March, h = 1: 28 February (3 years), 29 February (2016), 1 and 2 March (3 years).
  const auto h1 = hand({{"forecast.climatology_half_window_days", "1"}});
  c = h1.at({daySpan(2019, 3, 1)});
  EXPECT_NEAR(value(c, "tmax_c"), (3 * 28.0 + 29.0 + 3 * 1.0 + 3 * 2.0) / 10.0, 1e-12);
  EXPECT_NEAR(value(c, "rain_mm"), (9.0 + 0.0 + 9.0 + 9.0) / 10.0, 1e-12);
  EXPECT_NEAR(c.rain_day_share[0], 6.0 / 10.0, 1e-12);

  // 29 February, h = 7: 22 February to 7 March of every year (14 days each, 29 February aside) and
  // 2016-02-29.
  const auto h7 = hand();
  c = h7.at({daySpan(2024, 2, 29)});
  const double tx_year = (22 + 23 + 24 + 25 + 26 + 27 + 28) + (1 + 2 + 3 + 4 + 5 + 6 + 7);
  EXPECT_NEAR(value(c, "tmax_c"), (3 * tx_year + 29.0) / 43.0, 1e-12);
  EXPECT_NEAR(value(c, "rain_mm"), (14 * 0.0 + 0.0 + 14 * 2.0 + 14 * 7.0) / 43.0, 1e-12);
  EXPECT_NEAR(c.rain_day_share[0], 28.0 / 43.0, 1e-12);
}

TEST(FutureConditions, AValueNoDayOfTheWindowHasIsMissing) {
  const auto fc = hand();
  // BROU is empty in June and July: 1 July's window (24 June to 8 July) has none.
  const auto c = fc.at({daySpan(2019, 7, 1), daySpan(2019, 5, 20)});
  EXPECT_EQ(c.weather.missing_by_var[var("fog_days")][0], 1);
  EXPECT_EQ(c.weather.missing[0], 1);
  EXPECT_EQ(c.weather.missing_by_var[var("rain_mm")][0], 0);
  EXPECT_DOUBLE_EQ(value(c, "fog_days"), 0.0);
  // 20 May's window (13 to 27 May) has it.
  EXPECT_EQ(c.weather.missing[1], 0);
  // An empty span is missing, as in ingest.
  const auto e = fc.at({DaySpan{day(2019, 1, 1), day(2019, 1, 1), -1}});
  EXPECT_EQ(e.weather.missing[0], 1);
  const auto none = fc.at({});
  EXPECT_EQ(none.weather.values.size(), Weather::names().size());
  EXPECT_TRUE(none.weather.missing.empty());
}

TEST(FutureConditions, ScenarioOverridesReplaceTheClimatology) {
  const auto fc = hand({{"forecast.weather_overrides", "rain_mm=0, tmax_c=35"}});
  EXPECT_EQ(fc.source(), "scenario");
  EXPECT_EQ(fc.overrides().size(), 2U);
  EXPECT_DOUBLE_EQ(fc.overrides().at("tmax_c"), 35.0);
  const auto c = fc.at({monthSpan(2019, 1), daySpan(2019, 7, 1)});
  EXPECT_DOUBLE_EQ(value(c, "rain_mm"), 0.0);
  EXPECT_DOUBLE_EQ(c.rain_day_share[0], 0.0);
  EXPECT_DOUBLE_EQ(value(c, "tmax_c"), 35.0);
  EXPECT_NEAR(value(c, "tmin_c"), 1.0, 1e-12);  // not overridden: climatology
  EXPECT_DOUBLE_EQ(value(c, "tmax_c", 1), 35.0);
  EXPECT_EQ(c.weather.missing_by_var[var("fog_days")][1], 1);  // fog still unknown on 1 July
  EXPECT_NE(fc.weatherText().find("rain_mm=0, tmax_c=35"), std::string::npos) << fc.weatherText();

  // Overriding the variable the window lacks fills it in.
  const auto fog = hand({{"forecast.weather_overrides", "fog_days=0.5"}});
  const auto f = fog.at({daySpan(2019, 7, 1)});
  EXPECT_EQ(f.weather.missing[0], 0);
  EXPECT_DOUBLE_EQ(value(f, "fog_days"), 0.5);
  const auto wet = hand({{"forecast.weather_overrides", "rain_mm=1"}});
  EXPECT_DOUBLE_EQ(wet.at({monthSpan(2019, 1)}).rain_day_share[0], 1.0);
}

TEST(FutureConditions, NoWeatherIsFlaggedMissingExceptTheScenarioValues) {
  const auto none = hand({{"forecast.weather", "none"}});
  EXPECT_EQ(none.source(), "none");
  EXPECT_NE(none.weatherText().find("forecast.weather = none"), std::string::npos) << none.weatherText();
  auto c = none.at({monthSpan(2019, 1)});
  EXPECT_EQ(c.weather.missing[0], 1);
  for (std::size_t v = 0; v < Weather::names().size(); ++v) {
    EXPECT_EQ(c.weather.missing_by_var[v][0], 1) << Weather::names()[v];
    EXPECT_DOUBLE_EQ(c.weather.values[v][0], 0.0);
  }
  EXPECT_DOUBLE_EQ(c.rain_day_share[0], 0.0);
  const auto dry = hand({{"forecast.weather", "none"}, {"forecast.weather_overrides", "rain_mm=0"}});
  EXPECT_EQ(dry.source(), "scenario");
  c = dry.at({monthSpan(2019, 1)});
  EXPECT_EQ(c.weather.missing_by_var[var("rain_mm")][0], 0);
  EXPECT_EQ(c.weather.missing_by_var[var("tmax_c")][0], 1);
  EXPECT_EQ(c.weather.missing[0], 1);

  const auto nofile = FutureConditions::fromConfig(config({}));
  EXPECT_EQ(nofile.source(), "none");
  EXPECT_NE(nofile.weatherText().find("covariates.weather is not set"), std::string::npos);
  EXPECT_EQ(nofile.at({daySpan(2019, 1, 1)}).weather.missing[0], 1);
  EXPECT_NE(nofile.calendarText().find("no public holidays"), std::string::npos) << nofile.calendarText();
}

TEST(FutureConditions, ScenarioPublicHolidaysAddToTheRule) {
  const auto fc = hand({{"forecast.public_holidays", "2019-01-02,2019-01-01,2019-01-02,2019-02-14"}});
  EXPECT_EQ(fc.source(), "scenario");
  const auto c = fc.at({monthSpan(2019, 1), daySpan(2019, 1, 2), daySpan(2019, 1, 3),
                        DaySpan{day(2019, 2, 14), day(2019, 2, 15), 9}});
  EXPECT_EQ(c.calendar.public_holiday[0], 2);  // 1 January by rule (given again: counted once), 2 January
  EXPECT_EQ(c.calendar.public_holiday[1], 1);
  EXPECT_EQ(c.calendar.public_holiday[2], 0);
  EXPECT_EQ(c.calendar.public_holiday[3], 1);
  EXPECT_EQ(c.calendar.hour_of_day[3], 9);
  EXPECT_NE(fc.calendarText().find("plus the scenario's 2019-01-01, 2019-01-02, 2019-02-14"),
            std::string::npos)
      << fc.calendarText();
}

TEST(FutureConditions, ConfigurationErrorsNameTheKey) {
  expectError(
      [] {
        hand({{"forecast.weather_overrides", "rainmm=0"}});
      },
      ExitCode::Usage, "forecast.weather_overrides: unknown weather variable 'rainmm'");
  expectError(
      [] {
        hand({{"forecast.weather_overrides", "rain_mm=lots"}});
      },
      ExitCode::Usage, "forecast.weather_overrides: the value of rain_mm ('lots') is not a number");
  expectError([] { hand({{"forecast.weather_overrides", "rain_mm="}}); }, ExitCode::Usage, "is not a number");
  expectError([] { hand({{"forecast.weather_overrides", "rain_mm"}}); }, ExitCode::Usage, "is not var=value");
  expectError([] { hand({{"forecast.weather_overrides", "rain_mm=-1"}}); }, ExitCode::Usage, "negative");
  expectError([] { hand({{"forecast.weather_overrides", "fog_days=2"}}); }, ExitCode::Usage, "outside 0..1");
  expectError(
      [] {
        hand({{"forecast.weather_overrides", "rain_mm=1,rain_mm=2"}});
      },
      ExitCode::Usage, "given twice");
  expectError(
      [] {
        hand({{"forecast.weather", "sunny"}});
      },
      ExitCode::Usage, "forecast.weather: unknown value");
  expectError(
      [] {
        hand({{"forecast.climatology_half_window_days", "183"}});
      },
      ExitCode::Usage, "forecast.climatology_half_window_days");
  expectError(
      [] {
        hand({{"forecast.public_holidays", "2019-02-30"}});
      },
      ExitCode::Usage, "forecast.public_holidays: '2019-02-30'");
  expectError(
      [] {
        FutureConditions::fromConfig(config({{"covariates.weather", (kScratch / "absent.csv").string()}}));
      },
      ExitCode::InputData, "absent.csv");
}

TEST(FutureConditions, MarseilleJanuary2019) {
  const auto fc = FutureConditions::fromConfig(
      config({{"covariates.weather", (kMarseille / "weather_marignane_daily_1980_2024.csv").string()},
              {"covariates.holidays", "FR"},
              {"covariates.school_holidays", (kMarseille / "school_holidays_zone_b.csv").string()}}));
  EXPECT_EQ(fc.source(), "climatology");
  const auto c = fc.at({monthSpan(2019, 1), monthSpan(2020, 1)});
  const double rain = value(c, "rain_mm");
  EXPECT_GT(rain, 20.0);
  EXPECT_LT(rain, 120.0);
  // Independently: Python pooled every file day within 7 days of 1..31 January of any year (1979..2026).
  EXPECT_NEAR(rain, 43.408, 1e-9 * 43.408);
  EXPECT_NEAR(value(c, "tmax_c"), 11.619617682198326, 1e-9 * 11.62);
  EXPECT_NEAR(value(c, "gust_max_ms"), 13.175259259259247, 1e-9 * 13.18);
  EXPECT_NEAR(value(c, "thunder_days"), 0.631853424665738, 1e-9);
  EXPECT_NEAR(c.rain_day_share[0], 0.16611708482676224, 1e-12);  // about 5 rain days in January
  EXPECT_EQ(c.weather.missing[0], 0);
  // The climatology does not depend on the year.
  EXPECT_DOUBLE_EQ(value(c, "rain_mm", 1), rain);
  // Zone B Christmas holidays 2018 run to Sunday 6 January 2019; 1 January is the one public holiday.
  EXPECT_EQ(c.calendar.school_holiday[0], 6);
  EXPECT_EQ(c.calendar.school_holiday_missing[0], 0);
  EXPECT_EQ(c.calendar.public_holiday[0], 1);
  EXPECT_EQ(c.calendar.school_holiday_missing[1], 1);  // January 2020 is beyond the table
  EXPECT_NE(fc.weatherText().find("climatology of weather_marignane_daily_1980_2024.csv (1980-2024)"),
            std::string::npos)
      << fc.weatherText();
  EXPECT_NE(fc.calendarText().find(
                "school holidays from school_holidays_zone_b.csv (covers 2017-09-04 to 2019-09-01"),
            std::string::npos)
      << fc.calendarText();
}
