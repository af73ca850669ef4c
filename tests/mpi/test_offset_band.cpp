// The grid-offset sensitivity band at 1, 2 and 4 ranks on a small case ingested from CSV: a hotspot that
// fills exactly one cell of the unshifted grid is split over two and four cells when the grid slides by half
// a cell, so the history baseline's PAI@5% (one cell of twenty) must drop, which fails if the shift were
// ignored; events west of x = 50 fall outside both shifted grids and the band reports fewer events scored.
// The band equals a run on MPI_COMM_SELF exactly, a rerun reuses the shifted stores, a folder left by another
// offset list is rebuilt, and malformed backtest.grid_offsets items are usage errors naming the key.
#include <gtest/gtest.h>
#include <mpi.h>
#include "../support/MpiTest.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Provenance.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/IngestPipeline.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"
#include "verify/Backtest.hpp"
#include "verify/OffsetBand.hpp"

namespace fs = std::filesystem;
using vigie::core::Config;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::grid::CityGrid;
using vigie::verify::Backtest;
using vigie::verify::BacktestSettings;
using vigie::verify::ObservedSeries;
using vigie::verify::OffsetBand;

namespace {

using vigie::testing::commRank;
using vigie::testing::commSize;

// The Config keeps a pointer to its option set, so the set lives as long as the test program.
const vigie::core::OptionSet& options() {
  static const vigie::core::OptionSet set = [] {
    vigie::core::OptionSet o;
    o.add("output.dir", vigie::core::OptionType::Path, "out", "output folder");
    o.add("run.seed", vigie::core::OptionType::UInt, "5", "seed");
    CityGrid::declareOptions(o);
    vigie::ingest::IngestPipeline::declareOptions(o);
    vigie::models::ModelRegistry::instance().declareOptions(o);
    Backtest::declareOptions(o);
    OffsetBand::declareOptions(o);
    return o;
  }();
  return set;
}

// 1200 events over Jan-Mar 2019 on a 5 x 4 lattice of 100 m cells with its corner at (0, 0): 40% in the
// square [200, 300)^2 (cell (2, 2) exactly), 30 at x in [5, 45) (outside a grid shifted east by 50), the rest
// in [60, 440) x [60, 340) (inside every grid of the test).
std::string eventsCsv() {
  std::uint64_t s = 11;
  const auto next = [&s]() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  };
  const auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() % 100000) / 100000.0;
  };
  std::ostringstream csv;
  csv << "TYPE,X,Y,DATETIME\n" << std::fixed << std::setprecision(2);
  for (int k = 0; k < 1200; ++k) {
    const int day = static_cast<int>(next() % 90);  // 0..89: Jan 1 .. Mar 31
    const int month = day < 31 ? 1 : day < 59 ? 2 : 3;
    const int dom = day < 31 ? day + 1 : day < 59 ? day - 30 : day - 58;
    double x = 0.0;
    double y = 0.0;
    if (k % 5 < 2) {
      x = uniform(200.0, 300.0);
      y = uniform(200.0, 300.0);
    } else if (k % 40 == 2) {
      x = uniform(5.0, 45.0);
      y = uniform(60.0, 340.0);
    } else {
      x = uniform(60.0, 440.0);
      y = uniform(60.0, 340.0);
    }
    csv << (next() % 3 == 0 ? "Assault" : "Theft") << "," << x << "," << y << ",2019-" << std::setw(2)
        << std::setfill('0') << month << "-" << std::setw(2) << dom << "T" << std::setw(2) << next() % 24
        << ":" << std::setw(2) << next() % 60 << std::setfill(' ') << "\n";
  }
  return csv.str();
}

void writeFile(const fs::path& p, const std::string& text) {
  std::ofstream os(p);
  os << text;
}

