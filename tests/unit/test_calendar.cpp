// Calendar covariates (Easter, French and British Columbia public holidays, school holidays), weather
// aggregation over bins against values computed independently with Python from the real Marignane file, and
// the distance/density rasterisation of static layers against hand values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "ingest/Calendar.hpp"
#include "ingest/Covariates.hpp"
#include "ingest/Event.hpp"
#include "ingest/StaticLayers.hpp"
#include "ingest/Weather.hpp"

namespace fs = std::filesystem;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::ingest::Calendar;
using vigie::ingest::daysFromCivil;
using vigie::ingest::DaySpan;
using vigie::ingest::HolidayRule;
using vigie::ingest::SchoolHolidays;
using vigie::ingest::StaticLayers;
using vigie::ingest::Weather;

namespace {

const fs::path kMarseille = fs::path(VIGIE_SOURCE_DIR) / "inputs" / "marseille";

std::int64_t day(int y, int m, int d) {
  return daysFromCivil(y, m, d);
}

bool contains(const std::vector<std::int64_t>& days, std::int64_t d) {
  return std::find(days.begin(), days.end(), d) != days.end();
}

// A scratch file under the build tree, removed at the end of the test.
class ScratchFile {
 public:
  ScratchFile(const std::string& name, const std::string& text)
      : m_path(fs::path(VIGIE_BINARY_DIR) / "test-output" / "calendar" / name) {
    fs::create_directories(m_path.parent_path());
    std::ofstream(m_path, std::ios::binary) << text;
  }
  ~ScratchFile() { fs::remove(m_path); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  [[nodiscard]] const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

// Runs f, expects a core::Error with `code` whose message contains `fragment`.
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

TEST(Calendar, EasterByTheAnonymousGregorianAlgorithm) {
  EXPECT_EQ(Calendar::easterSunday(2018), day(2018, 4, 1));
  EXPECT_EQ(Calendar::easterSunday(2019), day(2019, 4, 21));
  EXPECT_EQ(Calendar::easterSunday(2000), day(2000, 4, 23));
  EXPECT_EQ(Calendar::easterSunday(2024), day(2024, 3, 31));
  EXPECT_EQ(Calendar::easterSunday(2038), day(2038, 4, 25));  // latest possible date
  EXPECT_EQ(Calendar::easterSunday(2285), day(2285, 3, 22));  // earliest possible date
  for (int y = 1980; y <= 2030; ++y) EXPECT_EQ(Calendar::weekday(Calendar::easterSunday(y)), 6) << y;
}

TEST(Calendar, WeekdayStartsOnMonday) {
  EXPECT_EQ(Calendar::weekday(day(2018, 1, 1)), 0);  // a Monday
  EXPECT_EQ(Calendar::weekday(day(1970, 1, 1)), 3);  // a Thursday
  EXPECT_EQ(Calendar::weekday(day(2018, 7, 1)), 6);  // a Sunday
  EXPECT_EQ(Calendar::weekday(day(1969, 12, 29)), 0);
}

TEST(Calendar, FrenchPublicHolidays) {
  const auto h2018 = Calendar::publicHolidays(HolidayRule::France, 2018);
  EXPECT_EQ(h2018.size(), 11U);
  for (const auto d : {day(2018, 1, 1), day(2018, 4, 2), day(2018, 5, 1), day(2018, 5, 8), day(2018, 5, 10),
                       day(2018, 5, 21), day(2018, 7, 14), day(2018, 8, 15), day(2018, 11, 1),
                       day(2018, 11, 11), day(2018, 12, 25)}) {
    EXPECT_TRUE(contains(h2018, d)) << d;
  }
  EXPECT_FALSE(contains(h2018, day(2018, 4, 1)));  // Easter Sunday itself is a Sunday, not listed
  // 2008: Ascension fell on 1 May, one date for two holidays.
  EXPECT_EQ(Calendar::publicHolidays(HolidayRule::France, 2008).size(), 10U);
  EXPECT_TRUE(Calendar::publicHolidays(HolidayRule::None, 2018).empty());

  const Calendar fr(HolidayRule::France, SchoolHolidays{});
  EXPECT_TRUE(fr.isPublicHoliday(day(2019, 6, 10)));  // Whit Monday 2019 = Easter 21 Apr + 50
  EXPECT_TRUE(fr.isPublicHoliday(day(2019, 5, 30)));  // Ascension 2019
  EXPECT_FALSE(fr.isPublicHoliday(day(2019, 5, 31)));
  EXPECT_FALSE(fr.isPublicHoliday(day(2018, 12, 26)));
  EXPECT_FALSE(Calendar(HolidayRule::None, SchoolHolidays{}).isPublicHoliday(day(2018, 12, 25)));
}

TEST(Calendar, BritishColumbiaStatutoryHolidays) {
  const Calendar bc(HolidayRule::BritishColumbia, SchoolHolidays{});
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 2, 12)));  // Family Day, 2nd Monday until 2018
  EXPECT_FALSE(bc.isPublicHoliday(day(2018, 2, 19)));
  EXPECT_TRUE(bc.isPublicHoliday(day(2019, 2, 18)));  // 3rd Monday from 2019
  EXPECT_FALSE(bc.isPublicHoliday(day(2019, 2, 11)));
  EXPECT_TRUE(bc.isPublicHoliday(day(2023, 9, 30)));  // Truth and Reconciliation, from 2023
  EXPECT_FALSE(bc.isPublicHoliday(day(2022, 9, 30)));
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 7, 2)));  // 1 July 2018 was a Sunday
  EXPECT_FALSE(bc.isPublicHoliday(day(2018, 7, 1)));
  EXPECT_TRUE(bc.isPublicHoliday(day(2019, 7, 1)));
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 3, 30)));  // Good Friday
  EXPECT_FALSE(bc.isPublicHoliday(day(2018, 4, 2)));  // Easter Monday is not statutory in BC
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 5, 21)));  // Victoria Day
  EXPECT_TRUE(bc.isPublicHoliday(day(2021, 5, 24)));  // 24 May itself when it is a Monday
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 8, 6)));   // BC Day
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 9, 3)));   // Labour Day
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 10, 8)));  // Thanksgiving
  EXPECT_TRUE(bc.isPublicHoliday(day(2018, 11, 11)));
  EXPECT_FALSE(bc.isPublicHoliday(day(2018, 12, 26)));  // Boxing Day is not statutory in BC
  EXPECT_EQ(Calendar::publicHolidays(HolidayRule::BritishColumbia, 2018).size(), 10U);
  EXPECT_EQ(Calendar::publicHolidays(HolidayRule::BritishColumbia, 2023).size(), 11U);
  EXPECT_EQ(Calendar::publicHolidays(HolidayRule::BritishColumbia, 2012).size(), 9U);  // before Family Day
}

