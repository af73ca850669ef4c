#include "ingest/ObservationStore.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Timer.hpp"
#include "grid/CityGrid.hpp"
#include "store/FieldFile.hpp"

namespace vigie::ingest {

using core::Error;
using core::ExitCode;
using store::Box;
using store::FieldFile;
using store::FieldMeta;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = "vigie.obs/1";
constexpr std::uint16_t kUnknownHour = 0xFFFF;
constexpr std::int64_t kDay = 86400;
// Planes per read-modify-write step of an append: bounds memory at 64 x (own box) values per category.
constexpr int kAppendPlanes = 64;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::int64_t dayOf(std::int64_t civil) {
  return civil >= 0 ? civil / kDay : (civil - (kDay - 1)) / kDay;
}

// The bin holding the last covered day of a closed coverage, or nothing for an open end or no coverage.
bool coverageLastBin(const StoreMeta& meta, std::int64_t* bin) {
  if (meta.coverage.empty()) return false;
  const std::int64_t last_day = meta.coverage.intervals().back().last_day;
  if (last_day == std::numeric_limits<std::int64_t>::max()) return false;
  *bin = meta.binning.binOf((last_day + 1) * kDay - 1);
  return true;
}

std::vector<std::uint8_t> missingFlags(const StoreMeta& meta, const TimeAxis& axis) {
  std::vector<std::uint8_t> missing(static_cast<std::size_t>(axis.nt), 0);
  if (meta.coverage.empty()) return missing;
  for (std::int64_t t = 0; t < axis.nt; ++t) {
    const std::int64_t b = axis.first_bin + t;
    const std::int64_t first_day = dayOf(meta.binning.binStartCivil(b));
    const std::int64_t last_day = dayOf(meta.binning.binStartCivil(b + 1) - 1);
    missing[static_cast<std::size_t>(t)] = meta.coverage.coversAll(first_day, last_day) ? 0 : 1;
  }
  return missing;
}

// Events are trivially copyable and every rank runs the same binary, so they travel as opaque blocks.
class EventType {
 public:
  EventType() {
    VIGIE_CHECK_MPI(MPI_Type_contiguous(static_cast<int>(sizeof(Event)), MPI_BYTE, &m_type));
    VIGIE_CHECK_MPI(MPI_Type_commit(&m_type));
  }
  ~EventType() { MPI_Type_free(&m_type); }
  EventType(const EventType&) = delete;
  EventType& operator=(const EventType&) = delete;
  [[nodiscard]] MPI_Datatype get() const { return m_type; }