// The case folder (events, profile, config.ini), written by rank 0.
fs::path makeCase(const std::string& name) {
  const fs::path dir = fs::path(VIGIE_BINARY_DIR) / "test-output" /
                       ("offset-band-" + name + "-np" + std::to_string(commSize()));
  if (commRank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    writeFile(dir / "events.csv", eventsCsv());
    writeFile(dir / "test.profile.ini",
              "[source]\nname = offset band test\n[csv]\ndelimiter = ,\nheader = true\n"
              "[time]\nmode = datetime\ncolumn = DATETIME\nformat = %Y-%m-%dT%H:%M\nprecision = minute\n"
              "[location]\nmode = xy\nx = X\ny = Y\ncrs = EPSG:26910\n"
              "[category]\ncolumn = TYPE\nmap = Theft:theft; Assault:assault\n");
    writeFile(dir / "config.ini",
              "[output]\ndir = out\n[run]\nseed = 5\n"
              "[grid]\ncrs = none\nx0 = 0\ny0 = 0\ncell_m = 100\nnx = 5\nny = 4\n"
              "[ingest]\nevents = events.csv\nprofile = test.profile.ini\ncategories = theft, assault\n"
              "bin = day\ntimezone = UTC\ncoverage = 2019-01-01/2019-03-31\n"
              "[backtest]\nstart = 2019-02-04\nend = 2019-03-25\nhorizon_bins = 7\n"
              "bootstrap_replicates = 99\nper_category = false\ngrid_offsets = 0.5:0, 0.5:0.5\n");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return dir;
}

vigie::core::Provenance provenance(const Config& config) {
  vigie::core::Provenance p;
  p.version = "test";
  p.git_hash = "test";
  p.config_text = config.effectiveText();
  return p;
}

// The unshifted backtest (ingest into `out`, then Backtest::run) and its band, on `comm`.
struct Result {
  nlohmann::json base;
  nlohmann::json band;
};

Result backtestWithBand(MPI_Comm comm, const Config& config, const fs::path& out) {
  const auto settings = BacktestSettings::fromConfig(config, "offsets");
  const auto spec = CityGrid::specFromConfig(config);
  const auto prov = provenance(config);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) fs::create_directories(out);
  MPI_Barrier(comm);
  {
    CityGrid grid(comm, spec);
    (void)vigie::ingest::IngestPipeline::run(config, grid, out, false, prov);
  }
  const auto series = ObservedSeries::read(comm, out / "obs.h5", settings.categories);
  Result r;
  r.base = Backtest::run(comm, spec, config, settings, series);
  r.band = OffsetBand::run(comm, config, settings, out, prov, r.base);
  return r;
}

// Rank 0's text on every rank.
std::string fromRoot(std::string text) {
  auto n = static_cast<long long>(text.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  text.resize(static_cast<std::size_t>(n));
  MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return text;
}

void expectFinite(const nlohmann::json& j) {
  if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>()));
  }
  if (j.is_structured()) {
    for (const auto& v : j) expectFinite(v);
  }
}

}  // namespace