TEST(Calendar, HolidayRuleNames) {
  EXPECT_EQ(vigie::ingest::parseHolidayRule("FR"), HolidayRule::France);
  EXPECT_EQ(vigie::ingest::parseHolidayRule("CA-BC"), HolidayRule::BritishColumbia);
  EXPECT_EQ(vigie::ingest::parseHolidayRule("none"), HolidayRule::None);
  expectError([] { (void)vigie::ingest::parseHolidayRule("fr"); }, ExitCode::Usage, "covariates.holidays");
}

TEST(SchoolHolidays, ShippedZoneBTable) {
  const auto table = SchoolHolidays::read(kMarseille / "school_holidays_zone_b.csv");
  ASSERT_TRUE(table.covers());
  EXPECT_EQ(table.isHoliday(day(2018, 2, 23)), false);  // Friday before the winter break
  EXPECT_EQ(table.isHoliday(day(2018, 2, 24)), true);
  EXPECT_EQ(table.isHoliday(day(2018, 3, 11)), true);
  EXPECT_EQ(table.isHoliday(day(2018, 3, 12)), false);
  EXPECT_EQ(table.isHoliday(day(2018, 1, 7)), true);  // end of the Christmas break
  EXPECT_EQ(table.isHoliday(day(2018, 1, 8)), false);
  EXPECT_EQ(table.isHoliday(day(2018, 8, 1)), true);
  EXPECT_EQ(table.isHoliday(day(2019, 4, 22)), true);
  EXPECT_EQ(table.isHoliday(day(2019, 4, 23)), false);
  EXPECT_EQ(table.isHoliday(day(2017, 1, 15)), std::nullopt);  // before the table's coverage
  EXPECT_EQ(table.isHoliday(day(2020, 1, 1)), std::nullopt);
  const Calendar cal(HolidayRule::France, table);
  EXPECT_EQ(cal.isSchoolHoliday(day(2018, 4, 25)), true);
  EXPECT_EQ(Calendar(HolidayRule::France, SchoolHolidays{}).isSchoolHoliday(day(2018, 4, 25)), std::nullopt);
}