 private:
  MPI_Datatype m_type = MPI_DATATYPE_NULL;
};

// Rank 0 sends each of records[begin, end) to the rank owning its cell; returns this rank's events. Bad
// cells or categories are found on rank 0 and thrown on every rank.
std::vector<Event> scatterToOwners(const grid::CityGrid& grid, const std::vector<Event>& records,
                                   std::size_t begin, std::size_t end, std::size_t categories,
                                   const fs::path& path) {
  MPI_Comm comm = grid.comm();
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
  const Box mine = grid.ownedBox();
  const std::array<int, 4> my_box{mine.i0, mine.j0, mine.ni, mine.nj};
  std::vector<int> boxes(static_cast<std::size_t>(4 * size));
  VIGIE_CHECK_MPI(MPI_Allgather(my_box.data(), 4, MPI_INT, boxes.data(), 4, MPI_INT, comm));

  const std::int64_t nx = grid.nx();
  const std::int64_t cells = nx * grid.ny();
  std::vector<Event> ordered;
  std::vector<int> counts(static_cast<std::size_t>(size), 0);
  std::vector<int> displs(static_cast<std::size_t>(size), 0);
  std::array<long long, 2> bad{-1, 0};  // index of the first bad record, and why (1 cell, 2 category)
  if (rank == 0) {
    std::vector<int> owner(static_cast<std::size_t>(cells), -1);
    for (int r = 0; r < size; ++r) {
      const int* b = &boxes[static_cast<std::size_t>(4 * r)];
      for (int j = b[1]; j < b[1] + b[3]; ++j) {
        for (int i = b[0]; i < b[0] + b[2]; ++i) owner[static_cast<std::size_t>(j * nx + i)] = r;
      }
    }
    std::vector<long long> per_rank(static_cast<std::size_t>(size), 0);
    std::vector<int> dest(end - begin);
    for (std::size_t k = begin; k < end && bad[0] < 0; ++k) {
      const Event& e = records[k];
      if (e.cell < 0 || e.cell >= cells || owner[static_cast<std::size_t>(e.cell)] < 0) {
        bad = {static_cast<long long>(k), 1};
      } else if (e.category < 0 || static_cast<std::size_t>(e.category) >= categories) {
        bad = {static_cast<long long>(k), 2};
      } else {
        dest[k - begin] = owner[static_cast<std::size_t>(e.cell)];
        ++per_rank[static_cast<std::size_t>(dest[k - begin])];
      }
    }
    if (bad[0] < 0) {
      long long offset = 0;
      for (int r = 0; r < size; ++r) {
        if (per_rank[static_cast<std::size_t>(r)] > std::numeric_limits<int>::max()) {
          bad = {0, 3};
          break;
        }
        counts[static_cast<std::size_t>(r)] = static_cast<int>(per_rank[static_cast<std::size_t>(r)]);
        displs[static_cast<std::size_t>(r)] = static_cast<int>(offset);
        offset += per_rank[static_cast<std::size_t>(r)];
      }
    }
    if (bad[0] < 0) {
      ordered.resize(end - begin);
      std::vector<int> next(displs);
      for (std::size_t k = begin; k < end; ++k) {
        ordered[static_cast<std::size_t>(next[static_cast<std::size_t>(dest[k - begin])]++)] = records[k];
      }
    }
  }
  VIGIE_CHECK_MPI(MPI_Bcast(bad.data(), 2, MPI_LONG_LONG, 0, comm));
  if (bad[0] >= 0) {
    const char* why = bad[1] == 1   ? "a cell outside the grid"
                      : bad[1] == 2 ? "a category outside ingest.categories"
                                    : "more events for one rank than MPI counts can address";
    throw Error(ExitCode::Internal,
                path.string() + ": journal record " + std::to_string(bad[0] + 1) + " has " + why, true);
  }
  int mine_count = 0;
  VIGIE_CHECK_MPI(MPI_Scatter(counts.data(), 1, MPI_INT, &mine_count, 1, MPI_INT, 0, comm));
  std::vector<Event> local(static_cast<std::size_t>(mine_count));
  const EventType type;
  VIGIE_CHECK_MPI(MPI_Scatterv(ordered.data(), counts.data(), displs.data(), type.get(), local.data(),
                               mine_count, type.get(), 0, comm));
  return local;
}

// Index of an event's cell in the owned box.
std::size_t localIndex(const Event& e, std::int64_t nx, const Box& box) {
  const std::int64_t i = e.cell % nx;
  const std::int64_t j = e.cell / nx;
  return static_cast<std::size_t>((j - box.j0) * box.ni + (i - box.i0));
}

std::array<std::int64_t, 2> binRange(const std::vector<Event>& local, const TimeBinning& binning,
                                     MPI_Comm comm) {
  std::array<std::int64_t, 2> range{std::numeric_limits<std::int64_t>::max(),
                                    std::numeric_limits<std::int64_t>::min()};
  for (const Event& e : local) {
    const std::int64_t b = binning.binOf(e.civil_seconds);
    range[0] = std::min(range[0], b);
    range[1] = std::max(range[1], b);
  }
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &range[0], 1, MPI_INT64_T, MPI_MIN, comm));
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &range[1], 1, MPI_INT64_T, MPI_MAX, comm));
  return range;
}

void writeTimeAxis(FieldFile& file, const StoreMeta& meta, const TimeAxis& axis) {
  std::vector<std::int64_t> starts(static_cast<std::size_t>(axis.nt));
  std::vector<std::string> iso(static_cast<std::size_t>(axis.nt));
  for (std::int64_t t = 0; t < axis.nt; ++t) {
    starts[static_cast<std::size_t>(t)] = meta.binning.binStartUtc(axis.first_bin + t);
    iso[static_cast<std::size_t>(t)] = meta.binning.isoStart(axis.first_bin + t);
  }
  file.write1d<std::int64_t>(
      "/time/bin_start", starts,
      FieldMeta{"seconds since 1970-01-01T00:00:00Z", "UTC start of each time bin", 0});
  file.setObjectAttribute("/time/bin_start", "bin", std::string(binUnitName(meta.binning.unit())));
  file.setObjectAttribute("/time/bin_start", "timezone", meta.binning.zone().name());
  file.writeStrings1d("/time/bin_start_iso", iso);
  file.setObjectAttribute("/time/bin_start_iso", "long_name",
                          std::string("local start of each time bin, ISO 8601 with UTC offset"));
  const auto missing = missingFlags(meta, axis);
  file.write1d<std::uint8_t>(
      "/time/missing", missing,
      FieldMeta{"1 = not covered", "1 = the sources do not cover this bin: unknown, never zero incidents",
                0});
}

