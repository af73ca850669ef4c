#include "watch/Watch.hpp"

#include <mpi.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "assim/EnsembleFilter.hpp"
#include "core/Collective.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Interrupt.hpp"
#include "core/Log.hpp"
#include "core/Provenance.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "core/Timer.hpp"
#include "forecast/FutureConditions.hpp"
#include "forecast/Predictor.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/IngestPipeline.hpp"
#include "ingest/SourceProfile.hpp"
#include "ingest/TimeBinning.hpp"
#include "models/baselines/BaselineSupport.hpp"
#include "store/FieldFile.hpp"
#include "verify/Backtest.hpp"
#include "verify/SpaceTimeScan.hpp"
#include "watch/LineStream.hpp"
#include "watch/WatchAlerts.hpp"

namespace vigie::watch {

using core::Error;
using core::ExitCode;

namespace {

constexpr const char* kStateSchema = "vigie.watch_state/1";
/// Smallest rate (events per cell per day) a log-intensity is taken of: cells the model gives nothing.
constexpr double kFloorRate = 1e-6;
/// Largest |log correction| the filter may hold: a factor of e^4 ~ 55 either way.
constexpr double kBiasClamp = 4.0;

struct Settings {
  std::string stream;
  bool follow = false;
  double idle_exit_s = 0.0;
  int cycle_bins = 1;
  std::string start;
  int batch_lines = 20000;
  double batch_seconds = 1.0;
  std::vector<std::string> header;
  int members = 16;
  double localisation_m = 500.0;
  double inflation = 1.1;
  double bias_sd = 0.3;
  double bias_decay = 0.9;
  double bias_noise_sd = 0.1;
  double scan_radius_m = 500.0;
  int scan_window = 3;
  int scan_replicates = 999;
  int scan_stride = 1;
  int scan_secondary = 3;
  double alert_recurrence_days = 365.0;
  int dedup_cycles = 1;
  std::int64_t min_observed = 3;
  double rate_floor_share = 0.05;

  static Settings fromConfig(const core::Config& c) {
    Settings s;
    s.stream = c.getString("watch.stream");
    s.follow = c.getBool("watch.follow");
    s.idle_exit_s = c.getDouble("watch.idle_exit_s");
    s.cycle_bins = static_cast<int>(c.getInt("watch.cycle_bins"));
    s.start = c.getString("watch.start");
    s.batch_lines = static_cast<int>(c.getInt("watch.batch_lines"));
    s.batch_seconds = c.getDouble("watch.batch_seconds");
    s.header = c.getList("watch.header");
    s.members = static_cast<int>(c.getInt("watch.members"));
    s.localisation_m = c.getDouble("watch.localisation_m");
    s.inflation = c.getDouble("watch.inflation");
    s.bias_sd = c.getDouble("watch.bias_sd");
    s.bias_decay = c.getDouble("watch.bias_decay");
    s.bias_noise_sd = c.getDouble("watch.bias_noise_sd");
    s.scan_radius_m = c.getDouble("watch.scan_radius_m");
    s.scan_window = static_cast<int>(c.getInt("watch.scan_window"));
    s.scan_replicates = static_cast<int>(c.getInt("watch.scan_replicates"));
    s.scan_stride = static_cast<int>(c.getInt("watch.scan_stride"));
    s.scan_secondary = static_cast<int>(c.getInt("watch.scan_secondary"));
    s.alert_recurrence_days = c.getDouble("watch.alert_recurrence_days");
    s.dedup_cycles = static_cast<int>(c.getInt("watch.dedup_cycles"));
    s.rate_floor_share = c.getDouble("watch.rate_floor_share");
    if (!(s.rate_floor_share >= 0.0))
      throw Error(ExitCode::Usage, "watch.rate_floor_share must be >= 0", true);
    s.min_observed = std::max<std::int64_t>(c.getInt("watch.min_observed"), c.getInt("privacy.min_count"));
    const auto bad = [](const std::string& key, const std::string& why) {
      return Error(ExitCode::Usage, key + " " + why, true);
    };
    if (s.cycle_bins < 1 || s.cycle_bins > 1000) throw bad("watch.cycle_bins", "must be 1 to 1000");
    if (s.batch_lines < 1) throw bad("watch.batch_lines", "must be at least 1");
    if (!(s.batch_seconds > 0.0)) throw bad("watch.batch_seconds", "must be > 0");
    if (!(s.idle_exit_s >= 0.0)) throw bad("watch.idle_exit_s", "must be >= 0");
    if (s.members < 2 || s.members > 256) throw bad("watch.members", "must be 2 to 256");
    if (!(s.localisation_m > 0.0)) throw bad("watch.localisation_m", "must be > 0");
    if (!(s.inflation >= 1.0)) throw bad("watch.inflation", "must be >= 1");
    if (!(s.bias_sd >= 0.0) || !(s.bias_noise_sd >= 0.0))
      throw bad("watch.bias_sd/bias_noise_sd", "must be >= 0");
    if (!(s.bias_decay >= 0.0 && s.bias_decay <= 1.0)) throw bad("watch.bias_decay", "must be in [0, 1]");
    if (!(s.scan_radius_m >= 0.0)) throw bad("watch.scan_radius_m", "must be >= 0");
    if (s.scan_window < 1 || s.scan_window > 8) throw bad("watch.scan_window", "must be 1 to 8 cycles");
    if (s.scan_replicates < 0) throw bad("watch.scan_replicates", "must be >= 0");
    if (s.scan_stride < 1) throw bad("watch.scan_stride", "must be >= 1");
    if (s.scan_secondary < 0) throw bad("watch.scan_secondary", "must be >= 0");
    if (!(s.alert_recurrence_days > 0.0)) throw bad("watch.alert_recurrence_days", "must be > 0");
    if (s.dedup_cycles < 0) throw bad("watch.dedup_cycles", "must be >= 0");
    return s;
  }
};

/// What the watcher needs to know of the store.
struct StoreInfo {
  std::int64_t first_bin = 0;
  std::int64_t nt = 0;
  std::string bin;
  std::string zone;
  std::string fingerprint;
  std::vector<std::string> categories;  ///< summed into the counts the watcher sees
};

StoreInfo readStoreInfo(MPI_Comm comm, const std::filesystem::path& obs,
                        const std::vector<std::string>& wanted) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(obs, ec))
    throw Error(ExitCode::InputData,
                obs.string() +
                    ": no observation store (vigie watch needs the history: run "
                    "vigie ingest first, or set ingest.events)",
                true);
  const auto file = store::FieldFile::open(comm, obs);
  StoreInfo s;
  s.first_bin = file.intAttribute("first_bin");
  s.nt = file.shape("/time/bin_start").at(0);
  s.bin = file.stringAttribute("bin");
  s.zone = file.stringAttribute("timezone");
  s.fingerprint = file.stringAttribute("fingerprint");
  std::stringstream all(file.stringAttribute("categories"));
  std::vector<std::string> stored;
  for (std::string c; std::getline(all, c, ',');)
    if (!c.empty()) stored.push_back(c);
  s.categories = wanted.empty() ? stored : wanted;
  for (const auto& c : s.categories) {
    if (std::find(stored.begin(), stored.end(), c) == stored.end())
      throw Error(ExitCode::Usage, "backtest.categories: the store " + obs.string() + " has no category " + c,
                  true);
  }
  return s;
}