TEST(Calendar, ColumnsPerBin) {
  const Calendar cal(HolidayRule::France, SchoolHolidays::read(kMarseille / "school_holidays_zone_b.csv"));
  const auto c = cal.columns({DaySpan{day(2018, 2, 1), day(2018, 3, 1)},      // February 2018
                              DaySpan{day(2018, 5, 1), day(2018, 6, 1)},      // May 2018
                              DaySpan{day(2018, 12, 24), day(2018, 12, 31)},  // ISO week from Monday 24 Dec
                              DaySpan{day(2017, 8, 28), day(2017, 9, 11)},    // straddles the table's start
                              DaySpan{day(2018, 7, 14), day(2018, 7, 15), 13}});  // an hour bin on 14 July
  EXPECT_EQ(c.days, (std::vector<std::int32_t>{28, 31, 7, 14, 1}));
  EXPECT_EQ(c.public_holiday, (std::vector<std::int32_t>{0, 4, 1, 0, 1}));
  EXPECT_EQ(c.school_holiday, (std::vector<std::int32_t>{5, 6, 7, 0, 1}));
  EXPECT_EQ(c.school_holiday_missing, (std::vector<std::uint8_t>{0, 0, 0, 1, 0}));
  EXPECT_EQ(c.weekday[2], 0);
  EXPECT_EQ(c.weekday[4], 5);  // 14 July 2018 was a Saturday
  EXPECT_EQ(c.hour_of_day[4], 13);
  EXPECT_EQ(c.hour_of_day[0], -1);
}

TEST(SchoolHolidays, MalformedTables) {
  const ScratchFile no_cover("nocover.csv", "start,end,label\n2018-01-01,2018-01-02,x\n");
  expectError([&] { (void)SchoolHolidays::read(no_cover.path()); }, ExitCode::InputData, "coverage");
  const ScratchFile outside("outside.csv",
                            "coverage_start,coverage_end\n2018-01-01,2018-06-30\nstart,end,label\n"
                            "2018-06-20,2018-07-05,summer\n");
  expectError([&] { (void)SchoolHolidays::read(outside.path()); }, ExitCode::InputData, "outside.csv:4:");
  const ScratchFile bad_date("baddate.csv",
                             "# a comment\ncoverage_start,coverage_end\n2018-01-01,2018-02-30\n");
  expectError([&] { (void)SchoolHolidays::read(bad_date.path()); }, ExitCode::InputData, "baddate.csv:3:");
  const ScratchFile reversed("reversed.csv",
                             "coverage_start,coverage_end\n2018-01-01,2018-12-31\nstart,end,label\n"
                             "2018-03-05,2018-03-01,x\n");
  expectError([&] { (void)SchoolHolidays::read(reversed.path()); }, ExitCode::InputData, "reversed.csv:4:");
  expectError([] { (void)SchoolHolidays::read("/nonexistent/school.csv"); }, ExitCode::InputData,
              "/nonexistent/school.csv");
}