std::string joinTotals(const std::vector<std::int64_t>& totals) {
  std::string text;
  for (const auto v : totals) {
    if (!text.empty()) text.push_back(',');
    text.append(std::to_string(v));
  }
  return text;
}

// Per-category totals: kept as the root attribute category_totals (updated by every rebuild and append, so a
// real-time append does not read the whole store back); recounted from the counts when absent.
std::vector<std::int64_t> categoryTotals(FieldFile& file, const StoreMeta& meta, const Box& box,
                                         const TimeAxis& axis, MPI_Comm comm) {
  std::vector<std::int64_t> totals(meta.categories.size(), 0);
  if (file.hasAttribute("category_totals")) {
    std::stringstream ss(file.stringAttribute("category_totals"));
    std::string item;
    std::size_t c = 0;
    while (std::getline(ss, item, ',') && c < totals.size()) totals[c++] = std::stoll(item);
    if (c == totals.size()) return totals;
    std::fill(totals.begin(), totals.end(), 0);
  }
  for (std::size_t c = 0; c < meta.categories.size(); ++c) {
    for (std::int64_t t0 = 0; t0 < axis.nt; t0 += kAppendPlanes) {
      const int n = static_cast<int>(std::min<std::int64_t>(kAppendPlanes, axis.nt - t0));
      const auto slab =
          file.readSlab3d<std::int32_t>("/counts/" + meta.categories[c], static_cast<int>(t0), n, box);
      for (const std::int32_t v : slab) totals[c] += v;
    }
  }
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, totals.data(), static_cast<int>(totals.size()), MPI_INT64_T,
                                MPI_SUM, comm));
  return totals;
}

void writeRootAttributes(FieldFile& file, const StoreMeta& meta, const TimeAxis& axis) {
  file.setAttribute("schema", std::string(kSchema));
  file.setAttribute("categories", joined(meta.categories));
  file.setAttribute("bin", std::string(binUnitName(meta.binning.unit())));
  file.setAttribute("timezone", meta.binning.zone().name());
  file.setAttribute("first_bin", axis.first_bin);
  file.setAttribute("fingerprint", ObservationStore::storeFingerprint(meta));
  for (const auto& [name, value] : meta.attributes) file.setAttribute(name, value);
}

const FieldMeta kCountsMeta{"events", "accepted events per time bin and cell", 0};
const FieldMeta kDiscoveredMeta{"events",
                                "accepted events flagged as discovered by patrols, per bin and cell", 0};
const FieldMeta kProfileMeta{"events", "accepted events with a known hour, by local hour of day", 0};

void markCounts(FieldFile& file, const std::string& name) {
  file.setObjectAttribute(name, "row_order", std::string("row 0 is the southern edge"));
}

