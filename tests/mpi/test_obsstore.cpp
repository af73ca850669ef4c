// The observation store at 1, 2 and 4 ranks: counts read back over the whole grid equal a serial recount
// done here with plain day arithmetic (so the same expectations hold at every rank count); appends grow the
// time axis; a store left dirty is rebuilt; coverage gaps are flagged missing; hour-of-day profiles.
#include <gtest/gtest.h>
#include <mpi.h>
#include "../support/MpiTest.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/Event.hpp"
#include "ingest/ObservationStore.hpp"
#include "ingest/TimeBinning.hpp"
#include "store/FieldFile.hpp"

namespace fs = std::filesystem;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::ingest::BinUnit;
using vigie::ingest::CivilTime;
using vigie::ingest::Coverage;
using vigie::ingest::Event;
using vigie::ingest::ObservationStore;
using vigie::ingest::StoreMeta;
using vigie::ingest::TimeBinning;
using vigie::ingest::TimeZone;
using vigie::store::Box;
using vigie::store::FieldFile;

namespace {

using vigie::testing::commRank;
using vigie::testing::commSize;

constexpr int kNx = 23;
constexpr int kNy = 17;
const std::vector<std::string> kCategories{"theft", "assault", "other"};

fs::path outputDir(const std::string& name) {
  const fs::path d =
      fs::path(VIGIE_BINARY_DIR) / "test-output" / ("obsstore-np" + std::to_string(commSize())) / name;
  if (commRank() == 0) {
    fs::remove_all(d);
    fs::create_directories(d);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return d;
}

GridSpec lattice() {
  GridSpec s;
  s.nx = kNx;
  s.ny = kNy;
  s.cell = 100.0;
  return s;
}

StoreMeta meta(const std::vector<std::string>& coverage) {
  return StoreMeta{
      kCategories, TimeBinning(BinUnit::Day, TimeZone("Europe/Paris")), Coverage::parse(coverage),
      true,        "test-store;categories=theft,assault,other",         {{"source", "synthetic"}}};
}

std::int64_t dayNumber(int y, int m, int d) {
  return vigie::ingest::daysFromCivil(y, m, d);
}

// Deterministic synthetic events on days [first_day, first_day + days) skipping [skip_from, skip_to).
std::vector<Event> synthetic(int n, std::int64_t first_day, int days, std::uint64_t seed,
                             std::int64_t skip_from = 0, std::int64_t skip_to = 0) {
  std::vector<Event> out;
  std::uint64_t s = seed;
  const auto next = [&s]() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  };
  while (static_cast<int>(out.size()) < n) {
    Event e;
    const std::int64_t day = first_day + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(days));
    if (day >= skip_from && day < skip_to) continue;
    const auto minute = static_cast<std::int64_t>(next() % 1440);
    e.civil_seconds = day * 86400 + minute * 60;
    // Clustered cells, so some cells hold several events in one bin.
    e.cell = static_cast<std::int64_t>(next() % 40 == 0 ? 5 * kNx + 7 : next() % (kNx * kNy));
    e.category = static_cast<std::int32_t>(next() % kCategories.size());
    e.hour_of_day = out.size() % 7 == 0 ? 0xFFFF : static_cast<std::uint16_t>(minute / 60);
    e.flag = static_cast<vigie::ingest::EventFlag>(next() % 3);
    e.key_hi = seed;
    e.key_lo = out.size();
    out.push_back(e);
  }
  return out;
}

// Serial recount with plain integer day arithmetic: [category][t][j][i].
std::vector<std::vector<std::int32_t>> recount(const std::vector<Event>& events, std::int64_t first_day,
                                               std::int64_t nt, bool discovered_only = false) {
  std::vector<std::vector<std::int32_t>> counts(
      kCategories.size(), std::vector<std::int32_t>(static_cast<std::size_t>(nt) * kNx * kNy));
  for (const Event& e : events) {
    if (discovered_only && e.flag != vigie::ingest::EventFlag::Discovered) continue;
    const std::int64_t t = e.civil_seconds / 86400 - first_day;
    counts[static_cast<std::size_t>(e.category)][static_cast<std::size_t>(t * kNx * kNy + e.cell)] += 1;
  }
  return counts;
}