// Expected values: Python csv over the same file (sum of RR, means of TN/TX/TM/FFM, max FXI, sums of ORAG and
// BROU for 2018-01-01..31).
TEST(Weather, MonthlyAggregatesOfJanuary2018) {
  const auto w = Weather::read(kMarseille / "weather_marignane_daily_1980_2024.csv");
  EXPECT_EQ(w.firstDay(), day(1980, 1, 1));
  EXPECT_EQ(w.endDay(), day(2025, 1, 1));
  const auto s = w.aggregate({DaySpan{day(2018, 1, 1), day(2018, 2, 1)}});
  ASSERT_EQ(s.values.size(), Weather::names().size());
  const std::vector<double> expected = {
      85.3, 6.906451612903225, 14.958064516129026, 10.683870967741937, 4.848387096774195, 24.7, 2.0, 2.0};
  for (std::size_t v = 0; v < expected.size(); ++v) {
    EXPECT_NEAR(s.values[v][0], expected[v], 1e-9) << Weather::names()[v];
  }
  // ORAG is empty on 2018-01-04 in the real file: the month is flagged, thunder_days sums the other 30 days.
  EXPECT_EQ(s.missing[0], 1);
  EXPECT_EQ(w.aggregate({DaySpan{day(2018, 1, 5), day(2018, 2, 1)}}).missing[0], 0);
  // Per variable: only thunder is incomplete in January 2018; rain and temperatures are whole.
  ASSERT_EQ(s.missing_by_var.size(), Weather::names().size());
  for (std::size_t v = 0; v < Weather::names().size(); ++v) {
    EXPECT_EQ(s.missing_by_var[v][0], Weather::names()[v] == "thunder_days" ? 1 : 0) << Weather::names()[v];
  }
}

TEST(Weather, MissingValuesAndDays) {
  const auto w = Weather::read(kMarseille / "weather_marignane_daily_1980_2024.csv");
  // August 2008: FFM empty on 5 days (27-31), FXI too; the aggregate uses the 26 days that have FFM.
  const auto aug =
      w.aggregate({DaySpan{day(2008, 8, 1), day(2008, 9, 1)}, DaySpan{day(2008, 8, 1), day(2008, 8, 2)},
                   DaySpan{day(2030, 1, 1), day(2030, 2, 1)}, DaySpan{day(2024, 12, 31), day(2025, 1, 7)}});
  const auto wind = static_cast<std::size_t>(
      std::find(Weather::names().begin(), Weather::names().end(), "wind_mean_ms") - Weather::names().begin());
  EXPECT_EQ(aug.missing[0], 1);
  EXPECT_NEAR(aug.values[wind][0], 4.865384615384616, 1e-9);
  EXPECT_NEAR(aug.values[0][0], 1.0, 1e-9);  // rain over the 31 days that have it
  EXPECT_EQ(aug.missing[1], 0);
  // A span wholly outside the file: missing, and every value 0 (finite).
  EXPECT_EQ(aug.missing[2], 1);
  for (const auto& var : aug.values) EXPECT_EQ(var[2], 0.0);
  // A week that runs past the end of the file: missing, values from the one day present.
  EXPECT_EQ(aug.missing[3], 1);
  for (const auto& var : aug.values) {
    for (const double x : var) EXPECT_TRUE(std::isfinite(x));
  }
}