/// A field of smooth noise over the owned cells: independent N(0, 1) values on a lattice of nodes every
/// `spacing` cells, keyed by (seed, node, step), interpolated bilinearly and scaled back to unit variance. A
/// cell's value depends on its global position only, so it is the same at any rank count.
void smoothNoise(const grid::CityGrid& grid, int spacing, std::uint64_t seed, std::uint32_t step,
                 std::span<double> out) {
  const auto& box = grid.ownedBox();
  const int ni = grid.nx() / spacing + 2;
  const int j_lo = std::max(0, box.j0 / spacing - 1);
  const int j_hi = (box.j0 + box.nj) / spacing + 1;
  const int i_lo = std::max(0, box.i0 / spacing - 1);
  const int i_hi = (box.i0 + box.ni) / spacing + 1;
  const int wi = i_hi - i_lo + 1;
  std::vector<double> node(static_cast<std::size_t>(wi) * static_cast<std::size_t>(j_hi - j_lo + 1));
  for (int J = j_lo; J <= j_hi; ++J) {
    for (int I = i_lo; I <= i_hi; ++I) {
      core::RandomStream rs(seed, static_cast<std::uint64_t>(J) * static_cast<std::uint64_t>(ni) + I, step);
      node[static_cast<std::size_t>(J - j_lo) * wi + (I - i_lo)] = rs.normal();
    }
  }
  for (int j = 0; j < box.nj; ++j) {
    const double fy = (box.j0 + j + 0.5) / spacing - 0.5;
    const int J = std::max(0, static_cast<int>(std::floor(fy)));
    const double wy = std::clamp(fy - J, 0.0, 1.0);
    for (int i = 0; i < box.ni; ++i) {
      const double fx = (box.i0 + i + 0.5) / spacing - 0.5;
      const int I = std::max(0, static_cast<int>(std::floor(fx)));
      const double wx = std::clamp(fx - I, 0.0, 1.0);
      const auto at = [&](int II, int JJ) {
        return node[static_cast<std::size_t>(std::min(JJ, j_hi) - j_lo) * wi + (std::min(II, i_hi) - i_lo)];
      };
      const double v = (1 - wx) * (1 - wy) * at(I, J) + wx * (1 - wy) * at(I + 1, J) +
                       (1 - wx) * wy * at(I, J + 1) + wx * wy * at(I + 1, J + 1);
      const double sd = std::sqrt(((1 - wx) * (1 - wx) + wx * wx) * ((1 - wy) * (1 - wy) + wy * wy));
      out[static_cast<std::size_t>(j) * box.ni + i] = v / sd;
    }
  }
}