StoreSummary rebuild(const grid::CityGrid& grid, const fs::path& path, const StoreMeta& meta,
                     const std::vector<Event>& records, std::int64_t journal_records,
                     const ObservationStore::ExtraWriter& extra) {
  MPI_Comm comm = grid.comm();
  const Box box = grid.ownedBox();
  const auto local = scatterToOwners(grid, records, 0, static_cast<std::size_t>(journal_records),
                                     meta.categories.size(), path);
  auto range = binRange(local, meta.binning, comm);
  if (!meta.coverage.empty()) {
    range[0] = std::min(range[0], meta.binning.binOfDay(meta.coverage.intervals().front().first_day));
    std::int64_t last = 0;
    if (coverageLastBin(meta, &last)) range[1] = std::max(range[1], last);
  }
  TimeAxis axis;
  if (range[0] <= range[1]) axis = TimeAxis{range[0], range[1] - range[0] + 1};
  if (axis.nt > std::numeric_limits<int>::max()) {
    throw Error(ExitCode::Usage, path.string() + ": " + std::to_string(axis.nt) + " time bins are too many",
                true);
  }

  auto file = FieldFile::create(comm, path, grid.geometry());
  file.setAttribute("dirty", std::int64_t{1});
  file.write2d<std::uint8_t>("/mask", box, grid.ownedMask(),
                             FieldMeta{"1 = inside", "study area mask: 1 inside, 0 outside", 0});
  writeTimeAxis(file, meta, axis);

  const std::size_t cells = static_cast<std::size_t>(box.cells());
  const std::int64_t nx = grid.nx();
  std::vector<std::int32_t> counts;
  std::vector<std::int32_t> profile(24 * cells);
  std::vector<std::int64_t> totals(meta.categories.size(), 0);
  for (std::size_t c = 0; c < meta.categories.size(); ++c) {
    // One category at a time keeps memory at nt x (own box) values.
    counts.assign(static_cast<std::size_t>(axis.nt) * cells, 0);
    std::fill(profile.begin(), profile.end(), 0);
    for (const Event& e : local) {
      if (static_cast<std::size_t>(e.category) != c) continue;
      const auto t = static_cast<std::size_t>(meta.binning.binOf(e.civil_seconds) - axis.first_bin);
      const std::size_t at = localIndex(e, nx, box);
      ++counts[t * cells + at];
      ++totals[c];
      if (e.hour_of_day < 24) ++profile[e.hour_of_day * cells + at];
    }
    const std::string name = "/counts/" + meta.categories[c];
    {
      core::ScopedTimer timer("store counts write");
      file.create3dExtendible<std::int32_t>(name, static_cast<int>(axis.nt), box, counts, kCountsMeta);
    }
    markCounts(file, name);
    const std::string prof = "/profiles/hour_of_day/" + meta.categories[c];
    file.write3d<std::int32_t>(prof, 24, box, profile, kProfileMeta);
    markCounts(file, prof);
    if (meta.flagged) {
      // Discovered (patrol-found) events apart: the feedback-loop correction needs them (Ensign et al. 2018).
      counts.assign(static_cast<std::size_t>(axis.nt) * cells, 0);
      for (const Event& e : local) {
        if (static_cast<std::size_t>(e.category) != c || e.flag != EventFlag::Discovered) continue;
        const auto t = static_cast<std::size_t>(meta.binning.binOf(e.civil_seconds) - axis.first_bin);
        ++counts[t * cells + localIndex(e, nx, box)];
      }
      const std::string disc = "/counts_discovered/" + meta.categories[c];
      file.create3dExtendible<std::int32_t>(disc, static_cast<int>(axis.nt), box, counts, kDiscoveredMeta);
      markCounts(file, disc);
    }
  }
  writeRootAttributes(file, meta, axis);
  if (extra) {
    core::ScopedTimer timer("store covariates");
    extra(file, axis);
  }
  file.setAttribute("journal_records", journal_records);
  file.setAttribute("dirty", std::int64_t{0});

  StoreSummary summary;
  summary.axis = axis;
  summary.first_iso = axis.nt > 0 ? meta.binning.isoStart(axis.first_bin) : "";
  // Totals from the counts just made (each event counted once, on the rank owning its cell).
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, totals.data(), static_cast<int>(totals.size()), MPI_INT64_T,
                                MPI_SUM, comm));
  summary.totals = totals;
  file.setAttribute("category_totals", joinTotals(totals));
  summary.events_counted = journal_records;
  summary.journal_records = journal_records;
  summary.rebuilt = true;
  core::ScopedTimer commit_timer("store commit");
  file.commit();
  return summary;
}