TEST(Weather, MalformedFiles) {
  const std::string header = "POSTE,DATE,RR,TN,TX,TM,FFM,FXI,ORAG,BROU\n";
  const ScratchFile good("good.csv",
                         header + "1,2018-01-01,1.0,2,3,2.5,4,9,0,1\n1,2018-01-03,,2,3,2.5,4,9,0,1\n");
  const auto w = Weather::read(good.path());
  const auto s = w.aggregate({DaySpan{day(2018, 1, 1), day(2018, 1, 4)}});
  EXPECT_EQ(s.missing[0], 1);  // 2 Jan absent, RR empty on 3 Jan
  EXPECT_NEAR(s.values[0][0], 1.0, 1e-12);
  EXPECT_NEAR(s.values[6][0], 0.0, 1e-12);
  EXPECT_NEAR(s.values[7][0], 2.0, 1e-12);

  const ScratchFile fields("fields.csv", header + "1,2018-01-01,1.0,2,3,2.5,4,9,0,1\n1,2018-01-02,1.0,2,3\n");
  expectError([&] { (void)Weather::read(fields.path()); }, ExitCode::InputData, "fields.csv:3:");
  const ScratchFile number("number.csv", header + "1,2018-01-01,abc,2,3,2.5,4,9,0,1\n");
  expectError([&] { (void)Weather::read(number.path()); }, ExitCode::InputData, "number.csv:2: RR");
  const ScratchFile date("date.csv", header + "1,2018-13-01,1,2,3,2.5,4,9,0,1\n");
  expectError([&] { (void)Weather::read(date.path()); }, ExitCode::InputData, "date.csv:2:");
  const ScratchFile twice("twice.csv",
                          header + "1,2018-01-01,1,2,3,2.5,4,9,0,1\n1,2018-01-01,1,2,3,2.5,4,9,0,1\n");
  expectError([&] { (void)Weather::read(twice.path()); }, ExitCode::InputData, "twice.csv:3:");
  const ScratchFile column("column.csv", "POSTE;DATE;RR\n1;2018-01-01;3\n");
  expectError([&] { (void)Weather::read(column.path()); }, ExitCode::InputData, "column.csv:1:");
  const ScratchFile empty("empty.csv", "");
  expectError([&] { (void)Weather::read(empty.path()); }, ExitCode::InputData, "empty.csv:1:");
}

namespace {

// A 5 x 4 grid of 100 m cells from (0, 0): a point at (250, 150) (centre of cell (2, 1)), a line along
// y = 350 from x = 0 to 500, and a square polygon [300, 500] x [0, 200].
vigie::geo::GeoJsonFile handLayer() {
  vigie::geo::GeoJsonFile f;
  f.epsg = 2154;
  vigie::geo::Feature point;
  point.geometry_type = "Point";
  point.points = {{250.0, 150.0}};
  vigie::geo::Feature line;
  line.geometry_type = "LineString";
  line.lines = {{{0.0, 350.0}, {200.0, 350.0}, {500.0, 350.0}}};
  vigie::geo::Feature square;
  square.geometry_type = "Polygon";
  vigie::geo::Polygon poly;
  poly.outer.x = {300, 500, 500, 300};
  poly.outer.y = {0, 0, 200, 200};
  square.polygons = {poly};
  f.features = {point, line, square};
  return f;
}

vigie::store::GridGeometry handGrid() {
  vigie::store::GridGeometry g;
  g.epsg = 2154;
  g.x0 = 0;
  g.y0 = 0;
  g.cell_m = 100;
  g.nx = 5;
  g.ny = 4;
  return g;
}

}  // namespace

