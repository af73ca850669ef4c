#include "ingest/IngestPipeline.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "audit/AuditLog.hpp"
#include "core/Collective.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Provenance.hpp"
#include "core/Timer.hpp"
#include "forecast/ForecastDriver.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Covariates.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/EventReader.hpp"
#include "ingest/Journal.hpp"
#include "ingest/RejectLog.hpp"
#include "ingest/SourceProfile.hpp"
#include "ingest/TimeBinning.hpp"
#include "store/FieldFile.hpp"

namespace vigie::ingest {

using core::Error;
using core::ExitCode;

namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : (a - b + 1) / b;
}

/// What fixes the meaning of a journal record: the cell indexing and the category indices.
std::string journalFingerprint(const grid::CityGrid& grid, const std::vector<std::string>& categories) {
  const auto g = grid.geometry();
  std::ostringstream os;
  os << std::setprecision(17) << "grid=" << g.epsg << ":" << g.x0 << ":" << g.y0 << ":" << g.cell_m << ":"
     << g.nx << "x" << g.ny << ";categories=";
  for (const auto& c : categories) os << c << ",";
  return os.str();
}

/// Cells whose centre lies within `radius` of the centre of a cell in `cells` (global indices).
std::vector<std::uint8_t> dilate(const grid::CityGrid& grid, const std::vector<std::uint8_t>& seeds,
                                 double radius) {
  const int nx = grid.nx();
  const int ny = grid.ny();
  const double h = grid.spec().cell;
  const int reach = static_cast<int>(std::floor(radius / h));
  std::vector<std::uint8_t> mask(seeds.size(), 0);
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      if (seeds[static_cast<std::size_t>(j) * nx + i] == 0) continue;
      for (int dj = -reach; dj <= reach; ++dj) {
        for (int di = -reach; di <= reach; ++di) {
          const int ii = i + di;
          const int jj = j + dj;
          if (ii < 0 || jj < 0 || ii >= nx || jj >= ny) continue;
          if (std::hypot(di * h, dj * h) <= radius + 1e-9) mask[static_cast<std::size_t>(jj) * nx + ii] = 1;
        }
      }
    }
  }
  return mask;
}

std::vector<std::filesystem::path> inputsOf(const core::Config& config) {
  std::vector<std::filesystem::path> files = config.getPathList("ingest.events");
  for (const auto* key : {"ingest.profile", "covariates.weather", "covariates.school_holidays"}) {
    const auto p = config.getPath(key);
    if (!p.empty()) files.push_back(p);
  }
  for (const auto& item : config.getList("covariates.layers")) {
    const auto eq = item.find('=');
    if (eq != std::string::npos) {
      std::filesystem::path p(item.substr(eq + 1));
      if (p.is_relative() && !config.file().empty()) p = config.file().parent_path() / p;
      files.push_back(p);
    }
  }
  if (!config.file().empty()) files.push_back(config.file());
  return files;
}

/// A chunk's read result in the stream's terms: keys and lines of the stream, rejects naming it; with
/// `drop_duplicates`, rows identical to an earlier row of the stream (not only of the chunk) are dropped.
void restream(ReadResult& result, const StreamChunk& chunk, bool drop_duplicates) {
  const auto row = [&](std::int64_t line) {
    const auto r = static_cast<std::size_t>(line - 2);
    if (line < 2 || r >= chunk.stream_line.size())
      throw Error(ExitCode::Internal, "ingest: a chunk line without its stream line");
    return r;
  };
  std::vector<Event> events;
  std::vector<std::int64_t> lines;
  events.reserve(result.events.size());
  lines.reserve(result.lines.size());
  for (std::size_t k = 0; k < result.events.size(); ++k) {
    const auto r = row(result.lines[k]);
    if (drop_duplicates && chunk.occurrence[r] > 0) {
      result.rejects.push_back({chunk.source, result.lines[k], RejectReason::DuplicateRow});
      ++result.stats.rejected[RejectReason::DuplicateRow];
      continue;
    }
    auto e = result.events[k];
    e.key_hi = chunk.key_hi[r];
    e.key_lo = chunk.key_lo[r];
    events.push_back(e);
    lines.push_back(chunk.stream_line[r]);
  }
  for (auto& rj : result.rejects) {
    rj.file = chunk.source;
    rj.line = chunk.stream_line[row(rj.line)];
  }
  result.events = std::move(events);
  result.lines = std::move(lines);
  result.stats.accepted = static_cast<std::int64_t>(result.events.size());
}

}  // namespace

