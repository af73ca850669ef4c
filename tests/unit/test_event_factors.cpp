// Per-event factors: the share ratio and its Katz interval, the condition pass over hand-made event files
// (quotes, CRLF, gzip, unknown and malformed rows, bad codes), the [conditions] profile section, and the
// figure for the real Marseille BAAC 2018 file against Marignane rain.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "ingest/IngestPipeline.hpp"
#include "ingest/SourceProfile.hpp"
#include "models/factors/EventFactors.hpp"

namespace {

namespace fs = std::filesystem;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::models::eventFactors;
using vigie::models::shareRatio;

const fs::path kMarseille = fs::path(VIGIE_SOURCE_DIR) / "inputs/marseille";

// A configuration of the ingest options from "key=value" items, as if given on the command line.
// The catalogue outlives every Config (a Config refers to its OptionSet).
vigie::core::Config ingestConfig(const std::vector<std::string>& items) {
  static const vigie::core::OptionSet options = [] {
    vigie::core::OptionSet o;
    vigie::ingest::IngestPipeline::declareOptions(o);
    return o;
  }();
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    overrides.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return vigie::core::Config::parse(options, {}, overrides);
}

// Expected values computed independently (Python) from RR = (a/n)/(d/D) and the Katz interval.
constexpr double kTol = 1e-9;

class EventFactorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("vigie_event_factors_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    // Ten days of January 2018: RR 1.0, 12 and 3 are wet (>= 1 mm), 12 is heavy (>= 10 mm); 0.9 is not wet.
    // The 11th, very wet, lies outside the period and must not count.
    write("weather.csv",
          "POSTE,DATE,RR,DRR,TN,TX,TM,FFM,FXI,ORAG,BROU\n"
          "1,2018-01-01,0.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-02,0.5,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-03,1.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-04,12.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-05,0.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-06,0.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-07,3.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-08,0.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-09,0.0,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-10,0.9,,1,2,1.5,3,5,0,0\n"
          "1,2018-01-11,50.0,,1,2,1.5,3,5,0,0\n");
    writeProfile("conditions", kConditions);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  static constexpr const char* kConditions =
      "[conditions]\ncolumn = atm\ncodes = 1,2,3,4,5,6,7,8,9\nrain = 2,3\nheavy_rain = 3\n";

  fs::path write(const std::string& name, const std::string& text) {
    const auto path = m_dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  fs::path writeProfile(const std::string& name, const std::string& conditions) {
    return write(name + ".ini",
                 "[time]\nmode = columns\nyear_fixed = 2018\nmonth = m\nprecision = month\n"
                 "[location]\nmode = lonlat\nx = lon\ny = lat\n[category]\nfixed = road_injury\n" +
                     conditions);
  }
  // Ten rows: 8 known (4 rain, 2 of them heavy), an empty and a -1 unknown, a blank line and a short row.
  std::string events(const std::string& eol = "\n") const {
    const std::vector<std::string> rows = {
        "id,m,atm,lon,lat", "1,1,1.0,5.3,43.3", "2,1,2.0,5.3,43.3",
        "3,1,2,5.3,43.3",   "4,1,3.0,5.3,43.3", "\"5\",1,\"3\",5.3,\"43.3\"",
        "6,1,1,5.3,43.3",   "7,1,,5.3,43.3",    "",
        "8,1,-1,5.3,43.3",  "9,1,8,5.3,43.3",   "11,1",
        "10,1,1,5.3,43.3"};
    std::string out;
    for (const auto& r : rows) out += r + eol;
    return out;
  }
  vigie::core::Config config(const fs::path& events_file, const std::string& profile = "conditions",
                             const std::string& coverage = "2018-01-01/2018-01-10",
                             bool weather = true) const {
    std::vector<std::string> overrides = {"ingest.events=" + events_file.string(),
                                          "ingest.profile=" + (m_dir / (profile + ".ini")).string(),
                                          "ingest.categories=road_injury"};
    if (!coverage.empty()) overrides.push_back("ingest.coverage=" + coverage);
    if (weather) overrides.push_back("covariates.weather=" + (m_dir / "weather.csv").string());
    return ingestConfig(overrides);
  }
  static void expectHandMade(const std::vector<vigie::models::EventFactor>& f) {
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].name, "rain");
    EXPECT_EQ(f[0].events_with, 4);
    EXPECT_EQ(f[0].events_known, 8);
    EXPECT_EQ(f[0].days_with, 3);
    EXPECT_EQ(f[0].days_total, 10);
    EXPECT_NEAR(f[0].relative_risk, 1.66666666667, kTol);
    EXPECT_NEAR(f[0].lo95, 0.515598232081, kTol);
    EXPECT_NEAR(f[0].hi95, 5.38748507063, kTol);
    EXPECT_EQ(f[1].name, "heavy_rain");
    EXPECT_EQ(f[1].events_with, 2);
    EXPECT_EQ(f[1].days_with, 1);
    EXPECT_NEAR(f[1].relative_risk, 2.5, kTol);
    EXPECT_NEAR(f[1].lo95, 0.273399768917, kTol);
    EXPECT_NEAR(f[1].hi95, 22.8602973029, kTol);
  }
  static void expectError(const std::function<void()>& call, ExitCode code, const std::string& part) {
    try {
      call();
      ADD_FAILURE() << "no error; expected one containing '" << part << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }

  fs::path m_dir;
};

TEST(ShareRatio, KatzIntervalOfKnownCounts) {
  const auto r = shareRatio(200, 2086, 75, 365);
  EXPECT_FALSE(r.zero_corrected);
  EXPECT_NEAR(r.estimate, 0.466602748482, kTol);
  EXPECT_NEAR(r.lo95, 0.366691339918, kTol);
  EXPECT_NEAR(r.hi95, 0.593736751295, kTol);
  // Equal shares: RR 1, an interval symmetric on the log scale.
  const auto one = shareRatio(10, 100, 20, 200);
  EXPECT_DOUBLE_EQ(one.estimate, 1.0);
  EXPECT_NEAR(one.lo95 * one.hi95, 1.0, 1e-12);
}

TEST(ShareRatio, ZeroCountIsCorrected) {
  const auto r = shareRatio(0, 8, 3, 10);
  EXPECT_TRUE(r.zero_corrected);
  EXPECT_NEAR(r.estimate, 0.174603174603, kTol);
  EXPECT_NEAR(r.lo95, 0.0103119825025, kTol);
  EXPECT_NEAR(r.hi95, 2.95639258253, kTol);
  EXPECT_THROW(shareRatio(3, 2, 1, 10), Error);
  EXPECT_THROW(shareRatio(1, 2, 1, 0), Error);
}

TEST_F(EventFactorsTest, HandMadeCountsGiveKnownRatios) {
  const auto f = eventFactors(config(write("events.csv", events())));
  expectHandMade(f);
  EXPECT_NE(f[0].method.find("2 rows with atm unknown"), std::string::npos) << f[0].method;
  EXPECT_NE(f[0].method.find("1 malformed rows skipped"), std::string::npos) << f[0].method;
  EXPECT_NE(f[0].method.find("2018-01-01..2018-01-10"), std::string::npos) << f[0].method;
  EXPECT_NE(f[0].method.find("inside the grid and mask or not"), std::string::npos) << f[0].method;
}

TEST_F(EventFactorsTest, CrlfAndGzipReadTheSame) {
  expectHandMade(eventFactors(config(write("crlf.csv", events("\r\n")))));
  const auto gz = m_dir / "events.csv.gz";
  const auto text = events();
  gzFile out = gzopen(gz.string().c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(out), Z_OK);
  expectHandMade(eventFactors(config(gz)));

  // A gzip stream cut in the middle is an input error, not a shorter count.
  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = write("cut.csv.gz", bytes.substr(0, bytes.size() - 12));
  expectError([&] { eventFactors(config(cut)); }, ExitCode::InputData, "cut.csv.gz");
}

TEST_F(EventFactorsTest, TwoFilesAddUp) {
  const auto a = write("a.csv", events());
  const auto b = write("b.csv", "id,m,atm,lon,lat\n1,1,2,5.3,43.3\n2,1,9,5.3,43.3\n");
  const auto cfg = ingestConfig({"ingest.events=" + a.string() + "," + b.string(),
                                 "ingest.profile=" + (m_dir / "conditions.ini").string(),
                                 "ingest.coverage=2018-01-01/2018-01-10",
                                 "covariates.weather=" + (m_dir / "weather.csv").string()});
  const auto f = eventFactors(cfg);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].events_with, 5);
  EXPECT_EQ(f[0].events_known, 10);
}