TEST(StaticLayers, DistanceAndDensityByHand) {
  const auto g = handGrid();
  const vigie::store::Box all{0, 0, g.nx, g.ny};
  const auto f = StaticLayers::rasterize(handLayer(), g, all, 150.0);
  const auto at = [&](const std::vector<double>& v, int i, int j) {
    return v[static_cast<std::size_t>(j * g.nx + i)];
  };
  const double area = std::numbers::pi * 0.15 * 0.15;
  // (2, 1), centre (250, 150): on the point; polygon edge x = 300 at 50 m; line at 200 m.
  EXPECT_DOUBLE_EQ(at(f.distance_m, 2, 1), 0.0);
  EXPECT_DOUBLE_EQ(at(f.density, 2, 1), 2.0 / area);
  // (0, 0), centre (50, 50): point at hypot(200, 100), polygon at 250, line at 300.
  EXPECT_NEAR(at(f.distance_m, 0, 0), std::hypot(200.0, 100.0), 1e-9);
  EXPECT_DOUBLE_EQ(at(f.density, 0, 0), 0.0);
  // (3, 0), centre (350, 50): inside the polygon; point at hypot(100, 100) = 141.4 m < 150; line at 300.
  EXPECT_DOUBLE_EQ(at(f.distance_m, 3, 0), 0.0);
  EXPECT_DOUBLE_EQ(at(f.density, 3, 0), 2.0 / area);
  // (0, 3), centre (50, 350): on the line; point at hypot(200, 200); polygon at hypot(250, 150).
  EXPECT_DOUBLE_EQ(at(f.distance_m, 0, 3), 0.0);
  EXPECT_DOUBLE_EQ(at(f.density, 0, 3), 1.0 / area);
  // (1, 2), centre (150, 250): line at 100 m, point at hypot(100, 100), polygon at hypot(150, 50) = 158.1.
  EXPECT_NEAR(at(f.distance_m, 1, 2), 100.0, 1e-9);
  EXPECT_DOUBLE_EQ(at(f.density, 1, 2), 2.0 / area);
  // (4, 3), centre (450, 350): on the line; polygon top edge y = 200 at 150 m (inclusive); point far.
  EXPECT_DOUBLE_EQ(at(f.distance_m, 4, 3), 0.0);
  EXPECT_DOUBLE_EQ(at(f.density, 4, 3), 2.0 / area);

  // Any box gives the same values as the whole grid.
  const vigie::store::Box part{1, 1, 3, 2};
  const auto p = StaticLayers::rasterize(handLayer(), g, part, 150.0);
  for (int j = 0; j < part.nj; ++j) {
    for (int i = 0; i < part.ni; ++i) {
      const auto k = static_cast<std::size_t>(j * part.ni + i);
      EXPECT_EQ(p.distance_m[k], at(f.distance_m, part.i0 + i, part.j0 + j));
      EXPECT_EQ(p.density[k], at(f.density, part.i0 + i, part.j0 + j));
    }
  }
  expectError([&] { (void)StaticLayers::rasterize(handLayer(), g, all, 0.0); }, ExitCode::Usage, "radius");
  expectError([&] { (void)StaticLayers::rasterize(vigie::geo::GeoJsonFile{}, g, all, 100.0); },
              ExitCode::InputData, "no point");
}