TEST(OffsetBand, ShiftedGridsMoveScoresTheSameAtAnyRankCount) {
  const auto dir = makeCase("run");
  const auto config = Config::parse(options(), dir / "config.ini", {});
  const auto settings = BacktestSettings::fromConfig(config, "offsets");
  const auto out = dir / "out";
  const auto r = backtestWithBand(MPI_COMM_WORLD, config, out);
  const auto& band = r.band;
  ASSERT_TRUE(band.is_object());
  ASSERT_TRUE(band["available"].get<bool>());

  // Every shifted grid has its own store, journal and rejects.
  for (const char* k : {"1", "2"}) {
    for (const char* f : {"obs.h5", "obs.journal", "rejects.csv"})
      EXPECT_TRUE(fs::is_regular_file(out / "offsets" / k / f)) << k << "/" << f;
  }
  EXPECT_FALSE(fs::exists(out / "offsets" / "3"));
  // ... made for the shifted grid: corner moved by half a 100 m cell.
  const auto g = vigie::store::FieldFile::open(MPI_COMM_WORLD, out / "offsets" / "2" / "obs.h5").geometry();
  EXPECT_EQ(g.x0, 50.0);
  EXPECT_EQ(g.y0, 50.0);
  EXPECT_EQ(g.nx, 5);

  EXPECT_EQ(band["offsets"].dump(), "[[0.0,0.0],[0.5,0.0],[0.5,0.5]]");
  EXPECT_EQ(band["cell_m"].get<double>(), 100.0);
  ASSERT_EQ(band["best_baseline"].size(), 3U);
  EXPECT_EQ(band["best_baseline"][0], r.base["best_baseline"]);
  ASSERT_EQ(band["windows"].size(), 3U);
  for (const auto& w : band["windows"]) EXPECT_EQ(w, r.base["windows"]);
  EXPECT_EQ(r.base["windows"].get<int>(), 8);

  // Events west of x = 50 are outside both shifted grids, the same events for both.
  const auto events = band["events"].get<std::vector<std::int64_t>>();
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0], r.base["models"]["history"]["events"].get<std::int64_t>());
  EXPECT_LT(events[1], events[0]);
  EXPECT_EQ(events[1], events[2]);
  EXPECT_GT(events[1], 0);

  ASSERT_EQ(band["models"].size(), settings.models.size());
  for (const auto& name : settings.models) {
    ASSERT_TRUE(band["models"].contains(name)) << name;
    const auto& m = band["models"][name];
    for (const char* key : {"pai5", "log_likelihood_per_event", "pai5_ratio"}) {
      const auto& b = m[key];
      const auto values = b["values"].get<std::vector<double>>();
      ASSERT_EQ(values.size(), 3U) << name << " " << key;
      const double lo = b["min"].get<double>();
      const double hi = b["max"].get<double>();
      for (const double v : values) {
        EXPECT_LE(lo, v) << name << " " << key;
        EXPECT_LE(v, hi) << name << " " << key;
      }
      EXPECT_EQ(b["spread"].get<double>(), hi - lo) << name << " " << key;
    }
    // The unshifted entry is the base document's own numbers.
    EXPECT_EQ(m["pai5"]["values"][0], r.base["models"][name]["pai"]["5"]) << name;
    EXPECT_EQ(m["log_likelihood_per_event"]["values"][0], r.base["models"][name]["log_likelihood_per_event"])
        << name;
    EXPECT_EQ(m["pai5_ratio"]["values"][0], r.base["skill"][name]["pai5_ratio"]) << name;
  }
  // The hotspot fills one cell of the unshifted grid (5% of 20 cells = 1 cell) and is split in two and in
  // four by the shifts, so the history baseline's top cell catches fewer of its events.
  const auto history = band["models"]["history"]["pai5"]["values"].get<std::vector<double>>();
  EXPECT_GT(history[0], history[1]);
  EXPECT_GT(history[1], history[2]);
  EXPECT_GT(band["models"]["history"]["pai5"]["spread"].get<double>(), 0.0);
  expectFinite(band);

  const auto md = OffsetBand::markdown(band);
  EXPECT_NE(md.find("## Grid-offset sensitivity"), std::string::npos);
  EXPECT_NE(md.find("| history |"), std::string::npos);
  EXPECT_NE(md.find("not robust to where the cell boundaries fall"), std::string::npos);

  // The same band from one rank on its own (rank 0, in its own folder).
  std::string serial;
  if (commRank() == 0) {
    serial = backtestWithBand(MPI_COMM_SELF, config, dir / "self").band.dump();
  }
  EXPECT_EQ(band.dump(), fromRoot(serial));

  // A rerun finds the shifted stores up to date and reuses them.
  const auto stamp = fs::last_write_time(out / "offsets" / "1" / "obs.h5");
  MPI_Barrier(MPI_COMM_WORLD);
  const auto again = OffsetBand::run(MPI_COMM_WORLD, config, settings, out, provenance(config), r.base);
  EXPECT_EQ(again.dump(), band.dump());
  EXPECT_EQ(fs::last_write_time(out / "offsets" / "1" / "obs.h5"), stamp);

  // Another offset list: folder 1 held the 0.5:0 grid and is rebuilt for 0.5:0.5.
  const auto other = config.withOverrides({{"backtest.grid_offsets", "0.5:0.5"}});
  const auto rebuilt = OffsetBand::run(MPI_COMM_WORLD, other, settings, out, provenance(other), r.base);
  ASSERT_EQ(rebuilt["offsets"].size(), 2U);
  for (const auto& name : settings.models) {
    EXPECT_EQ(rebuilt["models"][name]["pai5"]["values"][1], band["models"][name]["pai5"]["values"][2])
        << name;
    EXPECT_EQ(rebuilt["models"][name]["log_likelihood_per_event"]["values"][1],
              band["models"][name]["log_likelihood_per_event"]["values"][2])
        << name;
  }
  const auto g1 = vigie::store::FieldFile::open(MPI_COMM_WORLD, out / "offsets" / "1" / "obs.h5").geometry();
  EXPECT_EQ(g1.y0, 50.0);
}