void IngestPipeline::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("ingest.events", OptionType::List, "",
           "event files (CSV, plain or gzip), comma-separated; on the command line the list replaces the "
           "file's")
      .add("ingest.profile", OptionType::Path, "",
           "source profile (INI) describing the columns of the event files")
      .add("ingest.categories", OptionType::List, "",
           "Vigie categories of this case; the profile maps source types onto them")
      .add("ingest.bin", OptionType::String, "day", "time bin: hour, day, week (ISO, Monday) or month")
      .add("ingest.timezone", OptionType::String, "UTC",
           "IANA time zone of the sources' local times (e.g. Europe/Paris); day/week/month bins are local")
      .add("ingest.coverage", OptionType::List, "",
           "periods the sources cover, START/END (ISO dates, END inclusive) or START/ for an open end; bins "
           "outside are marked missing, never zero. Empty: every bin is covered")
      .add("privacy.min_count", OptionType::Int, "0",
           "published outputs show a cell's observed count only if it is at least this (k-anonymity style); "
           "0 or 1: no suppression");
  Covariates::declareOptions(options);
}

bool IngestPipeline::needed(MPI_Comm comm, const core::Config& config, const std::filesystem::path& out) {
  if (config.getList("ingest.events").empty()) return false;
  int need = 0;
  core::runOnRoot(comm, [&] {
    const auto h5 = out / "obs.h5";
    std::error_code ec;
    if (!std::filesystem::exists(h5, ec)) {
      need = 1;
      return;
    }
    const auto stamp = std::filesystem::last_write_time(h5, ec);
    for (const auto& f : inputsOf(config)) {
      std::error_code fe;
      const auto t = std::filesystem::last_write_time(f, fe);
      if (fe || t > stamp) need = 1;
    }
  });
  VIGIE_CHECK_MPI(MPI_Bcast(&need, 1, MPI_INT, 0, comm));
  return need != 0;
}