std::vector<std::vector<std::int32_t>> hourRecount(const std::vector<Event>& events) {
  std::vector<std::vector<std::int32_t>> counts(kCategories.size(),
                                                std::vector<std::int32_t>(24 * kNx * kNy));
  for (const Event& e : events) {
    if (e.hour_of_day == 0xFFFF) continue;
    counts[static_cast<std::size_t>(e.category)]
          [static_cast<std::size_t>(e.hour_of_day * kNx * kNy + e.cell)] += 1;
  }
  return counts;
}

void expectCounts(const fs::path& path, const std::vector<Event>& events, std::int64_t first_day,
                  std::int64_t nt) {
  const auto want = recount(events, first_day, nt);
  const auto want_discovered = recount(events, first_day, nt, true);
  const auto want_hours = hourRecount(events);
  const auto file = FieldFile::open(MPI_COMM_WORLD, path);
  const Box whole{0, 0, kNx, kNy};
  for (std::size_t c = 0; c < kCategories.size(); ++c) {
    int got_nt = 0;
    const auto got = file.read3d<std::int32_t>("/counts/" + kCategories[c], whole, &got_nt);
    EXPECT_EQ(got_nt, nt) << kCategories[c];
    EXPECT_TRUE(got == want[c]) << kCategories[c] << ": counts differ from the serial recount";
    const auto disc = file.read3d<std::int32_t>("/counts_discovered/" + kCategories[c], whole, &got_nt);
    EXPECT_TRUE(disc == want_discovered[c]) << kCategories[c] << ": discovered counts differ";
    const auto hours = file.read3d<std::int32_t>("/profiles/hour_of_day/" + kCategories[c], whole, &got_nt);
    EXPECT_EQ(got_nt, 24);
    EXPECT_TRUE(hours == want_hours[c]) << kCategories[c] << ": hour-of-day profile differs";
  }
}

std::vector<Event> onRank0(const std::vector<Event>& events) {
  return commRank() == 0 ? events : std::vector<Event>{};
}

}  // namespace

TEST(ObservationStore, BuildMatchesSerialRecountAndFlagsCoverageGaps) {
  const CityGrid grid(MPI_COMM_WORLD, lattice());
  const fs::path path = outputDir("build") / "obs.h5";
  // Covered: Jan 1-10 and Jan 15-31; Jan 11-14 is a gap in the source.
  const auto m = meta({"2018-01-01/2018-01-10", "2018-01-15/2018-01-31"});
  const std::int64_t jan1 = dayNumber(2018, 1, 1);
  const auto events = synthetic(4000, jan1, 31, 11, jan1 + 10, jan1 + 14);

  const auto summary = ObservationStore::update(grid, path, m, onRank0(events));
  EXPECT_TRUE(summary.rebuilt);
  EXPECT_EQ(summary.axis.first_bin, jan1);
  EXPECT_EQ(summary.axis.nt, 31);
  EXPECT_EQ(summary.first_iso, "2018-01-01T00:00+01:00");
  EXPECT_EQ(summary.events_counted, 4000);
  EXPECT_EQ(summary.journal_records, 4000);
  std::vector<std::int64_t> totals(kCategories.size(), 0);
  for (const Event& e : events) ++totals[static_cast<std::size_t>(e.category)];
  EXPECT_EQ(summary.totals, totals);
  expectCounts(path, events, jan1, 31);

  const auto file = FieldFile::open(MPI_COMM_WORLD, path);
  EXPECT_EQ(file.stringAttribute("schema"), "vigie.obs/1");
  EXPECT_EQ(file.stringAttribute("categories"), "theft,assault,other");
  EXPECT_EQ(file.intAttribute("dirty"), 0);
  EXPECT_EQ(file.intAttribute("journal_records"), 4000);
  EXPECT_EQ(file.stringAttribute("source"), "synthetic");
  EXPECT_EQ(file.objectStringAttribute("/counts/theft", "units"), "events");
  EXPECT_EQ(file.objectStringAttribute("/time/bin_start", "timezone"), "Europe/Paris");
  const auto missing = file.read1d<std::uint8_t>("/time/missing");
  ASSERT_EQ(missing.size(), 31U);
  for (int t = 0; t < 31; ++t)
    EXPECT_EQ(missing[static_cast<std::size_t>(t)], (t >= 10 && t < 14) ? 1 : 0) << t;
  const auto starts = file.read1d<std::int64_t>("/time/bin_start");
  ASSERT_EQ(starts.size(), 31U);
  EXPECT_EQ(starts[0], jan1 * 86400 - 3600);  // local midnight in winter is 23:00Z the day before
  const auto iso = file.readStrings1d("/time/bin_start_iso");
  EXPECT_EQ(iso[30], "2018-01-31T00:00+01:00");
  const auto mask = file.read2d<std::uint8_t>("/mask", Box{0, 0, kNx, kNy});
  EXPECT_EQ(mask.size(), static_cast<std::size_t>(kNx * kNy));

  EXPECT_TRUE(ObservationStore::isUpToDate(MPI_COMM_WORLD, path, m, 4000));
  EXPECT_FALSE(ObservationStore::isUpToDate(MPI_COMM_WORLD, path, m, 4001));
  EXPECT_FALSE(ObservationStore::isUpToDate(MPI_COMM_WORLD, path, meta({"2018-01-01/"}), 4000));
  EXPECT_FALSE(ObservationStore::isUpToDate(MPI_COMM_WORLD, outputDir("none") / "obs.h5", m, 0));
}