// Why an existing store cannot be appended to ("" when it can); sets the stored axis and record count.
std::string appendProblem(const FieldFile& file, const grid::CityGrid& grid, const StoreMeta& meta,
                          std::int64_t journal_records, TimeAxis* axis, std::int64_t* stored_records) {
  if (!file.hasAttribute("schema") || file.stringAttribute("schema") != kSchema)
    return "not an observation store";
  if (file.stringAttribute("fingerprint") != ObservationStore::storeFingerprint(meta)) {
    return "written for another grid, binning, coverage or category list";
  }
  const auto g = file.geometry();
  const auto want = grid.geometry();
  if (g.nx != want.nx || g.ny != want.ny || g.x0 != want.x0 || g.y0 != want.y0 || g.cell_m != want.cell_m ||
      g.epsg != want.epsg) {
    return "its grid geometry differs";
  }
  if (file.intAttribute("dirty") != 0) return "an earlier update did not finish (dirty = 1)";
  *stored_records = file.intAttribute("journal_records");
  if (*stored_records > journal_records) return "it counts more records than the journal holds";
  axis->first_bin = file.intAttribute("first_bin");
  const auto time_shape = file.shape("/time/bin_start");
  axis->nt = time_shape.empty() ? 0 : time_shape[0];
  for (const auto& c : meta.categories) {
    if (!file.hasField("/counts/" + c) || file.shape("/counts/" + c)[0] != axis->nt) {
      return "counts of '" + c + "' are absent or disagree with the time axis";
    }
    if (meta.flagged &&
        (!file.hasField("/counts_discovered/" + c) || file.shape("/counts_discovered/" + c)[0] != axis->nt)) {
      return "discovered counts of '" + c + "' are absent or disagree with the time axis";
    }
  }
  // An event-derived study area grows when new training-period events arrive: the counts and the mask must
  // stay consistent, so a changed mask means a rebuild.
  const auto stored_mask = file.read2d<std::uint8_t>("/mask", grid.ownedBox());
  int differs = stored_mask != grid.ownedMask() ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &differs, 1, MPI_INT, MPI_MAX, grid.comm()));
  if (differs != 0) return "the study-area mask changed";
  return {};
}

StoreSummary append(FieldFile& file, const grid::CityGrid& grid, const StoreMeta& meta,
                    const std::vector<Event>& records, std::int64_t stored_records,
                    std::int64_t journal_records, TimeAxis axis, const ObservationStore::ExtraWriter& extra) {
  MPI_Comm comm = grid.comm();
  const Box box = grid.ownedBox();
  const auto local =
      scatterToOwners(grid, records, static_cast<std::size_t>(stored_records),
                      static_cast<std::size_t>(journal_records), meta.categories.size(), file.path());
  // The dirty flag reaches the disk before any count changes: a crash from here on forces a rebuild.
  file.setAttribute("dirty", std::int64_t{1});
  file.flush();

  const auto range = binRange(local, meta.binning, comm);
  const bool any = range[0] <= range[1];
  const std::int64_t new_last =
      any ? std::max(axis.first_bin + axis.nt - 1, range[1]) : axis.first_bin + axis.nt - 1;
  const TimeAxis grown{axis.first_bin, new_last - axis.first_bin + 1};
  if (grown.nt > axis.nt) {
    for (const auto& c : meta.categories) {
      file.extend3d("/counts/" + c, static_cast<int>(grown.nt));
      if (meta.flagged) file.extend3d("/counts_discovered/" + c, static_cast<int>(grown.nt));
    }
    writeTimeAxis(file, meta, grown);
  }

  std::vector<std::int64_t> added(meta.categories.size(), 0);
  for (const Event& e : local) ++added[static_cast<std::size_t>(e.category)];
  VIGIE_CHECK_MPI(
      MPI_Allreduce(MPI_IN_PLACE, added.data(), static_cast<int>(added.size()), MPI_INT64_T, MPI_SUM, comm));
  auto totals = categoryTotals(file, meta, box, axis, comm);
  for (std::size_t c = 0; c < totals.size(); ++c) totals[c] += added[c];
  if (any) {
    const std::size_t cells = static_cast<std::size_t>(box.cells());
    const std::int64_t nx = grid.nx();
    for (std::size_t c = 0; c < meta.categories.size(); ++c)
      for (const bool discovered_only : {false, true}) {
        if (discovered_only && !meta.flagged) continue;
        const std::string name = (discovered_only ? "/counts_discovered/" : "/counts/") + meta.categories[c];
        for (std::int64_t t0 = range[0] - grown.first_bin; t0 <= range[1] - grown.first_bin;
             t0 += kAppendPlanes) {
          const int n =
              static_cast<int>(std::min<std::int64_t>(kAppendPlanes, range[1] - grown.first_bin - t0 + 1));
          auto slab = file.readSlab3d<std::int32_t>(name, static_cast<int>(t0), n, box);
          for (const Event& e : local) {
            if (static_cast<std::size_t>(e.category) != c) continue;
            if (discovered_only && e.flag != EventFlag::Discovered) continue;
            const std::int64_t t = meta.binning.binOf(e.civil_seconds) - grown.first_bin - t0;
            if (t < 0 || t >= n) continue;
            ++slab[static_cast<std::size_t>(t) * cells + localIndex(e, nx, box)];
          }
          file.writeSlab3d<std::int32_t>(name, static_cast<int>(t0), n, box, slab);
        }
        if (discovered_only) continue;
        const std::string prof = "/profiles/hour_of_day/" + meta.categories[c];
        auto profile = file.readSlab3d<std::int32_t>(prof, 0, 24, box);
        for (const Event& e : local) {
          if (static_cast<std::size_t>(e.category) == c && e.hour_of_day < 24) {
            ++profile[e.hour_of_day * cells + localIndex(e, nx, box)];
          }
        }
        file.writeSlab3d<std::int32_t>(prof, 0, 24, box, profile);
      }
  }
  writeRootAttributes(file, meta, grown);
  file.setAttribute("category_totals", joinTotals(totals));
  if (extra) extra(file, grown);
  file.setAttribute("journal_records", journal_records);
  file.setAttribute("dirty", std::int64_t{0});
  file.flush();

  StoreSummary summary;
  summary.axis = grown;
  summary.first_iso = grown.nt > 0 ? meta.binning.isoStart(grown.first_bin) : "";
  summary.totals = totals;
  summary.events_counted = journal_records - stored_records;
  summary.journal_records = journal_records;
  return summary;
}

}  // namespace