/// Splitmix64 of a seed and a word: the seed of one cycle's scan replicates.
std::uint64_t mix(std::uint64_t seed, std::uint64_t word) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (word + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Broadcasts an error decided on rank 0 (empty text: none) and throws it on every rank.
void rethrowFromRoot(MPI_Comm comm, std::string text, int code) {
  int meta[2] = {static_cast<int>(text.size()), code};
  VIGIE_CHECK_MPI(MPI_Bcast(meta, 2, MPI_INT, 0, comm));
  if (meta[0] == 0) return;
  text.resize(static_cast<std::size_t>(meta[0]));
  VIGIE_CHECK_MPI(MPI_Bcast(text.data(), meta[0], MPI_CHAR, 0, comm));
  throw Error(static_cast<ExitCode>(meta[1]), text, true);
}

/// The highest line of `source` already in rejects.csv (0 when none).
std::int64_t lastRejectLine(const std::filesystem::path& csv, const std::string& source) {
  std::ifstream is(csv);
  std::int64_t last = 0;
  for (std::string line; std::getline(is, line);) {
    const auto c2 = line.rfind(',');
    if (c2 == std::string::npos || c2 == 0) continue;
    const auto c1 = line.rfind(',', c2 - 1);
    if (c1 == std::string::npos || line.substr(0, c1) != source) continue;
    try {
      last = std::max<std::int64_t>(last, std::stoll(line.substr(c1 + 1, c2 - c1 - 1)));
    } catch (const std::logic_error&) {
    }
  }
  return last;
}

/// Rank 0's side of the stream: the header, the rows' identities in the stream, the chunk file.
class StreamSide {
 public:
  StreamSide(const Settings& s, const ingest::SourceProfile& profile, std::filesystem::path chunk)
      : m_stream(s.stream, s.follow, s.idle_exit_s), m_profile(profile), m_chunk_path(std::move(chunk)) {
    for (const auto& h : s.header)
      m_header += (m_header.empty() ? "" : std::string(1, profile.delimiter)) + h;
  }

  LineStream& stream() { return m_stream; }

  /// Whether a line cannot be a row whatever its fields: a quote left open (a stream carries one record per
  /// line), a control byte, or over 1 MiB.
  [[nodiscard]] bool malformed(const std::string& line) const {
    if (line.size() > (1U << 20)) return true;
    std::size_t quotes = 0;
    for (const char ch : line) {
      const auto u = static_cast<unsigned char>(ch);
      if (u < 0x20 && ch != '\t') return true;
      if (ch == m_profile.quote) ++quotes;
    }
    return quotes % 2 != 0;
  }

  /// Whether `line` is a header: one of its fields is the profile's x column.
  [[nodiscard]] bool isHeader(const std::string& line) const {
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, m_profile.delimiter);) {
      while (!f.empty() && (f.back() == ' ' || f.back() == m_profile.quote)) f.pop_back();
      std::size_t k = 0;
      while (k < f.size() && (f[k] == ' ' || f[k] == m_profile.quote)) ++k;
      if (f.substr(k) == m_profile.x_column) return true;
    }
    return false;
  }

  /// Writes the rows of `lines` (header lines skipped) as the chunk file and fills `chunk`; returns the
  /// rows written.
  std::size_t prepare(const std::vector<StreamLine>& lines, ingest::StreamChunk& chunk) {
    chunk.stream_line.clear();
    chunk.key_hi.clear();
    chunk.key_lo.clear();
    chunk.occurrence.clear();
    chunk.malformed_lines.clear();
    chunk.source = m_stream.name();
    std::string text;
    for (const auto& l : lines) {
      if (!m_header_seen) {
        m_header_seen = true;
        if (isHeader(l.text)) {
          m_header = l.text;
          continue;
        }
        if (m_header.empty())
          throw Error(ExitCode::InputData, m_stream.name() + ":" + std::to_string(l.line) +
                                               ": the stream does not start with a header line (no column " +
                                               m_profile.x_column + ") and watch.header is not set");
      }
      if (l.text == m_header) continue;  // a header sent again (a replay started over)
      if (malformed(l.text)) {
        chunk.malformed_lines.push_back(l.line);
        continue;
      }
      const XXH128_hash_t h = XXH3_128bits(l.text.data(), l.text.size());
      auto& seen = m_occurrences[{h.high64, h.low64}];
      const XXH128_hash_t k = seen == 0 ? h : XXH3_128bits_withSeed(l.text.data(), l.text.size(), seen);
      chunk.stream_line.push_back(l.line);
      chunk.key_hi.push_back(k.high64);
      chunk.key_lo.push_back(k.low64);
      chunk.occurrence.push_back(seen);
      ++seen;
      text += l.text;
      text += '\n';
    }
    if (chunk.stream_line.empty() && chunk.malformed_lines.empty()) return 0;
    std::ofstream os(m_chunk_path, std::ios::binary | std::ios::trunc);
    os << m_header << '\n' << text;
    os.close();
    if (!os) throw Error(ExitCode::Io, m_chunk_path.string() + ": cannot write the stream chunk");
    return chunk.stream_line.size() + chunk.malformed_lines.size();
  }

 private:
  struct PairHash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& k) const noexcept {
      return static_cast<std::size_t>(k.first ^ (k.second * 0x9E3779B97F4A7C15ULL));
    }
  };
  LineStream m_stream;
  const ingest::SourceProfile& m_profile;
  std::filesystem::path m_chunk_path;
  std::string m_header;
  bool m_header_seen = false;
  std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t, PairHash> m_occurrences;
};

/// Summary statistics of the cycle latencies.
nlohmann::json latencyStats(std::vector<double> v) {
  if (v.empty()) return {{"cycles", 0}};
  std::sort(v.begin(), v.end());
  const auto q = [&](double p) {
    return v[static_cast<std::size_t>(std::min<double>(v.size() - 1, p * v.size()))];
  };
  return {{"cycles", v.size()},
          {"mean_s", std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size())},
          {"p50_s", q(0.5)},
          {"p95_s", q(0.95)},
          {"max_s", v.back()}};
}

double seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

}  // namespace

void Watch::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("watch.stream", OptionType::String, "",
           "where new event rows come from: - (standard input), a FIFO or a file (also --stream PATH)")
      .add("watch.follow", OptionType::Bool, "false",
           "for a regular file: at its end, wait for it to grow (tail -f) instead of ending the stream")
      .add("watch.idle_exit_s", OptionType::Double, "0",
           "with watch.follow: end the stream after this many seconds without new data (0 = only on a stop "
           "signal)")
      .add("watch.header", OptionType::List, "",
           "column names of a stream without a header line (empty: the stream must start with one)")
      .add("watch.cycle_bins", OptionType::Int, "1",
           "store bins per cycle: the data-time step of assimilation, forecast refresh and scan (1 day for "
           "daily bins)")
      .add("watch.start", OptionType::String, "",
           "ISO date of the first cycle (the start of a bin); empty = the end of the store when watching "
           "begins. Models are fitted on the bins before it")
      .add("watch.batch_lines", OptionType::Int, "20000",
           "at most this many stream lines per journaled append")
      .add("watch.batch_seconds", OptionType::Double, "1",
           "append what has arrived at least this often (seconds of wall time)")
      .add("watch.members", OptionType::Int, "16",
           "ensemble members of the assimilation (member 0: the fitted parameters; others draw them)")
      .add("watch.localisation_m", OptionType::Double, "500",
           "LETKF localisation radius (m, lattice units on a lattice): the Gaspari-Cohn taper reaches 0 "
           "there; "
           "also the scale of the correction's perturbations")
      .add("watch.inflation", OptionType::Double, "1.1",
           "multiplicative inflation of the prior ensemble spread")
      .add("watch.bias_sd", OptionType::Double, "0.3",
           "prior standard deviation of the log correction of the model's intensity at the first cycle")
      .add("watch.bias_decay", OptionType::Double, "0.9",
           "the correction decays by this factor per cycle (1 = persists)")
      .add("watch.bias_noise_sd", OptionType::Double, "0.1",
           "model error added to the log correction per cycle (standard deviation)")
      .add("watch.scan_radius_m", OptionType::Double, "500", "largest circle of the space-time scan (m)")
      .add("watch.scan_window", OptionType::Int, "3", "scan windows of 1..this many cycles ending now (<= 8)")
      .add("watch.scan_replicates", OptionType::Int, "999", "Monte Carlo replicates of the scan")
      .add("watch.scan_stride", OptionType::Int, "1", "every k-th active cell is a circle centre")
      .add("watch.scan_secondary", OptionType::Int, "3",
           "secondary clusters (not overlapping the best one) also tested per cycle")
      .add("watch.alert_recurrence_days", OptionType::Double, "365",
           "alert when a cluster's recurrence interval (cycle length / p) is at least this many days")
      .add("watch.dedup_cycles", OptionType::Int, "1",
           "a significant cluster sharing a cell with an alert seen within this many cycles continues it (no "
           "new alert)")
      .add("watch.rate_floor_share", OptionType::Double, "0.05",
           "the forecast rate of a cell is (1 - share) x the model's + share x the mean rate of an active "
           "cell "
           "(the total is kept; a cell the model never saw an event in is not made impossible)")
      .add("watch.min_observed", OptionType::Int, "3",
           "an alert needs at least this many observed events (and at least privacy.min_count)");
}