TEST_F(EventFactorsTest, NoConditionsOrNoWeatherGivesNothing) {
  writeProfile("plain", "");
  const auto events_file = write("events.csv", events());
  EXPECT_TRUE(eventFactors(config(events_file, "plain")).empty());
  EXPECT_TRUE(eventFactors(config(events_file, "conditions", "2018-01-01/2018-01-10", false)).empty());
  writeProfile("rain_only", "[conditions]\ncolumn = atm\ncodes = 1,2,3,4,5,6,7,8,9\nrain = 2,3\n");
  const auto f = eventFactors(config(events_file, "rain_only"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].name, "rain");
}

TEST_F(EventFactorsTest, ZeroRainEventsStayFinite) {
  const auto f = eventFactors(config(write("dry.csv", "id,m,atm,lon,lat\n1,1,1,5,43\n2,1,1,5,43\n")));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].events_with, 0);
  EXPECT_GT(f[0].relative_risk, 0.0);
  EXPECT_TRUE(std::isfinite(f[0].hi95));
  EXPECT_NE(f[0].method.find("0.5 added"), std::string::npos) << f[0].method;
}

TEST_F(EventFactorsTest, PeriodComesFromCoverageOrYear) {
  const auto events_file = write("events.csv", events());
  // Without ingest.coverage the profile's year_fixed gives all of 2018; the weather file has eleven of its
  // days (the 11th wet), and says so.
  const auto f = eventFactors(config(events_file, "conditions", ""));
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].days_total, 11);
  EXPECT_EQ(f[0].days_with, 4);
  EXPECT_NE(f[0].method.find("2018-01-01..2018-12-31"), std::string::npos) << f[0].method;
  EXPECT_NE(f[0].method.find("354 days of the period without RR left out"), std::string::npos) << f[0].method;
  // Three days only: 2018-01-03 (1.0 mm) is wet, so d = 1 of D = 3.
  const auto g = eventFactors(config(events_file, "conditions", "2018-01-01/2018-01-03"));
  EXPECT_EQ(g[0].days_with, 1);
  EXPECT_EQ(g[0].days_total, 3);
  expectError([&] { eventFactors(config(events_file, "conditions", "2018-01-01/")); }, ExitCode::Usage,
              "open-ended");
  expectError([&] { eventFactors(config(events_file, "conditions", "2017-01-01/2017-01-31")); },
              ExitCode::InputData, "no day of 2017-01-01..2017-01-31");
}