TEST(StaticLayers, PolygonHolesAndShippedLayers) {
  vigie::geo::GeoJsonFile f;
  f.epsg = 2154;
  vigie::geo::Feature ring;
  ring.geometry_type = "Polygon";
  vigie::geo::Polygon poly;
  poly.outer.x = {0, 500, 500, 0};
  poly.outer.y = {0, 0, 400, 400};
  poly.holes.push_back({{100, 400, 400, 100}, {100, 100, 300, 300}});
  ring.polygons = {poly};
  f.features = {ring};
  const auto g = handGrid();
  const auto r = StaticLayers::rasterize(f, g, {0, 0, g.nx, g.ny}, 100.0);
  EXPECT_DOUBLE_EQ(r.distance_m[0], 0.0);            // (0, 0) in the ring
  EXPECT_NEAR(r.distance_m[1 * 5 + 2], 50.0, 1e-9);  // (2, 1), centre (250, 150), in the hole
  EXPECT_NEAR(r.distance_m[2 * 5 + 2], 50.0, 1e-9);  // (2, 2), centre (250, 250)

  // The shipped layers read and reproject onto the Marseille grid; the stadium's own cell is within ~71 m.
  const auto stadium = StaticLayers::load({"stadium", kMarseille / "layers" / "stadium.geojson"}, 2154);
  ASSERT_EQ(stadium.features.size(), 1U);
  const double sx = stadium.features[0].points[0].first;
  const double sy = stadium.features[0].points[0].second;
  vigie::store::GridGeometry m;
  m.epsg = 2154;
  m.x0 = 881100;
  m.y0 = 6232800;
  m.cell_m = 100;
  m.nx = 246;
  m.ny = 251;
  const int si = static_cast<int>((sx - m.x0) / m.cell_m);
  const int sj = static_cast<int>((sy - m.y0) / m.cell_m);
  const auto s = StaticLayers::rasterize(stadium, m, {si, sj, 1, 1}, 500.0);
  EXPECT_LE(s.distance_m[0], 100.0 * std::sqrt(0.5) + 1e-9);
  EXPECT_DOUBLE_EQ(s.density[0], 1.0 / (std::numbers::pi * 0.25));
  for (const auto* name : {"beaches", "nightlife"}) {
    const auto layer =
        StaticLayers::load({name, kMarseille / "layers" / (std::string(name) + ".geojson")}, 2154);
    EXPECT_FALSE(layer.features.empty()) << name;
  }
  expectError(
      [] {
        (void)StaticLayers::load({"x", kMarseille / "layers" / "stadium.geojson"}, 0);
      },
      ExitCode::Usage, "lattice");
}

TEST(Covariates, SpecFromConfig) {
  vigie::core::OptionSet options;
  vigie::ingest::Covariates::declareOptions(options);
  const ScratchFile ini("case/case.ini",
                        "[covariates]\nholidays = FR\nweather = w.csv\n"
                        "layers = beaches=layers/beaches.geojson, stadium = /abs/stadium.geojson\n");
  const auto dir = ini.path().parent_path();
  const auto config = vigie::core::Config::parse(options, ini.path(), {});
  const auto spec = vigie::ingest::Covariates::fromConfig(config);
  EXPECT_EQ(spec.holidays, HolidayRule::France);
  EXPECT_EQ(spec.weather, (dir / "w.csv").lexically_normal());
  EXPECT_TRUE(spec.school_holidays.empty());
  EXPECT_EQ(spec.density_radius_m, 500.0);
  ASSERT_EQ(spec.layers.size(), 2U);
  EXPECT_EQ(spec.layers[0].name, "beaches");
  EXPECT_EQ(spec.layers[0].path, (dir / "layers" / "beaches.geojson").lexically_normal());
  EXPECT_EQ(spec.layers[1].name, "stadium");
  EXPECT_EQ(spec.layers[1].path, fs::path("/abs/stadium.geojson"));

  // On the command line a relative layer path resolves against the working directory.
  const auto cli =
      vigie::core::Config::parse(options, ini.path(), {{"covariates.layers", "nightlife=n.geojson"}});
  const auto cli_spec = vigie::ingest::Covariates::fromConfig(cli);
  ASSERT_EQ(cli_spec.layers.size(), 1U);
  EXPECT_EQ(cli_spec.layers[0].path, (fs::current_path() / "n.geojson").lexically_normal());

  for (const auto& bad : {"beaches", "Beaches=x.geojson", "a=x.geojson,a=y.geojson", "a="}) {
    const auto c = vigie::core::Config::parse(options, ini.path(), {{"covariates.layers", bad}});
    expectError([&] { (void)vigie::ingest::Covariates::fromConfig(c); }, ExitCode::Usage,
                "covariates.layers");
  }
  const auto r = vigie::core::Config::parse(options, ini.path(), {{"covariates.density_radius_m", "-1"}});
  expectError([&] { (void)vigie::ingest::Covariates::fromConfig(r); }, ExitCode::Usage, "density_radius_m");
}