WatchResult Watch::run(grid::CityGrid& grid, const core::Config& config, const core::Provenance& provenance,
                       const std::filesystem::path& out) {
  core::ScopedTimer total_timer("watch");
  const auto wall_start = std::chrono::steady_clock::now();
  const MPI_Comm comm = grid.comm();
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  const auto s = Settings::fromConfig(config);
  const auto obs = out / "obs.h5";
  const auto dir = out / "watch";
  const auto state_path = dir / "state.h5";
  const auto alerts_path = out / "alerts.jsonl";
  const auto geojson_path = out / "alerts.geojson";
  const auto cycles_path = dir / "cycles.jsonl";
  const auto forecast_path = dir / "forecast.h5";
  if (rank == 0) std::filesystem::create_directories(dir);

  // A watcher killed during an append may have left the store behind its journal (or dirty): bring it up
  // to date before anything reads it.
  {
    core::ScopedTimer timer("watch store check");
    ingest::StreamChunk none;
    none.source = "stream";
    ingest::IngestPipeline::run(config.withOverrides({{"ingest.events", ""}}), grid, out, true, provenance,
                                &none);
  }
  const auto bt = verify::BacktestSettings::fromConfig(config, "");
  auto info = readStoreInfo(comm, obs, bt.categories);
  const ingest::TimeBinning binning(ingest::parseBinUnit(info.bin), ingest::TimeZone(info.zone));
  const auto coverage = ingest::Coverage::parse(config.getList("ingest.coverage"));
  const std::int64_t origin_utc = binning.binStartUtc(info.first_bin);
  const auto day = [&](std::int64_t abs_bin) {
    return static_cast<double>(binning.binStartUtc(abs_bin) - origin_utc) / 86400.0;
  };
  const auto floorDiv = [](std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : (a - b + 1) / b; };
  const auto covered = [&](std::int64_t abs_bin) {
    return coverage.coversAll(floorDiv(binning.binStartCivil(abs_bin), 86400),
                              floorDiv(binning.binStartCivil(abs_bin + 1) - 1, 86400));
  };
  const auto iso = [&](std::int64_t abs_bin) { return binning.isoStart(abs_bin); };
  const int K = s.members;
  const int cb = s.cycle_bins;
  const int nx = grid.nx();
  const int ny = grid.ny();
  const auto& box = grid.ownedBox();
  const auto owned = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  const auto plane = static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny);
  const auto& owned_mask = grid.ownedMask();
  const auto whole_mask = grid.globalMask();
  const auto owned_ids = grid.ownedGlobalIndices();
  const double cell_m = grid.spec().cell;
  const int noise_spacing = std::max(1, static_cast<int>(std::lround(s.localisation_m / cell_m)));
  std::ostringstream fp;
  fp << info.fingerprint << ";categories=";
  for (const auto& c : info.categories) fp << c << ",";
  fp << ";cycle_bins=" << cb << ";members=" << K << ";window=" << s.scan_window
     << ";seed=" << provenance.seed;
  const std::string fingerprint = fp.str();

  // The state: where watching began, the cycles done, the ensemble of log corrections, the scan window.
  std::int64_t start_bin = 0;
  std::int64_t done = 0;
  std::int64_t alerts_raised = 0;
  std::vector<std::vector<double>> bias(static_cast<std::size_t>(K), std::vector<double>(owned, 0.0));
  std::vector<std::vector<std::int32_t>> ring_obs;  // oldest first, at most scan_window
  std::vector<std::vector<double>> ring_exp;
  AlertBook book;
  int have_state = 0;
  if (rank == 0) have_state = std::filesystem::exists(state_path) ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&have_state, 1, MPI_INT, 0, comm));
  const store::Box whole{0, 0, nx, ny};
  // The bin of the latest event in the journal: where a first start begins, and on a restart, how far the
  // events appended before the stop reach.
  const auto last_event = ingest::IngestPipeline::lastEventBin(config, grid, out);
  if (have_state != 0) {
    const auto file = store::FieldFile::open(comm, state_path);
    if (!file.hasAttribute("schema") || file.stringAttribute("schema") != kStateSchema)
      throw Error(ExitCode::InputData, state_path.string() + ": not a watch state (" + kStateSchema + ")",
                  true);
    if (file.stringAttribute("fingerprint") != fingerprint)
      throw Error(ExitCode::InputData,
                  state_path.string() +
                      ": made by another configuration (store, categories, cycle, members, window or seed); "
                      "watch into a fresh output.dir or remove its watch/ folder",
                  true);
    start_bin = file.intAttribute("start_bin");
    done = file.intAttribute("cycles_done");
    alerts_raised = file.intAttribute("alerts_raised");
    for (int m = 0; m < K; ++m)
      bias[static_cast<std::size_t>(m)] = file.read2d<double>("bias_" + std::to_string(m), box);
    const auto ring_n = file.intAttribute("ring_size");
    for (std::int64_t w = 0; w < ring_n; ++w) {
      ring_obs.push_back(file.read2d<std::int32_t>("ring_observed_" + std::to_string(w), whole));
      ring_exp.push_back(file.read2d<double>("ring_expected_" + std::to_string(w), whole));
    }
    book = AlertBook::fromJson(nlohmann::json::parse(file.stringAttribute("active_alerts")));
    VIGIE_LOG_INFO("watch: resuming after " << done << " cycle(s) from " << iso(start_bin + done * cb));
  } else {
    // By default the first cycle starts after the latest stored event (the store's axis may run on to the
    // end of the declared coverage).
    start_bin = last_event >= 0 ? last_event + 1 : info.first_bin + info.nt;
    if (!s.start.empty()) {
      const auto d = ingest::parseIsoDay(s.start, "watch.start");
      start_bin = binning.binOfDay(d);
      if (floorDiv(binning.binStartCivil(start_bin), 86400) != d)
        throw Error(ExitCode::Usage, "watch.start " + s.start + " is not the start of a " + info.bin + " bin",
                    true);
    }
    if (start_bin - info.first_bin < 1 || start_bin > info.first_bin + info.nt)
      throw Error(ExitCode::Usage,
                  "watch.start: the store holds bins " + iso(info.first_bin) + " to " +
                      iso(info.first_bin + info.nt) +
                      "; watching must start after its first bin and no later "
                      "than its end",
                  true);
    std::vector<double> noise(owned);
    for (int m = 0; m < K; ++m) {
      smoothNoise(grid, noise_spacing, provenance.seed ^ 0x57A7C4ULL, static_cast<std::uint32_t>(m), noise);
      for (std::size_t c = 0; c < owned; ++c) bias[static_cast<std::size_t>(m)][c] = s.bias_sd * noise[c];
    }
  }
  // Records of a cycle that was not committed (a crash after writing them) are dropped: the cycle runs again.
  std::vector<nlohmann::json> alert_records;
  if (rank == 0) {
    const auto a = keepCyclesBelow(alerts_path, done);
    const auto c = keepCyclesBelow(cycles_path, done);
    if (a + c > 0) VIGIE_LOG_WARN("watch: dropped " << (a + c) << " record(s) of an uncommitted cycle");
    touch(alerts_path);
    alert_records = readJsonLines(alerts_path);
    writeAlertsGeoJson(geojson_path, alert_records);
  }

  // The published model, fitted on the bins before the start and moved on through the cycles already done.
  const std::int64_t start_rel = start_bin - info.first_bin;
  forecast::Predictor predictor(grid, config, provenance, out, start_rel);
  predictor.setFuture(forecast::FutureConditions::fromConfig(config));
  const auto series_bins = predictor.series().bins();
  {
    core::ScopedTimer timer("watch replay");
    const std::int64_t to_rel = start_rel + done * cb;
    predictor.replayStored(start_rel, std::min(to_rel, series_bins));
    std::vector<double> zeros(owned, 0.0);
    for (std::int64_t b = std::max(start_rel, series_bins); b < to_rel; ++b) {
      const auto a = info.first_bin + b;
      predictor.step(day(a), day(a + 1), zeros, covered(a));
    }
  }
  if (!predictor.parameterDraws())
    VIGIE_LOG_INFO("watch: the published model (" << predictor.model()
                                                  << ") has no parameter draws: the ensemble spread is the "
                                                     "correction's alone");

  // The prior of a cycle [a, e): members' model expectations and log-intensities (model + correction).
  std::vector<std::vector<double>> lam(static_cast<std::size_t>(K), std::vector<double>(owned, 0.0));
  std::vector<std::vector<double>> xf(static_cast<std::size_t>(K), std::vector<double>(owned, 0.0));
  std::vector<double> e_mean(owned, 0.0);
  std::vector<std::vector<double>> base_log(static_cast<std::size_t>(K), std::vector<double>(owned, 0.0));
  std::vector<double> half_var(owned, 0.0);
  double mean_rate = 0.0;
  double prior_model_total = 0.0;  // the model's expected events over the cycle of the current prior
  const auto prior = [&](std::int64_t a, std::int64_t e) {
    core::ScopedTimer timer("watch forecast");
    const double len = day(e) - day(a);
    for (int m = 0; m < K; ++m) predictor.expected(m, 0.0, len, -1, lam[static_cast<std::size_t>(m)]);
    predictor.restorePointEstimate();
    // Shrinkage towards the mean rate of an active cell (mass-preserving: the total is the model's), so no
    // cell is forecast as impossible.
    const double total = core::orderedSum(comm, owned_ids, lam[0]);
    prior_model_total = total;
    mean_rate = total / std::max<double>(1.0, static_cast<double>(grid.activeCells())) / len;
    const double share = s.rate_floor_share;
    // The corrections are centred in the mean: exp(b - v/2) averages to 1 over a member spread of variance v.
    for (std::size_t c = 0; c < owned; ++c) {
      double mean = 0.0, var = 0.0;
      for (int m = 0; m < K; ++m) mean += bias[static_cast<std::size_t>(m)][c] / K;
      for (int m = 0; m < K; ++m) {
        const double d = bias[static_cast<std::size_t>(m)][c] - mean;
        var += d * d / K;
      }
      half_var[c] = 0.5 * var;
    }
    std::fill(e_mean.begin(), e_mean.end(), 0.0);
    for (int m = 0; m < K; ++m) {
      const auto& l = lam[static_cast<std::size_t>(m)];
      auto& x = xf[static_cast<std::size_t>(m)];
      const auto& b = bias[static_cast<std::size_t>(m)];
      auto& base = base_log[static_cast<std::size_t>(m)];
      for (std::size_t c = 0; c < owned; ++c) {
        base[c] = std::log(std::max(kFloorRate, (1.0 - share) * l[c] / len + share * mean_rate));
        x[c] = base[c] + (owned_mask[c] != 0 ? b[c] - half_var[c] : 0.0);
        if (owned_mask[c] != 0) e_mean[c] += std::exp(x[c]) * len / K;
      }
    }
  };
  prior(start_bin + done * cb, start_bin + (done + 1) * cb);

  // The forecast of the next cycle, as published after each cycle.
  const auto writeForecast = [&](std::int64_t a, std::int64_t e) {
    auto file = store::FieldFile::create(comm, forecast_path, grid.geometry());
    std::vector<double> p_any(owned, 0.0), corr(owned, 1.0);
    for (std::size_t c = 0; c < owned; ++c) {
      double mb = 0.0;
      for (int m = 0; m < K; ++m) {
        const double mu =
            owned_mask[c] != 0 ? std::exp(xf[static_cast<std::size_t>(m)][c]) * (day(e) - day(a)) : 0.0;
        p_any[c] += (1.0 - std::exp(-mu)) / K;
        mb += bias[static_cast<std::size_t>(m)][c] / K;
      }
      corr[c] = owned_mask[c] != 0 ? std::exp(mb) : 1.0;
    }
    file.write2d<double>("expected", box, e_mean,
                         {"events", "expected events of the next cycle (ensemble mean)", 0});
    file.write2d<double>("p_any", box, p_any,
                         {"1", "probability of at least one event in the next cycle", 0});
    file.write2d<double>("correction", box, corr,
                         {"1",
                          "factor the assimilation applies to the model's intensity (exp of the mean log "
                          "correction)",
                          1});
    file.write2d<double>(
        "model_expected", box, lam[0],
        {"events", "the published model's expected events (fitted parameters, no correction)", 0});
    file.setAttribute("schema", std::string("vigie.watch_forecast/1"));
    file.setAttribute("cycle_start", iso(a));
    file.setAttribute("cycle_end", iso(e));
    file.setAttribute("model", predictor.model());
    file.commit();
  };

  const auto commitState = [&]() {
    auto file = store::FieldFile::create(comm, state_path, grid.geometry());
    file.setAttribute("schema", std::string(kStateSchema));
    file.setAttribute("fingerprint", fingerprint);
    file.setAttribute("start_bin", start_bin);
    file.setAttribute("cycles_done", done);
    file.setAttribute("alerts_raised", alerts_raised);
    file.setAttribute("ring_size", static_cast<std::int64_t>(ring_obs.size()));
    file.setAttribute("active_alerts", book.toJson().dump());
    for (int m = 0; m < K; ++m)
      file.write2d<double>("bias_" + std::to_string(m), box, bias[static_cast<std::size_t>(m)],
                           {"1", "log correction of the model intensity, member " + std::to_string(m), 0});
    for (std::size_t w = 0; w < ring_obs.size(); ++w) {
      std::vector<std::int32_t> o(owned);
      std::vector<double> e(owned);
      for (int j = 0; j < box.nj; ++j)
        for (int i = 0; i < box.ni; ++i) {
          const auto g = static_cast<std::size_t>(j + box.j0) * nx + (i + box.i0);
          o[static_cast<std::size_t>(j) * box.ni + i] = ring_obs[w][g];
          e[static_cast<std::size_t>(j) * box.ni + i] = ring_exp[w][g];
        }
      file.write2d<std::int32_t>("ring_observed_" + std::to_string(w), box, o,
                                 {"events", "observed, scan window", 0});
      file.write2d<double>("ring_expected_" + std::to_string(w), box, e,
                           {"events", "expected, scan window", 0});
    }
    file.commit();
  };
  if (have_state == 0) commitState();  // where watching began is known before any row is appended

  assim::FilterSettings filter;
  filter.localisation_radius = s.localisation_m;
  filter.inflation = s.inflation;
  std::vector<double> cycle_latency;
  std::int64_t cycles_run = 0, alerts_new = 0, alerts_continued = 0;
  double append_pending_s = 0.0;

  // One cycle [a, a + cb): observe, assimilate, scan, alert, move the models on, refresh, commit.
  const auto processCycle = [&](std::int64_t k) {
    const auto t_cycle = std::chrono::steady_clock::now();
    const std::int64_t a = start_bin + k * cb;
    const std::int64_t e = a + cb;
    const double len = day(e) - day(a);
    // The cycle's counts, bin by bin, from the store (whole grid on every rank).
    std::vector<std::vector<std::int32_t>> bins(static_cast<std::size_t>(cb),
                                                std::vector<std::int32_t>(plane, 0));
    bool have = true;
    {
      const auto file = store::FieldFile::open(comm, obs);
      const auto nt = file.shape("/time/bin_start").at(0);
      const std::int64_t t0 = a - info.first_bin;
      const int n = static_cast<int>(std::clamp<std::int64_t>(nt - t0, 0, cb));
      for (const auto& cat : info.categories) {
        if (n <= 0) break;
        const auto slab = file.readSlab3d<std::int32_t>("/counts/" + cat, static_cast<int>(t0), n, whole);
        for (int t = 0; t < n; ++t)
          for (std::size_t g = 0; g < plane; ++g) bins[static_cast<std::size_t>(t)][g] += slab[t * plane + g];
      }
    }
    for (std::int64_t b = a; b < e; ++b) have = have && covered(b);
    std::vector<std::int32_t> obs_whole(plane, 0);
    for (const auto& p : bins)
      for (std::size_t g = 0; g < plane; ++g) obs_whole[g] += p[g];
    std::vector<double> obs_owned(owned, 0.0);
    for (int j = 0; j < box.nj; ++j)
      for (int i = 0; i < box.ni; ++i)
        obs_owned[static_cast<std::size_t>(j) * box.ni + i] =
            obs_whole[static_cast<std::size_t>(j + box.j0) * nx + (i + box.i0)];
    const auto e_whole = models::gatherWholeGrid(grid, e_mean, 1);
    std::int64_t observed_total = 0;
    double expected_total = 0.0;
    const double model_total = prior_model_total;
    for (std::size_t g = 0; g < plane; ++g) {
      if (whole_mask[g] == 0) continue;
      observed_total += obs_whole[g];
      expected_total += e_whole[g];
    }

    // Assimilation: the analysis of the log-intensities, then the corrections it implies.
    nlohmann::json analysis = nullptr;
    if (have) {
      core::ScopedTimer timer("watch analysis");
      filter.cycle_length = len;
      auto ens = xf;
      const auto summary = assim::analyse(grid, ens, obs_owned, filter);
      std::vector<double> shift(owned, 0.0);
      for (int m = 0; m < K; ++m) {
        auto& b = bias[static_cast<std::size_t>(m)];
        for (std::size_t c = 0; c < owned; ++c) {
          if (owned_mask[c] == 0) continue;
          const double nb = std::clamp(
              ens[static_cast<std::size_t>(m)][c] - base_log[static_cast<std::size_t>(m)][c] + half_var[c],
              -kBiasClamp, kBiasClamp);
          shift[c] += std::abs(nb - b[c]) / K;
          b[c] = nb;
        }
      }
      const double mean_shift = core::orderedSum(comm, owned_ids, shift);
      analysis = {{"observations", summary.observations},
                  {"halo_width", summary.halo_width},
                  {"mean_abs_increment", grid.activeCells() > 0 ? mean_shift / grid.activeCells() : 0.0}};
    }

    // The scan of the last cycles against what was forecast for them.
    nlohmann::json scan = nullptr;
    std::vector<nlohmann::json> new_alerts;
    if (have) {
      ring_obs.push_back(obs_whole);
      ring_exp.push_back(e_whole);
      while (static_cast<int>(ring_obs.size()) > s.scan_window) {
        ring_obs.erase(ring_obs.begin());
        ring_exp.erase(ring_exp.begin());
      }
      core::ScopedTimer timer("watch scan");
      verify::ScanInput in;
      in.nx = nx;
      in.ny = ny;
      in.cell_m = cell_m;
      in.mask = whole_mask;
      in.observed = ring_obs;
      in.expected = ring_exp;
      verify::ScanOptions opt;
      opt.max_radius_m = s.scan_radius_m;
      opt.max_window = static_cast<int>(ring_obs.size());
      opt.replicates = s.scan_replicates;
      opt.seed = mix(provenance.seed, static_cast<std::uint64_t>(a));
      opt.centre_stride = s.scan_stride;
      opt.cycle_days = len;
      opt.secondary = s.scan_secondary;
      opt.min_observed = s.min_observed;
      const auto r = verify::SpaceTimeScan::run(comm, in, opt);
      scan = {{"score", r.best.score},
              {"observed", r.best.observed},
              {"expected", r.best.expected},
              {"p_value", r.best.p_value},
              {"recurrence_days", r.best.recurrence_days},
              {"window_cycles", r.best.window}};
      std::vector<const verify::ScanCluster*> clusters{&r.best};
      for (const auto& c : r.secondary) clusters.push_back(&c);
      book.expire(k, s.dedup_cycles);
      int n_in_cycle = 0;
      for (const auto* c : clusters) {
        if (c->centre < 0 || c->observed < s.min_observed || !std::isfinite(c->recurrence_days) ||
            c->recurrence_days < s.alert_recurrence_days)
          continue;
        if (auto* open = book.continued(c->members, k, s.dedup_cycles)) {
          open->last_cycle = k;
          ++open->cycles_seen;
          ++alerts_continued;
          VIGIE_LOG_INFO("watch: alert " << open->id << " continues (" << c->observed << " observed, "
                                         << c->expected << " expected)");
          continue;
        }
        const auto centre = grid.cellCentre(c->centre_i, c->centre_j);
        nlohmann::json where{{"i", c->centre_i}, {"j", c->centre_j}, {"x", centre[0]}, {"y", centre[1]}};
        if (grid.geographic()) {
          const auto ll = grid.toLonLat(centre[0], centre[1]);
          where["lon"] = ll[0];
          where["lat"] = ll[1];
        } else {
          where["lon"] = nullptr;
          where["lat"] = nullptr;
        }
        const auto id = iso(a).substr(0, 16) + "#" + std::to_string(++n_in_cycle);
        nlohmann::json rec{{"schema", "vigie.alert/1"},
                           {"id", id},
                           {"cycle", k},
                           {"cycle_start", iso(a)},
                           {"window_cycles", c->window},
                           {"window_start", iso(e - static_cast<std::int64_t>(c->window) * cb)},
                           {"window_end", iso(e)},
                           {"centre", where},
                           {"radius_m", c->radius_m},
                           {"cells", c->cells},
                           {"observed", c->observed},
                           {"expected", c->expected},
                           {"ratio", c->expected > 0 ? c->observed / c->expected : 0.0},
                           {"score", c->score},
                           {"p_value", c->p_value},
                           {"p_monte_carlo", c->p_monte_carlo},
                           {"p_gumbel", c->p_gumbel},
                           {"replicates", s.scan_replicates},
                           {"recurrence_days", c->recurrence_days},
                           {"threshold_days", s.alert_recurrence_days},
                           {"model", predictor.model()}};
        new_alerts.push_back(rec);
        book.open(ActiveAlert{id, c->members, k, k, 1});
        ++alerts_new;
        ++alerts_raised;
      }
    } else {
      // A gap in the sources' coverage breaks the scan's windows.
      ring_obs.clear();
      ring_exp.clear();
    }

    // The models move on through the cycle's bins; the correction persists with decay and model error.
    {
      std::vector<double> counts(owned, 0.0);
      for (std::int64_t b = a; b < e; ++b) {
        const auto& p = bins[static_cast<std::size_t>(b - a)];
        for (int j = 0; j < box.nj; ++j)
          for (int i = 0; i < box.ni; ++i)
            counts[static_cast<std::size_t>(j) * box.ni + i] =
                p[static_cast<std::size_t>(j + box.j0) * nx + (i + box.i0)];
        predictor.step(day(b), day(b + 1), counts, covered(b));
      }
      std::vector<double> noise(owned);
      for (int m = 0; m < K; ++m) {
        smoothNoise(grid, noise_spacing, provenance.seed ^ 0x57A7C4ULL,
                    static_cast<std::uint32_t>((k + 1) * K + m), noise);
        auto& bm = bias[static_cast<std::size_t>(m)];
        for (std::size_t c = 0; c < owned; ++c)
          bm[c] = std::clamp(s.bias_decay * bm[c] + s.bias_noise_sd * noise[c], -kBiasClamp, kBiasClamp);
      }
    }
    ++done;
    prior(e, e + cb);
    writeForecast(e, e + cb);
    const double cycle_s = seconds(t_cycle);
    nlohmann::json record{{"schema", "vigie.watch_cycle/1"},
                          {"cycle", k},
                          {"start", iso(a)},
                          {"end", iso(e)},
                          {"covered", have},
                          {"observed", observed_total},
                          {"expected", expected_total},
                          {"model_expected", model_total},
                          {"analysis", analysis},
                          {"scan", scan},
                          {"alerts", new_alerts.size()},
                          {"append_s", append_pending_s},
                          {"cycle_s", cycle_s}};
    if (rank == 0) {
      // Records first, then the state: a crash between them leaves records of an uncommitted cycle, which
      // the next start drops before running the cycle again.
      appendJsonLines(cycles_path, {record});
      if (!new_alerts.empty()) {
        appendJsonLines(alerts_path, new_alerts);
        alert_records.insert(alert_records.end(), new_alerts.begin(), new_alerts.end());
        writeAlertsGeoJson(geojson_path, alert_records);
      }
    }
    commitState();
    cycle_latency.push_back(cycle_s + append_pending_s);
    append_pending_s = 0.0;
    ++cycles_run;
    if (rank == 0) {
      for (const auto& al : new_alerts) {
        if (core::logFormat() == core::LogFormat::Json)
          std::cout << al.dump() << std::endl;
        else
          std::cout << alertLine(al) << std::endl;
      }
    }
    VIGIE_LOG_INFO("watch: cycle " << k << " " << iso(a).substr(0, 16) << ": " << observed_total
                                   << " observed, " << expected_total << " expected; " << new_alerts.size()
                                   << " alert(s); " << cycle_s << " s");
    core::faultPoint("watch", k);
  };

  // The stream: rank 0 reads, every rank appends and runs the cycles the data has passed.
  std::unique_ptr<ingest::SourceProfile> profile;
  std::unique_ptr<StreamSide> side;
  ingest::StreamChunk chunk;
  {
    std::string err;
    int code = 0;
    if (rank == 0) {
      try {
        profile = std::make_unique<ingest::SourceProfile>(
            ingest::SourceProfile::load(config.getPath("ingest.profile")));
        side = std::make_unique<StreamSide>(s, *profile, dir / "chunk.csv");
      } catch (const Error& ex) {
        err = ex.what();
        code = static_cast<int>(ex.code());
      }
    }
    rethrowFromRoot(comm, err, code);
  }
  const auto chunk_config = config.withOverrides({{"ingest.events", (dir / "chunk.csv").string()}});
  // One past the bin of the latest event appended (on a restart, events appended before the stop count).
  std::int64_t data_end = std::max(start_bin + done * cb, last_event + 1);
  std::int64_t rows = 0, appended = 0, rejected = 0;
  double append_s = 0.0;
  bool interrupted = false;
  core::StopSignals signals;
  std::vector<StreamLine> lines;
  const auto skip_rejects = rank == 0 ? lastRejectLine(out / "rejects.csv", side->stream().name()) : 0;
  while (true) {
    lines.clear();
    int more = 1;
    long long n = 0;
    std::string err;
    int code = 0;
    if (rank == 0) {
      try {
        more = side->stream().read(lines, s.batch_seconds, static_cast<std::size_t>(s.batch_lines)) ? 1 : 0;
        n = static_cast<long long>(side->prepare(lines, chunk));
        chunk.skip_rejects_through = skip_rejects;
      } catch (const Error& ex) {
        err = ex.what();
        code = static_cast<int>(ex.code());
      }
    }
    rethrowFromRoot(comm, err, code);
    long long head[2] = {n, more};
    VIGIE_CHECK_MPI(MPI_Bcast(head, 2, MPI_LONG_LONG, 0, comm));
    if (head[0] > 0) {
      const auto t = std::chrono::steady_clock::now();
      const auto r = ingest::IngestPipeline::run(chunk_config, grid, out, true, provenance, &chunk);
      rows += r.rows_read;
      appended += r.new_events;
      rejected += r.rejected_total;
      data_end = std::max(data_end, r.last_event_bin + 1);
      const double dt = seconds(t);
      append_s += dt;
      append_pending_s += dt;
    }
    // Cycles the data has passed: an event at or after their end has arrived.
    while (start_bin + (done + 1) * cb < data_end) {
      processCycle(done);
      if (core::stopRequested(comm)) {
        interrupted = true;
        break;
      }
    }
    if (interrupted) break;
    if (head[1] == 0) {
      // The end of the stream: the last cycles, up to the one holding the last event.
      while (start_bin + done * cb < data_end) processCycle(done);
      break;
    }
    if (core::stopRequested(comm)) {
      interrupted = true;
      break;
    }
  }
  if (cycles_run == 0) commitState();  // a stream that closed no cycle still leaves its state

  const double wall = seconds(wall_start);
  WatchResult result;
  result.interrupted = interrupted;
  result.doc = {{"schema", "vigie.watch/1"},
                {"stream", s.stream == "-" ? "stdin" : s.stream},
                {"model", predictor.model()},
                {"start", iso(start_bin)},
                {"cycles_done", done},
                {"cycles_this_run", cycles_run},
                {"next_cycle_start", iso(start_bin + done * cb)},
                {"rows_read", rows},
                {"events_appended", appended},
                {"rows_rejected", rejected},
                {"alerts_new", alerts_new},
                {"alerts_continued", alerts_continued},
                {"alerts_total", alerts_raised},
                {"append_seconds", append_s},
                {"events_per_second", append_s > 0 ? static_cast<double>(rows) / append_s : 0.0},
                {"wall_seconds", wall},
                {"cycle_latency", latencyStats(cycle_latency)},
                {"interrupted", interrupted},
                {"settings",
                 {{"cycle_bins", cb},
                  {"members", K},
                  {"localisation_m", s.localisation_m},
                  {"inflation", s.inflation},
                  {"scan_radius_m", s.scan_radius_m},
                  {"scan_window", s.scan_window},
                  {"scan_replicates", s.scan_replicates},
                  {"alert_recurrence_days", s.alert_recurrence_days},
                  {"dedup_cycles", s.dedup_cycles},
                  {"min_observed", s.min_observed}}}};
  if (rank == 0) {
    std::ofstream os(dir / "watch.json.tmp");
    os << result.doc.dump(1) << "\n";
    os.close();
    std::filesystem::rename(dir / "watch.json.tmp", dir / "watch.json");
  }
  result.outputs = {"alerts.jsonl",       "alerts.geojson",    "watch/watch.json",
                    "watch/cycles.jsonl", "watch/forecast.h5", "watch/state.h5"};
  return result;
}

}  // namespace vigie::watch