TEST_F(EventFactorsTest, BadConditionValuesNameTheLine) {
  expectError(
      [&] { eventFactors(config(write("word.csv", "id,m,atm,lon,lat\n1,1,1,5,43\n2,1,rain,5,43\n"))); },
      ExitCode::InputData, "word.csv:3: atm value 'rain'");
  expectError([&] { eventFactors(config(write("frac.csv", "id,m,atm,lon,lat\n1,1,2.5,5,43\n"))); },
              ExitCode::InputData, "frac.csv:2:");
  expectError(
      [&] { eventFactors(config(write("code.csv", "id,m,atm,lon,lat\n1,1,1,5,43\n\n2,1,12,5,43\n"))); },
      ExitCode::InputData, "code.csv:4: atm code 12");
  expectError([&] { eventFactors(config(write("nocol.csv", "id,m,weather,lon,lat\n1,1,1,5,43\n"))); },
              ExitCode::InputData, "nocol.csv:1: no column 'atm'");
  expectError([&] { eventFactors(config(write("quote.csv", "id,m,atm,lon,lat\n1,1,\"1,5,43\n"))); },
              ExitCode::InputData, "quote.csv:2: unbalanced quote");
  expectError(
      [&] { eventFactors(config(write("unknown.csv", "id,m,atm,lon,lat\n1,1,,5,43\n2,1,-1,5,43\n"))); },
      ExitCode::InputData, "no row records a known atm");
  expectError([&] { eventFactors(config(m_dir / "absent.csv")); }, ExitCode::InputData, "absent.csv");
}

