// Scenario files: the four shipped Marseille scenarios parse to the values they state, an empty scenario has
// no effect, every bad file is refused with a message naming the file, the line and the key, and an area's
// cells depend only on the cell (whole grid and tiles agree) with no cell centre beyond the radius.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/Error.hpp"
#include "geo/Projection.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Event.hpp"
#include "ingest/TimeBinning.hpp"
#include "scenario/ScenarioSpec.hpp"

namespace fs = std::filesystem;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::ingest::daysFromCivil;
using vigie::ingest::TimeZone;
using vigie::scenario::Area;
using vigie::scenario::ScenarioSpec;
using vigie::store::Box;

namespace {

const fs::path kShipped = fs::path(VIGIE_SOURCE_DIR) / "inputs/marseille/scenarios";
const fs::path kData = fs::path(VIGIE_SOURCE_DIR) / "tests/data/scenarios";
const fs::path kScratch = fs::path(VIGIE_BINARY_DIR) / "test-output" / "scenario_spec";

// The Marseille case's grid (inputs/marseille/config.ini) without its mask: Lambert-93, 100 m, 246 x 251.
GridSpec marseilleSpec() {
  GridSpec s;
  s.epsg = 2154;
  s.x0 = 881100;
  s.y0 = 6232800;
  s.cell = 100;
  s.nx = 246;
  s.ny = 251;
  return s;
}

const TimeZone& paris() {
  static const TimeZone zone("Europe/Paris");
  return zone;
}

std::int64_t utc(int y, int mo, int d, int h, int mi) {
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

fs::path writeScenario(const std::string& name, const std::string& text) {
  fs::create_directories(kScratch);
  const fs::path p = kScratch / name;
  std::ofstream(p) << text;
  return p;
}

// The error `file` is refused with; fails the test when it is accepted.
Error refusal(const fs::path& file, const CityGrid& grid) {
  try {
    (void)ScenarioSpec::read(file, paris(), grid);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << file << " was accepted";
  return Error(ExitCode::Ok, "");
}

void expectRefused(const fs::path& file, const CityGrid& grid, const std::string& section,
                   const std::string& key, int line, ExitCode code = ExitCode::Usage) {
  const Error e = refusal(file, grid);
  const std::string msg = e.what();
  EXPECT_EQ(e.code(), code) << msg;
  EXPECT_TRUE(e.collective()) << msg;
  EXPECT_NE(msg.find(file.string() + ":" + std::to_string(line) + ": "), std::string::npos) << msg;
  EXPECT_NE(msg.find("[" + section + "] " + key + ":"), std::string::npos) << msg;
}

int count(const std::vector<std::uint8_t>& v) {
  return static_cast<int>(std::count(v.begin(), v.end(), std::uint8_t{1}));
}

// The area's cells computed tile by tile (uneven tiles, some of one row or column) and stitched into the
// whole grid's order.
std::vector<std::uint8_t> stitched(const Area& a, const CityGrid& grid) {
  const int nx = grid.nx(), ny = grid.ny();
  std::vector<std::uint8_t> out(static_cast<std::size_t>(nx) * ny, 7);
  const std::vector<int> xs = {0, 1, 57, 130, 131, nx};
  const std::vector<int> ys = {0, 88, 89, 200, ny};
  for (std::size_t bj = 0; bj + 1 < ys.size(); ++bj) {
    for (std::size_t bi = 0; bi + 1 < xs.size(); ++bi) {
      const Box box{xs[bi], ys[bj], xs[bi + 1] - xs[bi], ys[bj + 1] - ys[bj]};
      const auto part = a.cells(grid, box);
      EXPECT_EQ(part.size(), static_cast<std::size_t>(box.cells()));
      for (int j = 0; j < box.nj; ++j)
        for (int i = 0; i < box.ni; ++i)
          out[static_cast<std::size_t>(box.j0 + j) * nx + box.i0 + i] =
              part[static_cast<std::size_t>(j) * box.ni + i];
    }
  }
  return out;
}

Box whole(const CityGrid& grid) {
  return Box{0, 0, grid.nx(), grid.ny()};
}

}  // namespace

TEST(ScenarioSpec, VelodromeMatchUsesTheMatchDefaults) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  const ScenarioSpec s = ScenarioSpec::read(kShipped / "velodrome_match.ini", paris(), grid);
  EXPECT_EQ(s.name, "Match de l'OM au Vélodrome, dimanche soir");
  EXPECT_EQ(s.step, "hour");
  EXPECT_EQ(s.window.start_iso, "2019-03-17T17:00");
  EXPECT_EQ(s.window.start_utc, utc(2019, 3, 17, 16, 0));  // CET, UTC+1
  EXPECT_EQ(s.window.end_utc, utc(2019, 3, 18, 1, 0));
  ASSERT_EQ(s.events.size(), 1U);
  const auto& ev = s.events[0];
  EXPECT_EQ(ev.name, "match");
  EXPECT_EQ(ev.kind, "match");
  EXPECT_TRUE(ev.area.circle);
  EXPECT_DOUBLE_EQ(ev.area.radius_m, 1000);
  EXPECT_DOUBLE_EQ(ev.crowd, 60000);
  EXPECT_DOUBLE_EQ(ev.effect, 0.5);
  EXPECT_DOUBLE_EQ(ev.effect_sd, 0.25);
  EXPECT_DOUBLE_EQ(ev.elasticity, 0.5);
  EXPECT_DOUBLE_EQ(ev.pre_hours, 2);
  EXPECT_DOUBLE_EQ(ev.post_hours, 2);
  EXPECT_NEAR(ev.multiplier(), 1 + 0.5 * std::sqrt(6.0), 1e-12);
  EXPECT_EQ(ev.when.start_utc, utc(2019, 3, 17, 20, 0));
  EXPECT_TRUE(s.weather.empty());
  EXPECT_TRUE(s.configOverrides().empty());
  EXPECT_FALSE(s.empty());
  ASSERT_EQ(s.assumptions.size(), 1U);
  EXPECT_NE(s.assumptions[0].find("defaults for a match"), std::string::npos) << s.assumptions[0];
  EXPECT_NE(s.assumptions[0].find("2.225"), std::string::npos) << s.assumptions[0];
  // pi * 1 km^2 is about 314 cells of 1 ha.
  EXPECT_NEAR(count(ev.area.cells(grid, whole(grid))), 314, 8);
}

TEST(ScenarioSpec, PradoHeatwaveGivesWeatherOverrides) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  const ScenarioSpec s = ScenarioSpec::read(kShipped / "prado_heatwave_sunday.ini", paris(), grid);
  EXPECT_EQ(s.window.start_utc, utc(2019, 7, 20, 22, 0));  // CEST, UTC+2
  EXPECT_EQ(s.window.end_utc - s.window.start_utc, 86400);
  ASSERT_EQ(s.weather.size(), 2U);
  EXPECT_DOUBLE_EQ(s.weather.at("tmax_c"), 35);
  EXPECT_DOUBLE_EQ(s.weather.at("rain_mm"), 0);
  const auto o = s.configOverrides();
  ASSERT_EQ(o.size(), 1U);
  EXPECT_EQ(o[0].first, "forecast.weather_overrides");
  EXPECT_EQ(o[0].second, "rain_mm=0,tmax_c=35");
  ASSERT_EQ(s.events.size(), 1U);
  EXPECT_EQ(s.events[0].kind, "gathering");
  EXPECT_DOUBLE_EQ(s.events[0].crowd, 30000);
  EXPECT_NEAR(s.events[0].multiplier(), 1 + 0.5 * std::sqrt(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(s.events[0].pre_hours, 1);
}

TEST(ScenarioSpec, VieuxPortGatheringAndBoulevardWorks) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  const ScenarioSpec v = ScenarioSpec::read(kShipped / "vieux_port_gathering.ini", paris(), grid);
  ASSERT_EQ(v.events.size(), 1U);
  EXPECT_DOUBLE_EQ(v.events[0].crowd, 5000);
  EXPECT_NEAR(v.events[0].multiplier(), 1 + 0.5 * std::sqrt(0.5), 1e-12);
  EXPECT_EQ(v.events[0].when.start_utc, utc(2019, 5, 24, 17, 0));

  const ScenarioSpec w = ScenarioSpec::read(kShipped / "boulevard_works.ini", paris(), grid);
  EXPECT_EQ(w.step, "day");
  EXPECT_TRUE(w.events.empty());
  ASSERT_EQ(w.works.size(), 1U);
  const auto& works = w.works[0];
  EXPECT_EQ(works.name, "rabatau");
  EXPECT_FALSE(works.area.circle);
  EXPECT_EQ(works.area.polygon_file, kShipped / "works_rabatau.geojson");
  ASSERT_EQ(works.area.polygons.size(), 1U);
  EXPECT_DOUBLE_EQ(works.effect, 0.15);
  EXPECT_DOUBLE_EQ(works.effect_sd, 0.10);
  EXPECT_NE(works.basis.find("assumption"), std::string::npos);
  ASSERT_EQ(w.assumptions.size(), 1U);
  EXPECT_NE(w.assumptions[0].find(works.basis), std::string::npos);
  // A strip of about 1.5 km by 140 m: some 21 ha, so between 12 and 35 cells of 1 ha.
  const int n = count(works.area.cells(grid, whole(grid)));
  EXPECT_GE(n, 12);
  EXPECT_LE(n, 35);
  EXPECT_EQ(stitched(works.area, grid), works.area.cells(grid, whole(grid)));
}

TEST(ScenarioSpec, EmptyScenarioHasNoEffect) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  const ScenarioSpec s = ScenarioSpec::read(kData / "empty.ini", paris(), grid);
  EXPECT_EQ(s.name, "Empty scenario");
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.events.empty());
  EXPECT_TRUE(s.works.empty());
  EXPECT_TRUE(s.interventions.empty());
  EXPECT_TRUE(s.assumptions.empty());
  EXPECT_TRUE(s.configOverrides().empty());
  EXPECT_EQ(s.window.end_utc - s.window.start_utc, 86400);
}