TEST(ObservationStore, AppendGrowsTheTimeAxisInPlace) {
  const CityGrid grid(MPI_COMM_WORLD, lattice());
  const fs::path path = outputDir("append") / "obs.h5";
  const auto m = meta({"2018-01-01/"});
  const std::int64_t jan1 = dayNumber(2018, 1, 1);
  auto journal = synthetic(1500, jan1, 31, 21);
  const auto first = ObservationStore::update(grid, path, m, onRank0(journal));
  EXPECT_TRUE(first.rebuilt);
  EXPECT_EQ(first.axis.nt, 31);

  // February arrives, plus a few late January reports.
  const auto feb = synthetic(900, jan1 + 31, 28, 22);
  const auto late = synthetic(100, jan1 + 20, 11, 23);
  journal.insert(journal.end(), feb.begin(), feb.end());
  journal.insert(journal.end(), late.begin(), late.end());
  const auto second = ObservationStore::update(grid, path, m, onRank0(journal));
  EXPECT_FALSE(second.rebuilt);
  EXPECT_EQ(second.axis.first_bin, jan1);
  EXPECT_EQ(second.axis.nt, 59);
  EXPECT_EQ(second.events_counted, 1000);
  EXPECT_EQ(second.journal_records, 2500);
  expectCounts(path, journal, jan1, 59);
  {
    const auto file = FieldFile::open(MPI_COMM_WORLD, path);
    EXPECT_EQ(file.intAttribute("dirty"), 0);
    EXPECT_EQ(file.intAttribute("journal_records"), 2500);
    EXPECT_EQ(file.read1d<std::int64_t>("/time/bin_start").size(), 59U);
    EXPECT_EQ(file.readStrings1d("/time/bin_start_iso").back(), "2018-02-28T00:00+01:00");
    EXPECT_EQ(file.read1d<std::uint8_t>("/time/missing"), std::vector<std::uint8_t>(59, 0));
  }
  EXPECT_NE(std::string::npos, [&] {
    std::string xml;
    if (commRank() == 0) {
      std::ifstream in(path.string() + ".xmf");
      xml.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    int n = static_cast<int>(xml.size());
    MPI_Bcast(&n, 1, MPI_INT, 0, MPI_COMM_WORLD);
    xml.resize(static_cast<std::size_t>(n));
    MPI_Bcast(xml.data(), n, MPI_CHAR, 0, MPI_COMM_WORLD);
    return xml.find("Dimensions=\"59 17 23\"");
  }());

  // The same journal again: nothing to do.
  const auto third = ObservationStore::update(grid, path, m, onRank0(journal));
  EXPECT_FALSE(third.rebuilt);
  EXPECT_EQ(third.events_counted, 0);
  EXPECT_EQ(third.totals, second.totals);

  // An event older than the first bin cannot be appended in place: the store is rebuilt around it.
  const auto december = synthetic(5, jan1 - 3, 3, 24);
  journal.insert(journal.end(), december.begin(), december.end());
  const auto fourth = ObservationStore::update(grid, path, m, onRank0(journal));
  EXPECT_TRUE(fourth.rebuilt);
  std::int64_t earliest = jan1;
  for (const Event& e : december) earliest = std::min(earliest, e.civil_seconds / 86400);
  ASSERT_LT(earliest, jan1);
  EXPECT_EQ(fourth.axis.first_bin, earliest);
  expectCounts(path, journal, earliest, jan1 + 59 - earliest);
}

TEST(ObservationStore, DirtyStoreIsRebuiltFromTheJournal) {
  const CityGrid grid(MPI_COMM_WORLD, lattice());
  const fs::path path = outputDir("dirty") / "obs.h5";
  const auto m = meta({"2018-03-01/2018-03-31"});
  const std::int64_t mar1 = dayNumber(2018, 3, 1);
  auto journal = synthetic(2000, mar1, 31, 31);
  (void)ObservationStore::update(grid, path, m, onRank0(journal));

  // A crash in the middle of an append: dirty set, some counts already added, journal_records not updated.
  {
    auto file = FieldFile::openReadWrite(MPI_COMM_WORLD, path);
    file.setAttribute("dirty", std::int64_t{1});
    const Box box = grid.ownedBox();
    auto slab = file.readSlab3d<std::int32_t>("/counts/theft", 24, 1, box);
    for (auto& v : slab) v += 3;
    file.writeSlab3d<std::int32_t>("/counts/theft", 24, 1, box, slab);
    file.commit();
  }
  const auto more = synthetic(300, mar1 + 20, 11, 32);
  journal.insert(journal.end(), more.begin(), more.end());
  const auto summary = ObservationStore::update(grid, path, m, onRank0(journal));
  EXPECT_TRUE(summary.rebuilt);
  EXPECT_EQ(summary.journal_records, 2300);
  expectCounts(path, journal, mar1, 31);
  // March 25 has 23 hours; the time axis still has one bin per local day.
  const auto file = FieldFile::open(MPI_COMM_WORLD, path);
  const auto starts = file.read1d<std::int64_t>("/time/bin_start");
  EXPECT_EQ(starts[25] - starts[24], 23 * 3600);
  EXPECT_EQ(file.intAttribute("dirty"), 0);
}

TEST(ObservationStore, ChangedCaseRebuildsAndBadRecordsThrowEverywhere) {
  const CityGrid grid(MPI_COMM_WORLD, lattice());
  const fs::path path = outputDir("changed") / "obs.h5";
  const std::int64_t jan1 = dayNumber(2018, 1, 1);
  const auto journal = synthetic(500, jan1, 10, 41);
  (void)ObservationStore::update(grid, path, meta({"2018-01-01/"}), onRank0(journal));
  // Another coverage changes the missing flags: the store is rebuilt, not appended to.
  const auto summary = ObservationStore::update(grid, path, meta({"2017-12-25/"}), onRank0(journal));
  EXPECT_TRUE(summary.rebuilt);
  EXPECT_EQ(summary.axis.first_bin, jan1 - 7);
  expectCounts(path, journal, jan1 - 7, 17);

  auto bad = journal;
  bad.back().cell = kNx * kNy;  // one past the last cell
  EXPECT_THROW((void)ObservationStore::update(grid, outputDir("bad") / "obs.h5", meta({}), onRank0(bad)),
               vigie::core::Error);
  bad.back().cell = 0;
  bad.back().category = 3;
  EXPECT_THROW((void)ObservationStore::update(grid, outputDir("bad2") / "obs.h5", meta({}), onRank0(bad)),
               vigie::core::Error);
}
