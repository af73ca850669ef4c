// Covariates written into an observation-store file at 1, 2 and 4 ranks: weather and calendar series against
// independently computed values, static layers identical to a single-box computation (so identical at any
// rank count), in-place rewrites for a grown time axis, and input errors raised on every rank.
#include <gtest/gtest.h>
#include <mpi.h>
#include "../support/MpiTest.hpp"

#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Covariates.hpp"
#include "ingest/Event.hpp"
#include "ingest/TimeBinning.hpp"
#include "store/FieldFile.hpp"

namespace fs = std::filesystem;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::ingest::BinUnit;
using vigie::ingest::Covariates;
using vigie::ingest::CovariateSpec;
using vigie::ingest::HolidayRule;
using vigie::ingest::StaticLayers;
using vigie::ingest::TimeBinning;
using vigie::ingest::TimeZone;
using vigie::store::Box;
using vigie::store::FieldFile;

namespace {

using vigie::testing::commRank;
using vigie::testing::commSize;

const fs::path kMarseille = fs::path(VIGIE_SOURCE_DIR) / "inputs" / "marseille";

fs::path outputDir() {
  static const fs::path dir = [] {
    const fs::path d =
        fs::path(VIGIE_BINARY_DIR) / "test-output" / ("covariates-np" + std::to_string(commSize()));
    if (commRank() == 0) {
      fs::remove_all(d);
      fs::create_directories(d);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return d;
  }();
  return dir;
}

// The Marseille case's grid without its mask (the covariates do not depend on it).
GridSpec marseille() {
  GridSpec s;
  s.epsg = 2154;
  s.x0 = 881100;
  s.y0 = 6232800;
  s.cell = 100;
  s.nx = 246;
  s.ny = 251;
  return s;
}

CovariateSpec marseilleSpec() {
  CovariateSpec spec;
  spec.weather = kMarseille / "weather_marignane_daily_1980_2024.csv";
  spec.holidays = HolidayRule::France;
  spec.school_holidays = kMarseille / "school_holidays_zone_b.csv";
  for (const auto* name : {"beaches", "nightlife", "stadium"}) {
    spec.layers.push_back({name, kMarseille / "layers" / (std::string(name) + ".geojson")});
  }
  spec.layers.push_back({"landmarks", kMarseille / "landmarks.geojson"});
  spec.density_radius_m = 500.0;
  return spec;
}

std::int64_t monthBin(int year, int month) {
  return static_cast<std::int64_t>(year - 1970) * 12 + month - 1;
}

}  // namespace

TEST(Covariates, MonthlyMarseilleStore) {
  const CityGrid grid(MPI_COMM_WORLD, marseille());
  const TimeBinning bins(BinUnit::Month, TimeZone("Europe/Paris"));
  const auto spec = marseilleSpec();
  const fs::path path = outputDir() / "monthly.h5";
  {
    auto file = FieldFile::create(MPI_COMM_WORLD, path, grid.geometry());
    Covariates::write(file, grid, bins, monthBin(2018, 1), 12, spec);
    file.commit();
  }
  const auto file = FieldFile::open(MPI_COMM_WORLD, path);
  // January 2018 from the real file, computed with Python's csv module.
  const auto rain = file.read1d<double>("covariates/weather/rain_mm");
  ASSERT_EQ(rain.size(), 12U);
  EXPECT_NEAR(rain[0], 85.3, 1e-9);
  EXPECT_NEAR(file.read1d<double>("covariates/weather/tmean_c")[0], 10.683870967741937, 1e-9);
  EXPECT_NEAR(file.read1d<double>("covariates/weather/gust_max_ms")[0], 24.7, 1e-12);
  const auto missing = file.read1d<std::uint8_t>("covariates/weather/missing");
  // Months with an empty ORAG or BROU field on some day of 2018 in the real file (found with Python).
  EXPECT_EQ(missing, (std::vector<std::uint8_t>{1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0}));

  const auto ph = file.read1d<std::int32_t>("covariates/calendar/public_holiday");
  EXPECT_EQ(std::accumulate(ph.begin(), ph.end(), 0), 11);
  EXPECT_EQ(ph[4], 4);  // May 2018: 1, 8, 10 (Ascension) and 21 (Whit Monday)
  const auto school = file.read1d<std::int32_t>("covariates/calendar/school_holiday");
  EXPECT_EQ(school[1], 5);   // 24-28 February
  EXPECT_EQ(school[7], 31);  // August
  const auto days = file.read1d<std::int32_t>("covariates/calendar/days");
  EXPECT_EQ(std::accumulate(days.begin(), days.end(), 0), 365);
  EXPECT_FALSE(file.hasField("covariates/calendar/weekday"));  // meaningless for months

  // Static layers: the decomposed write equals one single-box computation of the whole grid, bit for bit.
  const Box all{0, 0, grid.nx(), grid.ny()};
  for (const auto& layer : spec.layers) {
    const auto reference =
        StaticLayers::rasterize(StaticLayers::load(layer, 2154), grid.geometry(), all, 500.0);
    const auto dist = file.read2d<double>("covariates/static/" + layer.name + "_distance_m", all);
    const auto dens = file.read2d<double>("covariates/static/" + layer.name + "_density", all);
    ASSERT_EQ(dist.size(), reference.distance_m.size());
    EXPECT_EQ(dist, reference.distance_m) << layer.name;
    EXPECT_EQ(dens, reference.density) << layer.name;
    EXPECT_EQ(file.objectStringAttribute("covariates/static/" + layer.name + "_density", "source"),
              layer.path.filename().string());
  }
  // The stadium is one point: its density is 1 / (pi 0.5^2) within 500 m and 0 beyond.
  const auto stadium = file.read2d<double>("covariates/static/stadium_density", all);
  const auto stadium_dist = file.read2d<double>("covariates/static/stadium_distance_m", all);
  for (std::size_t k = 0; k < stadium.size(); ++k) {
    ASSERT_EQ(stadium[k], stadium_dist[k] <= 500.0 ? 1.0 / (M_PI * 0.25) : 0.0) << k;
  }
}

TEST(Covariates, RewriteInPlaceForAGrownAxisAndDroppedLayers) {
  const CityGrid grid(MPI_COMM_WORLD, marseille());
  const TimeBinning bins(BinUnit::Month, TimeZone("Europe/Paris"));
  auto spec = marseilleSpec();
  const fs::path path = outputDir() / "append.h5";
  {
    auto file = FieldFile::create(MPI_COMM_WORLD, path, grid.geometry());
    Covariates::write(file, grid, bins, monthBin(2018, 1), 3, spec);
    file.commit();
  }
  spec.layers.resize(1);  // beaches only
  {
    auto file = FieldFile::openReadWrite(MPI_COMM_WORLD, path);
    Covariates::write(file, grid, bins, monthBin(2018, 1), 5, spec);
    file.commit();
  }
  const auto file = FieldFile::open(MPI_COMM_WORLD, path);
  EXPECT_EQ(file.read1d<double>("covariates/weather/rain_mm").size(), 5U);
  EXPECT_EQ(file.read1d<std::int32_t>("covariates/calendar/public_holiday").size(), 5U);
  EXPECT_EQ(file.childNames("covariates/static"),
            (std::vector<std::string>{"beaches_density", "beaches_distance_m"}));
}

TEST(Covariates, HourlyVancouverCalendarWithoutWeather) {
  const CityGrid grid(MPI_COMM_WORLD, marseille());
  const TimeBinning bins(BinUnit::Hour, TimeZone("America/Vancouver"));
  CovariateSpec spec;
  spec.holidays = HolidayRule::BritishColumbia;
  // 2018-07-01T00:00 PDT = 07:00 UTC.
  const std::int64_t b0 = (vigie::ingest::daysFromCivil(2018, 7, 1) * 86400 + 7 * 3600) / 3600;
  const fs::path path = outputDir() / "hourly.h5";
  {
    auto file = FieldFile::create(MPI_COMM_WORLD, path, grid.geometry());
    Covariates::write(file, grid, bins, b0, 48, spec);
    file.commit();
  }
  const auto file = FieldFile::open(MPI_COMM_WORLD, path);
  const auto hour = file.read1d<std::int32_t>("covariates/calendar/hour_of_day");
  const auto weekday = file.read1d<std::int32_t>("covariates/calendar/weekday");
  const auto ph = file.read1d<std::int32_t>("covariates/calendar/public_holiday");
  const auto school_missing = file.read1d<std::uint8_t>("covariates/calendar/school_holiday_missing");
  ASSERT_EQ(hour.size(), 48U);
  for (int k = 0; k < 48; ++k) {
    const auto u = static_cast<std::size_t>(k);
    EXPECT_EQ(hour[u], k % 24);
    EXPECT_EQ(weekday[u], k < 24 ? 6 : 0);  // Sunday 1 July, Monday 2 July
    EXPECT_EQ(ph[u], k < 24 ? 0 : 1);       // Canada Day observed on Monday 2 July
    EXPECT_EQ(school_missing[u], 1);        // no school table for Vancouver
  }
  EXPECT_TRUE(file.childNames("covariates/weather").empty());
  EXPECT_TRUE(file.childNames("covariates/static").empty());
}

TEST(Covariates, InputErrorsAreRaisedOnEveryRank) {
  const CityGrid grid(MPI_COMM_WORLD, marseille());
  const TimeBinning bins(BinUnit::Day, TimeZone("Europe/Paris"));
  auto spec = marseilleSpec();
  spec.weather = kMarseille / "no_such_weather.csv";
  auto file = FieldFile::create(MPI_COMM_WORLD, outputDir() / "error.h5", grid.geometry());
  try {
    Covariates::write(file, grid, bins, vigie::ingest::daysFromCivil(2018, 1, 1), 10, spec);
    ADD_FAILURE() << "no error for a missing weather file";
  } catch (const vigie::core::Error& e) {
    EXPECT_EQ(e.code(), vigie::core::ExitCode::InputData);
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("no_such_weather.csv"), std::string::npos) << e.what();
  }
  spec = marseilleSpec();
  spec.layers = {{"bad", kMarseille / "layers" / "missing.geojson"}};
  try {
    Covariates::write(file, grid, bins, vigie::ingest::daysFromCivil(2018, 1, 1), 10, spec);
    ADD_FAILURE() << "no error for a missing layer file";
  } catch (const vigie::core::Error& e) {
    EXPECT_EQ(e.code(), vigie::core::ExitCode::InputData);
    EXPECT_NE(std::string(e.what()).find("missing.geojson"), std::string::npos) << e.what();
  }
}