TEST(ScenarioSpec, ShippedBadFilesAreRefusedNamingFileLineAndKey) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  expectRefused(kData / "bad_end_before_start.ini", grid, "event.match", "end", 13);
  expectRefused(kData / "bad_outside_grid.ini", grid, "event.toulon", "lon", 9);
  expectRefused(kData / "bad_unknown_kind.ini", grid, "event.carnaval", "kind", 8);
  expectRefused(kData / "bad_radius_zero.ini", grid, "intervention.patrols", "radius_m", 10);
  expectRefused(kData / "bad_weather_var.ini", grid, "weather", "humidity", 9);
  expectRefused(kData / "bad_unknown_key.ini", grid, "event.concert", "capacity", 15);
  EXPECT_NE(std::string(refusal(kData / "bad_outside_grid.ini", grid).what()).find("outside the grid"),
            std::string::npos);
  EXPECT_NE(std::string(refusal(kData / "bad_unknown_kind.ini", grid).what()).find("'parade'"),
            std::string::npos);
}

TEST(ScenarioSpec, EveryRuleIsChecked) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  const std::string head =
      "[scenario]\nname = t\nstart = 2019-03-17T00:00\nend = 2019-03-18T00:00\n";  // lines 1-4
  const std::string circle = "lon = 5.374\nlat = 43.2951\nradius_m = 500\n";
  const std::string when = "start = 2019-03-17T19:00\nend = 2019-03-17T23:00\n";
  const std::string effect = "effect = -0.074\neffect_sd = 0.03\nbasis = test\n";
  struct Case {
    std::string name, text, section, key;
    int line;
    ExitCode code = ExitCode::Usage;
  };
  const fs::path strip = kShipped / "works_rabatau.geojson";
  const std::vector<Case> cases = {
      {"scenario_end_equal", "[scenario]\nstart = 2019-03-17T00:00\nend = 2019-03-17T00:00\n", "scenario",
       "end", 3},
      {"scenario_too_long", "[scenario]\nstart = 2019-03-01T00:00\nend = 2019-05-02T03:00\n", "scenario",
       "end", 3},
      {"scenario_step", head + "step = week\n", "scenario", "step", 5},
      {"scenario_missing_start", "[scenario]\nname = x\nend = 2019-03-17T00:00\n", "scenario", "start", 1},
      {"malformed_date", "[scenario]\nstart = 2019-02-30T00:00\nend = 2019-03-17T00:00\n", "scenario",
       "start", 2},
      {"malformed_time", "[scenario]\nstart = 2019-03-16 10:00\nend = 2019-03-17T00:00\n", "scenario",
       "start", 2},
      {"unknown_section", head + "[events.x]\nkind = match\n", "events.x", "", 5},
      {"weather_not_number", head + "[weather]\ntmax_c = hot\n", "weather", "tmax_c", 6},
      {"weather_negative_rain", head + "[weather]\nrain_mm = -1\n", "weather", "rain_mm", 6},
      {"holiday_date", head + "[calendar]\npublic_holidays = 2019-07-14, 14/07/2019\n", "calendar",
       "public_holidays", 6},
      {"event_no_crowd", head + "[event.e]\nkind = concert\n" + circle + when, "event.e", "crowd", 5},
      {"event_negative_crowd", head + "[event.e]\nkind = concert\n" + circle + when + "crowd = -5\n",
       "event.e", "crowd", 12},
      {"event_effect_minus_one",
       head + "[event.e]\nkind = market\n" + circle + when + "crowd = 100\neffect = -1\n", "event.e",
       "effect", 13},
      {"event_negative_sd",
       head + "[event.e]\nkind = market\n" + circle + when + "crowd = 100\neffect_sd = -0.1\n", "event.e",
       "effect_sd", 13},
      {"event_no_location", head + "[event.e]\nkind = market\n" + when + "crowd = 100\n", "event.e", "lon",
       5},
      {"event_both_locations",
       head + "[event.e]\nkind = market\n" + circle + "polygon = " + strip.string() + "\n" + when +
           "crowd = 1\n",
       "event.e", "polygon", 10},
      {"event_missing_lat",
       head + "[event.e]\nkind = market\nlon = 5.374\nradius_m = 300\n" + when + "crowd = 1\n", "event.e",
       "lat", 5},
      {"event_tiny_radius",
       head + "[event.e]\nkind = market\nlon = 5.37405\nlat = 43.29505\nradius_m = 1\n" + when +
           "crowd = 1\n",
       "event.e", "lon", 7},
      {"event_twice_key", head + "[event.e]\nkind = market\nkind = match\n", "event.e", "kind", 7},
      {"works_no_basis", head + "[works.w]\n" + circle + when + "effect = 0.1\neffect_sd = 0.1\n", "works.w",
       "basis", 5},
      {"works_no_effect", head + "[works.w]\n" + circle + when + "effect_sd = 0.1\nbasis = b\n", "works.w",
       "effect", 5},
      {"intervention_effect",
       head + "[intervention.p]\n" + circle + when + "effect = -1.5\neffect_sd = 0\nbasis = b\n",
       "intervention.p", "effect", 11},
      {"polygon_missing_file",
       head + "[works.w]\npolygon = nowhere.geojson\n" + when + "effect = 0.1\neffect_sd = 0\nbasis = b\n",
       "works.w", "polygon", 6, ExitCode::InputData},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path file = writeScenario(c.name + ".ini", c.text);
    const Error e = refusal(file, grid);
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), c.code) << msg;
    EXPECT_NE(msg.find(file.string() + ":" + std::to_string(c.line) + ": "), std::string::npos) << msg;
    const std::string where = "[" + c.section + "]" + (c.key.empty() ? ":" : " " + c.key + ":");
    EXPECT_NE(msg.find(where), std::string::npos) << msg;
  }

  // A polygon entirely outside the grid: a square around Toulon.
  const fs::path toulon = writeScenario(
      "toulon.geojson",
      R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon",)"
      R"("coordinates":[[[5.92,43.12],[5.94,43.12],[5.94,43.13],[5.92,43.13],[5.92,43.12]]]}}]})");
  const fs::path far =
      writeScenario("polygon_outside.ini",
                    head + "[works.w]\npolygon = " + toulon.filename().string() + "\n" + when + effect);
  expectRefused(far, grid, "works.w", "polygon", 6);

  // A full intervention, the calendar and an event with its own parameters are accepted.
  const fs::path good = writeScenario(
      "good.ini", head + "[calendar]\npublic_holidays = 2019-03-18, 2019-03-19\n" +
                      "[intervention.patrols]\n" + circle + when + effect + "[event.m]\nkind = market\n" +
                      circle + when + "crowd = 2500\neffect = 0.1\nelasticity = 1\npre_hours = 0\n");
  const ScenarioSpec s = ScenarioSpec::read(good, paris(), grid);
  ASSERT_EQ(s.interventions.size(), 1U);
  EXPECT_DOUBLE_EQ(s.interventions[0].effect, -0.074);
  EXPECT_EQ(s.interventions[0].basis, "test");
  ASSERT_EQ(s.events.size(), 1U);
  EXPECT_NEAR(s.events[0].multiplier(), 1.025, 1e-12);
  EXPECT_DOUBLE_EQ(s.events[0].effect_sd, 0.1);  // the market default
  EXPECT_DOUBLE_EQ(s.events[0].pre_hours, 0);
  EXPECT_DOUBLE_EQ(s.events[0].post_hours, 1);
  EXPECT_EQ(s.assumptions.size(), 2U);
  const auto o = s.configOverrides();
  ASSERT_EQ(o.size(), 1U);
  EXPECT_EQ(o[0],
            std::make_pair(std::string("forecast.public_holidays"), std::string("2019-03-18,2019-03-19")));
}