IngestSummary IngestPipeline::run(const core::Config& config, grid::CityGrid& grid,
                                  const std::filesystem::path& out, bool append,
                                  const core::Provenance& provenance, const StreamChunk* chunk) {
  core::ScopedTimer total("ingest");
  const MPI_Comm comm = grid.comm();
  int rank = 0;
  MPI_Comm_rank(comm, &rank);

  IngestSummary summary;
  summary.categories = config.getList("ingest.categories");
  const auto files = config.getPathList("ingest.events");
  if (files.empty() && chunk == nullptr)
    throw Error(ExitCode::Usage, "ingest.events: no event file given", true);
  if (summary.categories.empty()) throw Error(ExitCode::Usage, "ingest.categories: no category given", true);
  if (config.getPath("ingest.profile").empty())
    throw Error(ExitCode::Usage, "ingest.profile: no source profile given", true);
  for (const auto& f : files) summary.files.push_back(f.string());
  if (chunk != nullptr && files.size() > 1)
    throw Error(ExitCode::Internal, "ingest: a stream chunk is read from one file at most");
  // The name of file k in rejects.csv.
  const auto shown = [&](std::size_t k) { return chunk != nullptr ? chunk->source : files[k].string(); };
  const TimeBinning binning(parseBinUnit(config.getString("ingest.bin")),
                            TimeZone(config.getString("ingest.timezone")));
  const auto coverage = Coverage::parse(config.getList("ingest.coverage"));
  const auto covariates = Covariates::fromConfig(config);
  const auto h5 = out / "obs.h5";
  if (append) {
    int exists = 0;
    if (rank == 0) exists = std::filesystem::exists(h5) ? 1 : 0;
    VIGIE_CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
    if (exists == 0)
      throw Error(ExitCode::Usage, h5.string() + ": --append needs an existing store; run vigie ingest first",
                  true);
  }

  // The mask rank 0 checks events against: the outline's, or (event mask) the cells near training events.
  std::vector<std::uint8_t> mask = grid.maskFromEvents() ? std::vector<std::uint8_t>{} : grid.globalMask();
  const double mask_radius = grid.spec().mask_events_within_m;
  const std::int64_t mask_until_day =
      grid.spec().mask_events_until.empty()
          ? std::numeric_limits<std::int64_t>::max()
          : parseIsoDay(grid.spec().mask_events_until, "grid.mask_events_until");

  const std::string fingerprint = journalFingerprint(grid, summary.categories);
  std::vector<Event> records;  // rank 0: every journal record after the append
  core::runOnRoot(comm, [&] {
    std::vector<Event> candidates;
    std::vector<std::pair<std::size_t, std::int64_t>> origin;  // (file index, line) of each candidate
    std::vector<Reject> rejects;
    {
      core::ScopedTimer timer("ingest read");
      const auto profile = SourceProfile::load(config.getPath("ingest.profile"));
      const EventReader reader(profile, summary.categories, grid);
      // Every file is parsed before anything is written: a malformed file leaves no partial store behind.
      for (const auto& f : files) {
        auto result = reader.read(f);
        if (chunk != nullptr) restream(result, *chunk, profile.duplicates == DuplicatePolicy::Drop);
        summary.rows_read += result.stats.rows_read;
        summary.duplicate_rows += result.stats.duplicate_rows;
        candidates.insert(candidates.end(), result.events.begin(), result.events.end());
        for (const auto line : result.lines)
          origin.emplace_back(static_cast<std::size_t>(&f - files.data()), line);
        rejects.insert(rejects.end(), result.rejects.begin(), result.rejects.end());
      }
    }
    // Rows the reader accepted still have to fall inside the declared coverage, be precise enough for the
    // bins and lie inside the study area. Reader order is kept so the reject file follows the source files.
    std::vector<std::pair<std::size_t, RejectReason>> late;  // candidate index -> reason
    std::vector<std::uint8_t> keep(candidates.size(), 1);
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      const auto& e = candidates[k];
      const auto day = floorDiv(e.civil_seconds, 86400);
      if (!coverage.coversDay(day)) {
        late.emplace_back(k, RejectReason::OutsideCoverage);
      } else if (!binning.accepts(e.precision)) {
        late.emplace_back(k, RejectReason::PrecisionTooCoarse);
      } else {
        continue;
      }
      keep[k] = 0;
    }
    Journal journal(out / "obs.journal", fingerprint);
    if (grid.maskFromEvents()) {
      // The study area: cells near the centre of a cell holding a training-period event (journal and new
      // rows).
      std::vector<std::uint8_t> seeds(
          static_cast<std::size_t>(grid.nx()) * static_cast<std::size_t>(grid.ny()), 0);
      auto seed = [&](const Event& e) {
        if (floorDiv(e.civil_seconds, 86400) <= mask_until_day) seeds[static_cast<std::size_t>(e.cell)] = 1;
      };
      for (const auto& e : journal.records()) seed(e);
      for (std::size_t k = 0; k < candidates.size(); ++k)
        if (keep[k] != 0) seed(candidates[k]);
      mask = dilate(grid, seeds, mask_radius);
    }
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      if (keep[k] != 0 && mask[static_cast<std::size_t>(candidates[k].cell)] == 0) {
        late.emplace_back(k, RejectReason::OutsideMask);
        keep[k] = 0;
      }
    }
    std::vector<Event> accepted;
    accepted.reserve(candidates.size());
    for (std::size_t k = 0; k < candidates.size(); ++k)
      if (keep[k] != 0) accepted.push_back(candidates[k]);
    if (chunk != nullptr) {
      for (const auto line : chunk->malformed_lines) {
        rejects.push_back(Reject{chunk->source, line, RejectReason::MalformedRow});
        ++summary.rows_read;
      }
    }
    for (const auto& r : rejects) summary.rejected[rejectReasonName(r.reason)] += 1;
    for (const auto& [k, reason] : late) {
      summary.rejected[rejectReasonName(reason)] += 1;
      rejects.push_back(Reject{shown(origin[k].first), origin[k].second, reason});
    }
    summary.accepted = static_cast<std::int64_t>(accepted.size());
    for (const auto& [reason, n] : summary.rejected) summary.rejected_total += n;
    if (summary.accepted + summary.rejected_total != summary.rows_read) {
      throw Error(ExitCode::Internal, "ingest accounting: " + std::to_string(summary.accepted) +
                                          " accepted + " + std::to_string(summary.rejected_total) +
                                          " rejected != " + std::to_string(summary.rows_read) + " rows read");
    }
    {
      core::ScopedTimer timer("ingest journal");
      summary.new_events = static_cast<std::int64_t>(journal.append(accepted));
    }
    if (chunk != nullptr) {
      // A stream sent again from its start: its rejects up to the line already logged are not logged twice.
      std::erase_if(rejects, [&](const Reject& r) { return r.line <= chunk->skip_rejects_through; });
      std::sort(rejects.begin(), rejects.end(),
                [](const Reject& a, const Reject& b) { return a.line < b.line; });
    }
    RejectLog(out / "rejects.csv").append(rejects);
    records = journal.records();
    std::int64_t latest = std::numeric_limits<std::int64_t>::min();
    for (const auto& e : records) latest = std::max(latest, e.civil_seconds);
    summary.last_event_bin = records.empty() ? -1 : binning.binOf(latest);
  });
  if (grid.maskFromEvents()) {
    // Rank 0 built the mask; every rank takes its own part.
    mask.resize(static_cast<std::size_t>(grid.nx()) * static_cast<std::size_t>(grid.ny()));
    VIGIE_CHECK_MPI(MPI_Bcast(mask.data(), static_cast<int>(mask.size()), MPI_UINT8_T, 0, comm));
    grid.setMask(mask);
  }

  // The store: counts by rank-owned cells, the time axis, covariates, provenance.
  std::vector<std::pair<std::string, std::string>> attributes = {
      {"vigie_version", provenance.version},
      {"git_hash", provenance.git_hash},
      {"config", provenance.config_text},
      {"privacy", "only (time bin, cell, category, flag) of each event is stored; no row content"}};
  for (std::size_t k = 0; k < files.size(); ++k) {
    // Rank 0 names the source (a stream's name is known there only); every rank writes the same attribute.
    std::string text;
    if (rank == 0)
      text = chunk != nullptr ? "stream " + chunk->source
                              : files[k].filename().string() + " sha256:" + audit::sha256File(files[k]);
    int len = static_cast<int>(text.size());
    VIGIE_CHECK_MPI(MPI_Bcast(&len, 1, MPI_INT, 0, comm));
    text.resize(static_cast<std::size_t>(len));
    VIGIE_CHECK_MPI(MPI_Bcast(text.data(), len, MPI_CHAR, 0, comm));
    attributes.emplace_back("source_" + std::to_string(k), text);
  }
  std::string mask_text =
      grid.maskFromEvents()
          ? "events within " + std::to_string(mask_radius) + " m until " +
                (grid.spec().mask_events_until.empty() ? "end" : grid.spec().mask_events_until)
          : grid.spec().mask_file.filename().string();
  // Sources with a reported/discovered flag also get discovered-only counts (feedback-loop correction).
  int flagged = 0;
  core::runOnRoot(comm, [&] {
    flagged = SourceProfile::load(config.getPath("ingest.profile")).flag_column.empty() ? 0 : 1;
  });
  VIGIE_CHECK_MPI(MPI_Bcast(&flagged, 1, MPI_INT, 0, comm));
  StoreMeta meta{
      summary.categories,
      binning,
      coverage,
      flagged != 0,
      fingerprint + ";" + binning.fingerprint() + ";mask=" + mask_text + ";flags=" + std::to_string(flagged),
      attributes};
  {
    core::ScopedTimer timer("ingest store");
    summary.store =
        ObservationStore::update(grid, h5, meta, records, [&](store::FieldFile& file, const TimeAxis& axis) {
          Covariates::write(file, grid, binning, axis.first_bin, static_cast<int>(axis.nt), covariates);
        });
  }
  for (std::int64_t b = summary.store.axis.first_bin;
       b < summary.store.axis.first_bin + summary.store.axis.nt; ++b) {
    const auto first = floorDiv(binning.binStartCivil(b), 86400);
    const auto last = floorDiv(binning.binStartCivil(b + 1) - 1, 86400);
    if (!coverage.coversAll(first, last)) ++summary.missing_bins;
  }
  // Every rank returns the same summary (rank 0 counted).
  std::int64_t counts[6] = {summary.rows_read,      summary.accepted,       summary.new_events,
                            summary.duplicate_rows, summary.rejected_total, summary.last_event_bin};
  VIGIE_CHECK_MPI(MPI_Bcast(counts, 6, MPI_INT64_T, 0, comm));
  summary.last_event_bin = counts[5];
  summary.rows_read = counts[0];
  summary.accepted = counts[1];
  summary.new_events = counts[2];
  summary.duplicate_rows = counts[3];
  summary.rejected_total = counts[4];
  return summary;
}