std::string ObservationStore::storeFingerprint(const StoreMeta& meta) {
  std::string text = meta.fingerprint + ";coverage=";
  for (const auto& iv : meta.coverage.intervals()) {
    text += std::to_string(iv.first_day) + "/" +
            (iv.last_day == std::numeric_limits<std::int64_t>::max() ? "" : std::to_string(iv.last_day)) +
            " ";
  }
  return text;
}

StoreSummary ObservationStore::update(const grid::CityGrid& grid, const fs::path& path, const StoreMeta& meta,
                                      const std::vector<Event>& records, const ExtraWriter& extra) {
  MPI_Comm comm = grid.comm();
  std::int64_t journal_records = static_cast<std::int64_t>(records.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&journal_records, 1, MPI_INT64_T, 0, comm));

  int exists = 0;
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) exists = fs::is_regular_file(path) ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (exists != 0) {
    std::string problem;
    TimeAxis axis;
    std::int64_t stored = 0;
    std::optional<FieldFile> file;
    try {
      file.emplace(FieldFile::openReadWrite(comm, path));
      problem = appendProblem(*file, grid, meta, journal_records, &axis, &stored);
    } catch (const Error& e) {
      problem = std::string("unreadable (") + e.what() + ")";
    }
    if (problem.empty() && stored < journal_records) {
      // New events before the first stored bin would need the axis to grow backwards: rebuild instead.
      std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
      if (rank == 0) {
        for (std::size_t k = static_cast<std::size_t>(stored); k < records.size(); ++k) {
          earliest = std::min(earliest, meta.binning.binOf(records[k].civil_seconds));
        }
      }
      VIGIE_CHECK_MPI(MPI_Bcast(&earliest, 1, MPI_INT64_T, 0, comm));
      if (earliest < axis.first_bin) problem = "new events precede its first time bin";
    }
    if (problem.empty()) {
      if (stored == journal_records) {
        StoreSummary summary;
        summary.axis = axis;
        summary.first_iso = axis.nt > 0 ? meta.binning.isoStart(axis.first_bin) : "";
        summary.totals = categoryTotals(*file, meta, grid.ownedBox(), axis, comm);
        summary.journal_records = journal_records;
        return summary;
      }
      auto summary = append(*file, grid, meta, records, stored, journal_records, axis, extra);
      file->commit();
      return summary;
    }
    file.reset();
    VIGIE_LOG_INFO(path.string() << ": rebuilding the observation store from the journal: " << problem);
  }
  return rebuild(grid, path, meta, records, journal_records, extra);
}

bool ObservationStore::isUpToDate(MPI_Comm comm, const fs::path& path, const StoreMeta& meta,
                                  std::int64_t journal_records) {
  int exists = 0;
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) exists = fs::is_regular_file(path) ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (exists == 0) return false;
  try {
    const auto file = FieldFile::open(comm, path);
    return file.hasAttribute("schema") && file.stringAttribute("schema") == kSchema &&
           file.stringAttribute("fingerprint") == storeFingerprint(meta) && file.intAttribute("dirty") == 0 &&
           file.intAttribute("journal_records") == journal_records;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace vigie::ingest