TEST_F(EventFactorsTest, ProfileSectionIsChecked) {
  using vigie::ingest::SourceProfile;
  const auto ok = SourceProfile::load(m_dir / "conditions.ini");
  EXPECT_EQ(ok.condition_column, "atm");
  EXPECT_EQ(ok.condition_codes.size(), 9u);
  EXPECT_EQ(ok.condition_rain, (std::vector<int>{2, 3}));
  EXPECT_EQ(ok.condition_heavy_rain, (std::vector<int>{3}));
  EXPECT_EQ(ok.condition_unknown, (std::vector<int>{-1}));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"[conditions]\ncolumn = atm\ncodes = 1,2\nrain = 2,3\n", "rain code 3"},
      {"[conditions]\ncolumn = atm\ncodes = 1,2,3\nrain = 2\nheavy_rain = 3\n", "heavy rain code 3"},
      {"[conditions]\ncolumn = atm\ncodes = 1,2\n", "needs conditions.rain"},
      {"[conditions]\ncolumn = atm\nrain = 2\n", "needs conditions.codes"},
      {"[conditions]\nrain = 2\n", "needs conditions.column"},
      {"[conditions]\ncolumn = atm\ncodes = 1,x\nrain = 1\n", "'x' is not an integer code"},
      {"[conditions]\ncolumn = atm\ncodes = 1,2\nrain = 2\nunknown = 1\n", "both known and unknown"},
      {"[conditions]\ncolumn = atm\ncodes = 1,2\nrain = 2\ncolour = red\n", "colour"},
  };
  for (const auto& [section, part] : bad) {
    const auto path = writeProfile("bad", section);
    expectError([&] { SourceProfile::load(path); }, ExitCode::Usage, part);
  }
}

TEST(EventFactorsMarseille, RainAtBaacAccidentsAgainstMarignaneWetDays) {
  const auto cfg =
      ingestConfig({"ingest.events=" + (kMarseille / "baac_2018_marseille.csv").string(),
                    "ingest.profile=" + (kMarseille / "baac.profile.ini").string(),
                    "ingest.categories=road_injury", "ingest.coverage=2018-01-01/2018-12-31",
                    "covariates.weather=" + (kMarseille / "weather_marignane_daily_1980_2024.csv").string()});
  const auto f = eventFactors(cfg);
  ASSERT_EQ(f.size(), 2u);
  for (const auto& x : f) {
    std::cout << "[ marseille ] " << x.name << ": RR " << x.relative_risk << " (95% " << x.lo95 << " to "
              << x.hi95 << "), " << x.events_with << "/" << x.events_known << " accidents, " << x.days_with
              << "/" << x.days_total << " days\n  " << x.method << "\n";
  }
  // 2,086 accidents, every one with its atm; 200 in rain (166 light, 34 heavy); 75 wet and 22 very wet days
  // at Marignane in 2018.
  EXPECT_EQ(f[0].events_known, 2086);
  EXPECT_EQ(f[0].events_with, 200);
  EXPECT_EQ(f[0].days_with, 75);
  EXPECT_EQ(f[0].days_total, 365);
  EXPECT_NEAR(f[0].relative_risk, 0.466602748482, kTol);
  EXPECT_NEAR(f[0].lo95, 0.366691339918, kTol);
  EXPECT_NEAR(f[0].hi95, 0.593736751295, kTol);
  EXPECT_EQ(f[1].events_with, 34);
  EXPECT_EQ(f[1].days_with, 22);
  EXPECT_NEAR(f[1].relative_risk, 0.270417501961, kTol);
  EXPECT_NEAR(f[1].lo95, 0.160027171481, kTol);
  EXPECT_NEAR(f[1].hi95, 0.456957557207, kTol);
}

}  // namespace