std::int64_t IngestPipeline::lastEventBin(const core::Config& config, const grid::CityGrid& grid,
                                          const std::filesystem::path& out) {
  std::int64_t last = -1;
  core::runOnRoot(grid.comm(), [&] {
    const TimeBinning binning(parseBinUnit(config.getString("ingest.bin")),
                              TimeZone(config.getString("ingest.timezone")));
    const Journal journal(out / "obs.journal", journalFingerprint(grid, config.getList("ingest.categories")));
    std::int64_t latest = std::numeric_limits<std::int64_t>::min();
    for (const auto& e : journal.records()) latest = std::max(latest, e.civil_seconds);
    if (journal.size() > 0) last = binning.binOf(latest);
  });
  VIGIE_CHECK_MPI(MPI_Bcast(&last, 1, MPI_INT64_T, 0, grid.comm()));
  return last;
}

std::vector<std::int64_t> IngestPipeline::observedTotals(grid::CityGrid& grid,
                                                         const std::filesystem::path& out) {
  const auto file = store::FieldFile::open(grid.comm(), out / "obs.h5");
  if (grid.maskFromEvents()) {
    const store::Box whole{0, 0, grid.nx(), grid.ny()};
    grid.setMask(file.read2d<std::uint8_t>("/mask", whole));
  }
  const auto& box = grid.ownedBox();
  std::vector<std::int64_t> totals(static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj), 0);
  std::stringstream categories(file.stringAttribute("categories"));
  std::string name;
  while (std::getline(categories, name, ',')) {
    if (name.empty()) continue;
    int nt = 0;
    const auto counts = file.read3d<std::int32_t>("/counts/" + name, box, &nt);
    for (std::size_t k = 0; k < counts.size(); ++k) totals[k % totals.size()] += counts[k];
  }
  return totals;
}

std::string IngestPipeline::describe(const IngestSummary& s) {
  std::ostringstream os;
  os << "ingest: " << s.files.size() << " file(s), " << s.rows_read << " rows read: " << s.accepted
     << " accepted (" << s.new_events << " new), " << s.rejected_total << " rejected";
  for (const auto& [reason, n] : s.rejected)
    os << "\n  rejected " << std::left << std::setw(22) << reason << n;
  os << "\n  exact duplicate rows seen: " << s.duplicate_rows;
  os << "\n  store obs.h5: " << s.store.axis.nt << " bins from " << s.store.first_iso << ", "
     << s.missing_bins << " marked missing, " << s.store.journal_records << " events";
  for (std::size_t c = 0; c < s.categories.size() && c < s.store.totals.size(); ++c)
    os << "\n    " << std::left << std::setw(26) << s.categories[c] << s.store.totals[c];
  return os.str();
}

}  // namespace vigie::ingest