TEST(OffsetBand, OffsetListIsCheckedAndEmptyMeansNoBand) {
  const auto parse = [](const std::string& value) {
    return Config::parse(options(), {}, {{"backtest.grid_offsets", value}});
  };
  const auto defaults = OffsetBand::fromConfig(Config::parse(options(), {}, {}));
  ASSERT_EQ(defaults.size(), 3U);
  EXPECT_EQ(defaults[0].fx, 0.5);
  EXPECT_EQ(defaults[0].fy, 0.0);
  EXPECT_EQ(defaults[2].fy, 0.5);
  const auto ok = OffsetBand::fromConfig(parse("0.25:0.75, 0 : 0.125"));
  ASSERT_EQ(ok.size(), 2U);
  EXPECT_EQ(ok[0].fx, 0.25);
  EXPECT_EQ(ok[0].fy, 0.75);
  EXPECT_EQ(ok[1].fx, 0.0);
  EXPECT_EQ(ok[1].fy, 0.125);

  for (const std::string bad : {"0.5", "a:0", "1:0", "0:1", "-0.1:0", "0.5:0:1", "0.5:", ":0.5", "nan:0",
                                "0.5x:0", "0:0", "0.5:0, 0.5:0"}) {
    try {
      (void)OffsetBand::fromConfig(parse(bad));
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage) << bad;
      EXPECT_NE(std::string(e.what()).find("backtest.grid_offsets"), std::string::npos) << e.what();
    }
  }

  // An empty list: no band, no section, nothing ingested.
  const auto none = parse("");
  EXPECT_TRUE(OffsetBand::fromConfig(none).empty());
  const auto settings = BacktestSettings::fromConfig(none, "none");
  const fs::path out =
      fs::path(VIGIE_BINARY_DIR) / "test-output" / ("offset-band-none-np" + std::to_string(commSize()));
  const auto band = OffsetBand::run(MPI_COMM_WORLD, none, settings, out, provenance(none), nlohmann::json());
  EXPECT_TRUE(band.is_null());
  EXPECT_TRUE(OffsetBand::markdown(band).empty());
  EXPECT_FALSE(fs::exists(out));

  // Offsets but no events to place on a shifted grid: an explained absence, not a failure.
  const auto no_events = parse("0.5:0");
  const auto skipped =
      OffsetBand::run(MPI_COMM_WORLD, no_events, settings, out, provenance(no_events), nlohmann::json());
  EXPECT_FALSE(skipped["available"].get<bool>());
  EXPECT_NE(OffsetBand::markdown(skipped).find("Not computed"), std::string::npos);
}