TEST(ScenarioSpec, CircleCellsDependOnlyOnTheCellAndStayWithinTheRadius) {
  CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  Area a;
  a.circle = true;
  a.lon = 5.3959;
  a.lat = 43.2698;
  a.radius_m = 730;
  const auto all = a.cells(grid, whole(grid));
  ASSERT_EQ(all.size(), static_cast<std::size_t>(grid.nx()) * grid.ny());
  EXPECT_EQ(stitched(a, grid), all);

  // Independently: the centre with a projection of our own, every cell centre's distance by hand.
  const vigie::geo::Projection proj(4326, 2154);
  const auto [cx, cy] = proj.forward(a.lon, a.lat);
  const GridSpec g = marseilleSpec();
  int inside = 0;
  double farthest = 0;
  for (int j = 0; j < g.ny; ++j) {
    for (int i = 0; i < g.nx; ++i) {
      const double d = std::hypot(g.x0 + (i + 0.5) * g.cell - cx, g.y0 + (j + 0.5) * g.cell - cy);
      const bool in = all[static_cast<std::size_t>(j) * g.nx + i] == 1;
      if (in) farthest = std::max(farthest, d);
      if (std::abs(d - a.radius_m) > 1e-6) {
        EXPECT_EQ(in, d <= a.radius_m) << i << "," << j << " at " << d << " m";
      }
      inside += in;
    }
  }
  EXPECT_LE(farthest, a.radius_m);
  EXPECT_GT(farthest, a.radius_m - g.cell);
  EXPECT_NEAR(inside, M_PI * 7.3 * 7.3, 8);
  // An empty box is empty.
  EXPECT_TRUE(a.cells(grid, Box{3, 4, 0, 5}).empty());
}

TEST(ScenarioSpec, LatticeGridIsRefused) {
  GridSpec s;
  s.nx = 10;
  s.ny = 10;
  CityGrid grid(MPI_COMM_SELF, s);
  expectRefused(kData / "bad_unknown_kind.ini", grid, "event.carnaval", "kind", 8);  // kind is checked first
  expectRefused(kShipped / "velodrome_match.ini", grid, "event.match", "lon", 17);
}
