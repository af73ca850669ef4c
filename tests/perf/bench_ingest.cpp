// Ingest throughput: EventReader::read (parse + time + cell + key) on 10 million synthetic rows of projected
// x/y and ISO times in the grid's CRS (no projection), uncompressed and gzip'd. One thread.
// Run: build/tests/perf/bench_ingest [--benchmark_filter=...]; figures go to docs/performance.md.
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/Environment.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/EventReader.hpp"
#include "ingest/SourceProfile.hpp"

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kRows = 10'000'000;

const char* const kTypes[] = {"Other Theft",
                              "Theft from Vehicle",
                              "Mischief",
                              "Offence Against a Person",
                              "Break and Enter Commercial",
                              "Break and Enter Residential/Other",
                              "Theft of Bicycle",
                              "Theft of Vehicle",
                              "Vehicle Collision or Pedestrian Struck (with Injury)",
                              "Vehicle Collision or Pedestrian Struck (with Fatality)",
                              "Homicide"};
const char* const kCategories[] = {"theft",
                                   "theft_from_vehicle",
                                   "mischief",
                                   "person_offence",
                                   "break_enter_commercial",
                                   "break_enter_residential",
                                   "bicycle_theft",
                                   "vehicle_theft",
                                   "collision_injury",
                                   "collision_fatal",
                                   "homicide"};

// The synthetic files, written once per process into a scratch folder beside the binary.
struct Data {
  fs::path dir;
  fs::path plain;
  fs::path gz;
  fs::path profile;
};

const Data& data() {
  static const Data d = [] {
    Data out;
    out.dir = fs::temp_directory_path() / ("vigie_bench_ingest_" + std::to_string(::getpid()));
    fs::create_directories(out.dir);
    out.plain = out.dir / "events.csv";
    out.gz = out.dir / "events.csv.gz";
    out.profile = out.dir / "bench.profile.ini";
    {
      std::ofstream p(out.profile);
      p << "[source]\nname = synthetic\n[time]\nmode = datetime\ncolumn = DATETIME\nformat = %Y-%m-%dT%H:%M\n"
           "precision = minute\nmidnight_unknown = true\n[location]\nmode = xy\nx = X\ny = Y\ncrs = "
           "EPSG:26910\n"
           "withheld_zero = true\n[category]\ncolumn = TYPE\nmap = ";
      for (int k = 0; k < 11; ++k) p << (k ? "; " : "") << kTypes[k] << ":" << kCategories[k];
      p << "\n";
    }
    std::FILE* f = std::fopen(out.plain.c_str(), "wb");
    gzFile g = gzopen(out.gz.c_str(), "wb1");
    std::string block;
    const auto put = [&](bool last) {
      if (block.size() < (std::size_t{4} << 20) && !last) return;
      std::fwrite(block.data(), 1, block.size(), f);
      gzwrite(g, block.data(), static_cast<unsigned>(block.size()));
      block.clear();
    };
    block = "TYPE,X,Y,DATETIME\n";
    std::uint64_t s = 0x9E3779B97F4A7C15ULL;
    const auto next = [&s] {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      return s;
    };
    char line[160];
    for (std::int64_t r = 0; r < kRows; ++r) {
      const auto a = next();
      const auto b = next();
      const int year = 2018 + static_cast<int>(a % 6);
      const int month = 1 + static_cast<int>((a >> 8) % 12);
      const int day = 1 + static_cast<int>((a >> 16) % 28);
      const int hour = static_cast<int>((a >> 24) % 24);
      const int minute = static_cast<int>((a >> 32) % 60);
      const double x = 490000.0 + static_cast<double>(b % 1000000) / 100.0;           // 10 km
      const double y = 5450000.0 + static_cast<double>((b >> 20) % 1000000) / 100.0;  // 10 km
      const int n = std::snprintf(line, sizeof line, "%s,%.2f,%.2f,%04d-%02d-%02dT%02d:%02d\n",
                                  kTypes[(a >> 40) % 11], x, y, year, month, day, hour, minute);
      block.append(line, static_cast<std::size_t>(n));
      put(false);
    }
    put(true);
    std::fclose(f);
    gzclose(g);
    return out;
  }();
  return d;
}

void readFile(benchmark::State& state, bool gzip) {
  const auto& d = data();
  vigie::grid::GridSpec spec;
  spec.epsg = 26910;
  spec.x0 = 490000;
  spec.y0 = 5450000;
  spec.cell = 100;
  spec.nx = 100;
  spec.ny = 100;
  const vigie::grid::CityGrid grid(MPI_COMM_SELF, spec);
  const vigie::ingest::EventReader reader(
      vigie::ingest::SourceProfile::load(d.profile),
      std::vector<std::string>(std::begin(kCategories), std::end(kCategories)), grid);
  std::int64_t rows = 0;
  for (auto _ : state) {
    const auto r = reader.read(gzip ? d.gz : d.plain);
    rows += r.stats.rows_read;
    if (r.stats.accepted != kRows) state.SkipWithError("not every synthetic row was accepted");
    benchmark::DoNotOptimize(r.events.data());
  }
  state.SetItemsProcessed(rows);
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["MB"] = static_cast<double>(fs::file_size(gzip ? d.gz : d.plain)) / 1e6;
}

void BM_ReadPlain(benchmark::State& state) {
  readFile(state, false);
}
void BM_ReadGzip(benchmark::State& state) {
  readFile(state, true);
}
BENCHMARK(BM_ReadPlain)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadGzip)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  vigie::core::Environment env(argc, argv, {});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  fs::remove_all(fs::temp_directory_path() / ("vigie_bench_ingest_" + std::to_string(::getpid())), ec);
  return 0;
}
