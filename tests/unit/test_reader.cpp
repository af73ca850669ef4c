// The event reader: profiles, every field of parsed events, every reject reason, duplicates, gzip, bad files
// and the rejects log. Small hand-made files under tests/data/ingest (made-up values, no real addresses).
#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Event.hpp"
#include "ingest/EventReader.hpp"
#include "ingest/RejectLog.hpp"
#include "ingest/SourceProfile.hpp"

namespace {

namespace fs = std::filesystem;
using vigie::core::Error;
using vigie::core::ExitCode;
using namespace vigie::ingest;

const fs::path kData = fs::path(VIGIE_SOURCE_DIR) / "tests/data/ingest";
const fs::path kVpdProfile = fs::path(VIGIE_SOURCE_DIR) / "inputs/vancouver/vpd.profile.ini";
const fs::path kBaacProfile = fs::path(VIGIE_SOURCE_DIR) / "inputs/marseille/baac.profile.ini";

const std::vector<std::string> kVancouverCategories = {"theft",
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

// 10 km x 5 km of 100 m cells in UTM 10N, south-west corner (490000, 5455000).
vigie::grid::GridSpec vancouverSpec() {
  vigie::grid::GridSpec s;
  s.epsg = 26910;
  s.x0 = 490000;
  s.y0 = 5455000;
  s.cell = 100;
  s.nx = 100;
  s.ny = 50;
  return s;
}

// Lambert-93 over Marseille, 500 m cells.
vigie::grid::GridSpec marseilleSpec() {
  vigie::grid::GridSpec s;
  s.epsg = 2154;
  s.x0 = 881100;
  s.y0 = 6232800;
  s.cell = 500;
  s.nx = 50;
  s.ny = 51;
  return s;
}

fs::path scratchDir(const std::string& name) {
  const auto dir = fs::path(VIGIE_BINARY_DIR) / "test_reader_scratch" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A copy of `profile` with `from` replaced by `to` (one occurrence must exist), written under `dir`.
fs::path editedProfile(const fs::path& profile, const fs::path& dir, const std::string& from,
                       const std::string& to) {
  auto text = slurp(profile);
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  const auto out = dir / profile.filename();
  std::ofstream(out, std::ios::binary) << text;
  return out;
}

std::int64_t civil(int y, int mo, int d, int h, int mi) {
  return civilSeconds(CivilTime{y, mo, d, h, mi});
}

// Accepted events of the good VPD snippet by their line: the reader keeps file order, so the n-th accepted
// line is events[n].
const std::vector<std::int64_t> kAcceptedLines = {2, 3, 9, 11, 12, 13, 16, 20};

TEST(SourceProfile, LoadsTheShippedProfiles) {
  const auto vpd = SourceProfile::load(kVpdProfile);
  EXPECT_EQ(vpd.time_mode, TimeMode::DateTime);
  EXPECT_EQ(vpd.time_column, "DATETIME");
  EXPECT_EQ(vpd.precision, TimePrecision::Minute);
  EXPECT_TRUE(vpd.midnight_unknown);
  EXPECT_EQ(vpd.location_mode, LocationMode::Xy);
  EXPECT_EQ(vpd.crs_epsg, 26910);
  EXPECT_TRUE(vpd.withheld_zero);
  EXPECT_EQ(vpd.duplicates, DuplicatePolicy::Keep);
  ASSERT_EQ(vpd.category_map.size(), 11U);
  EXPECT_EQ(vpd.category_map[10].source, "Homicide");
  EXPECT_EQ(vpd.category_map[10].target, "homicide");
  EXPECT_EQ(vpd.category_map[4].source, "Break and Enter Commercial");

  const auto baac = SourceProfile::load(kBaacProfile);
  EXPECT_EQ(baac.time_mode, TimeMode::Columns);
  EXPECT_EQ(baac.year_fixed, 2018);
  EXPECT_EQ(baac.month_column, "mois");
  EXPECT_EQ(baac.hhmm_column, "hrmn");
  EXPECT_TRUE(baac.day_column.empty());
  EXPECT_EQ(baac.precision, TimePrecision::Month);
  EXPECT_EQ(baac.location_mode, LocationMode::LonLat);
  EXPECT_EQ(baac.crs_epsg, 4326);
  EXPECT_EQ(baac.category_fixed, "road_injury");
}

TEST(SourceProfile, ErrorsNameFileAndLine) {
  const auto dir = scratchDir("profile_errors");
  // An unknown key.
  const auto typo = editedProfile(kVpdProfile, dir, "withheld_zero = true", "withheld_zeros = true");
  try {
    (void)SourceProfile::load(typo);
    FAIL() << "an unknown key must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    EXPECT_NE(std::string(e.what()).find("vpd.profile.ini:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("withheld_zeros"), std::string::npos) << e.what();
  }
  // A precision finer than the fields: minute precision from a format without minutes.
  const auto coarse = editedProfile(kVpdProfile, dir, "format = %Y-%m-%dT%H:%M", "format = %Y-%m-%d");
  try {
    (void)SourceProfile::load(coarse);
    FAIL() << "minute precision without minutes must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    EXPECT_TRUE(
        std::regex_search(std::string(e.what()), std::regex(R"(vpd\.profile\.ini:\d+: time\.precision)")))
        << e.what();
  }
}

TEST(EventReader, MapToUnknownCategoryIsAUsageErrorWithLine) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const auto profile = SourceProfile::load(kVpdProfile);
  auto cats = kVancouverCategories;
  cats.pop_back();  // no "homicide"
  int map_line = 0;
  {
    std::ifstream in(kVpdProfile);
    std::string l;
    for (int n = 1; std::getline(in, l); ++n)
      if (l.rfind("map =", 0) == 0) map_line = n;
  }
  ASSERT_GT(map_line, 0);
  try {
    EventReader reader(profile, cats, grid);
    FAIL() << "a map to an unknown category must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("vpd.profile.ini:" + std::to_string(map_line) + ":"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'homicide'"), std::string::npos) << msg;
  }
}

TEST(EventReader, VancouverSnippetEveryFieldAndReason) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const EventReader reader(SourceProfile::load(kVpdProfile), kVancouverCategories, grid);
  const auto file = kData / "vpd_good.csv";
  const auto r = reader.read(file);

  EXPECT_EQ(r.stats.rows_read, 17);
  EXPECT_EQ(r.stats.accepted, 8);
  EXPECT_EQ(r.stats.duplicate_rows, 2);
  EXPECT_EQ(r.stats.accepted + r.stats.rejectedTotal(), r.stats.rows_read);
  ASSERT_EQ(r.events.size(), kAcceptedLines.size());
  EXPECT_EQ(r.lines, kAcceptedLines);

  // Rejects: one per row, in line order, each with its reason.
  const std::vector<std::pair<std::int64_t, RejectReason>> expected_rejects = {
      {4, RejectReason::WithheldLocation},  {5, RejectReason::MissingCoordinates},
      {6, RejectReason::UnknownCategory},   {7, RejectReason::UnparseableTime},
      {8, RejectReason::MalformedRow},      {10, RejectReason::OutsideGrid},
      {14, RejectReason::WithheldLocation}, {17, RejectReason::UnparseableTime},
      {18, RejectReason::MalformedRow}};
  ASSERT_EQ(r.rejects.size(), expected_rejects.size());
  for (std::size_t k = 0; k < expected_rejects.size(); ++k) {
    EXPECT_EQ(r.rejects[k].line, expected_rejects[k].first) << k;
    EXPECT_EQ(r.rejects[k].reason, expected_rejects[k].second) << k;
    EXPECT_EQ(r.rejects[k].file, file.string());
  }
  EXPECT_EQ(r.stats.rejected.at(RejectReason::WithheldLocation), 2);
  EXPECT_EQ(r.stats.rejected.at(RejectReason::UnparseableTime), 2);
  EXPECT_EQ(r.stats.rejected.at(RejectReason::MalformedRow), 2);
  EXPECT_EQ(r.stats.rejected.at(RejectReason::MissingCoordinates), 1);
  EXPECT_EQ(r.stats.rejected.at(RejectReason::UnknownCategory), 1);
  EXPECT_EQ(r.stats.rejected.at(RejectReason::OutsideGrid), 1);
  EXPECT_EQ(r.stats.rejected.count(RejectReason::DuplicateRow), 0U);

  const auto& e = r.events;
  // Line 2: Theft from Vehicle at 14:35, (490150.5, 5455250.25) -> cell (1, 2).
  EXPECT_EQ(e[0].civil_seconds, civil(2018, 3, 11, 14, 35));
  EXPECT_EQ(e[0].precision, TimePrecision::Minute);
  EXPECT_EQ(e[0].hour_of_day, 14);
  EXPECT_EQ(e[0].cell, 2 * 100 + 1);
  EXPECT_EQ(e[0].category, 1);
  EXPECT_EQ(e[0].flag, EventFlag::Unknown);
  // Line 3: Mischief at 00:00, which VPD uses for "unknown": day precision, no hour. (491000, 5456000) ->
  // (10, 10).
  EXPECT_EQ(e[1].civil_seconds, civil(2018, 3, 11, 0, 0));
  EXPECT_EQ(e[1].precision, TimePrecision::Day);
  EXPECT_EQ(e[1].hour_of_day, 0xFFFF);
  EXPECT_EQ(e[1].cell, 10 * 100 + 10);
  EXPECT_EQ(e[1].category, 2);
  // Line 9: quoted address with a comma and doubled quotes; (499999, 5458999.9) -> the last column, row 39.
  EXPECT_EQ(e[2].civil_seconds, civil(2018, 7, 4, 23, 59));
  EXPECT_EQ(e[2].hour_of_day, 23);
  EXPECT_EQ(e[2].cell, 39 * 100 + 99);
  EXPECT_EQ(e[2].category, 6);
  // Lines 11 and 16 repeat line 3 exactly: kept (duplicates = keep), same fields, distinct keys.
  for (const std::size_t k : {3U, 6U}) {
    EXPECT_EQ(e[k].civil_seconds, e[1].civil_seconds);
    EXPECT_EQ(e[k].cell, e[1].cell);
    EXPECT_EQ(e[k].category, e[1].category);
    EXPECT_EQ(e[k].precision, TimePrecision::Day);
  }
  // Line 12: the south-west corner point belongs to cell 0; 01:02.
  EXPECT_EQ(e[4].cell, 0);
  EXPECT_EQ(e[4].civil_seconds, civil(2018, 5, 6, 1, 2));
  EXPECT_EQ(e[4].hour_of_day, 1);
  EXPECT_EQ(e[4].category, 4);
  // Line 13: the same incident with the address quoted: other bytes, so not a duplicate, another key.
  EXPECT_EQ(e[5].cell, 0);
  EXPECT_TRUE(e[5].key_hi != e[4].key_hi || e[5].key_lo != e[4].key_lo);
  // Line 20 (CRLF, after a blank line): 00:30 is not midnight: minute precision, hour 0 known.
  EXPECT_EQ(e[7].civil_seconds, civil(2023, 1, 1, 0, 30));
  EXPECT_EQ(e[7].precision, TimePrecision::Minute);
  EXPECT_EQ(e[7].hour_of_day, 0);
  EXPECT_EQ(e[7].cell, 3 * 100 + 2);
  EXPECT_EQ(e[7].category, 9);
}

TEST(EventReader, KeysAreRowBytesAndOccurrence) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const EventReader reader(SourceProfile::load(kVpdProfile), kVancouverCategories, grid);
  const auto a = reader.read(kData / "vpd_good.csv");
  const auto b = reader.read(kData / "vpd_good.csv");
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t k = 0; k < a.events.size(); ++k) {
    EXPECT_EQ(a.events[k].key_hi, b.events[k].key_hi) << k;
    EXPECT_EQ(a.events[k].key_lo, b.events[k].key_lo) << k;
  }
  // The first copy's key is the hash of the row's bytes; the n-th copy's, the hash seeded with n.
  const std::string row3 =
      "Mischief,2018,3,11,0,0,2XX SAMPLE AVE,Testville,491000,5456000,-123.1,49.2,2018-03-11T00:00";
  for (std::uint64_t occurrence = 0; occurrence < 3; ++occurrence) {
    const auto h = XXH3_128bits_withSeed(row3.data(), row3.size(), occurrence);
    const auto& ev = a.events[std::vector<std::size_t>{1, 3, 6}[occurrence]];
    EXPECT_EQ(ev.key_hi, h.high64) << occurrence;
    EXPECT_EQ(ev.key_lo, h.low64) << occurrence;
  }
  // Every key distinct, the identical rows included.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> keys;
  for (const auto& ev : a.events) keys.emplace_back(ev.key_hi, ev.key_lo);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  // A CRLF line has the key of its bytes without the line end.
  const std::string row20 =
      "Vehicle Collision or Pedestrian Struck (with Fatality),2023,1,1,0,30,8XX CRLF "
      "WAY,Testville,490200,5455300,"
      "-123.1,49.2,2023-01-01T00:30";
  const auto h20 = XXH3_128bits(row20.data(), row20.size());
  EXPECT_EQ(a.events[7].key_hi, h20.high64);
  EXPECT_EQ(a.events[7].key_lo, h20.low64);
}

TEST(EventReader, DuplicatesDroppedWhenTheProfileSaysSo) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const auto dir = scratchDir("drop");
  const auto profile = editedProfile(kVpdProfile, dir, "duplicates = keep", "duplicates = drop");
  const EventReader reader(SourceProfile::load(profile), kVancouverCategories, grid);
  const auto r = reader.read(kData / "vpd_good.csv");
  EXPECT_EQ(r.stats.rows_read, 17);
  EXPECT_EQ(r.stats.duplicate_rows, 2);
  EXPECT_EQ(r.stats.accepted, 6);
  EXPECT_EQ(r.stats.rejected.at(RejectReason::DuplicateRow), 2);
  EXPECT_EQ(r.stats.accepted + r.stats.rejectedTotal(), r.stats.rows_read);
  std::vector<std::int64_t> dup_lines;
  for (const auto& rj : r.rejects)
    if (rj.reason == RejectReason::DuplicateRow) dup_lines.push_back(rj.line);
  EXPECT_EQ(dup_lines, (std::vector<std::int64_t>{11, 16}));
}

TEST(EventReader, GzipEqualsPlain) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const EventReader reader(SourceProfile::load(kVpdProfile), kVancouverCategories, grid);
  const auto plain = reader.read(kData / "vpd_good.csv");
  const auto gz = reader.read(kData / "vpd_good.csv.gz");
  ASSERT_EQ(plain.events.size(), gz.events.size());
  for (std::size_t k = 0; k < plain.events.size(); ++k) {
    EXPECT_EQ(std::memcmp(&plain.events[k], &gz.events[k], sizeof(Event)), 0) << k;
  }
  ASSERT_EQ(plain.rejects.size(), gz.rejects.size());
  for (std::size_t k = 0; k < plain.rejects.size(); ++k) {
    EXPECT_EQ(plain.rejects[k].line, gz.rejects[k].line);
    EXPECT_EQ(plain.rejects[k].reason, gz.rejects[k].reason);
  }
  EXPECT_EQ(plain.stats.rows_read, gz.stats.rows_read);
  EXPECT_EQ(plain.stats.duplicate_rows, gz.stats.duplicate_rows);
}

TEST(EventReader, BaacMonthAndHour) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, marseilleSpec());
  const EventReader reader(SourceProfile::load(kBaacProfile), {"road_injury"}, grid);
  const auto r = reader.read(kData / "baac_good.csv");
  EXPECT_EQ(r.stats.rows_read, 7);
  EXPECT_EQ(r.stats.accepted + r.stats.rejectedTotal(), r.stats.rows_read);
  ASSERT_EQ(r.events.size(), 2U);
  const auto cellOfLonLat = [&](double lon, double lat) {
    const auto xy = grid.fromLonLat(lon, lat);
    const auto c = grid.cellOf(xy[0], xy[1]);
    EXPECT_TRUE(c.has_value());
    return c ? grid.globalIndex((*c)[0], (*c)[1]) : -1;
  };
  // January, 14:30: month precision (binned monthly, not spread over days), hour of day known.
  EXPECT_EQ(r.events[0].civil_seconds, civil(2018, 1, 1, 0, 0));
  EXPECT_EQ(r.events[0].precision, TimePrecision::Month);
  EXPECT_EQ(r.events[0].hour_of_day, 14);
  EXPECT_EQ(r.events[0].category, 0);
  EXPECT_EQ(r.events[0].cell, cellOfLonLat(5.374, 43.295));
  // December, hrmn 5 = 00:05: hour 0, known (BAAC has no "unknown midnight").
  EXPECT_EQ(r.events[1].civil_seconds, civil(2018, 12, 1, 0, 0));
  EXPECT_EQ(r.events[1].hour_of_day, 0);
  EXPECT_EQ(r.events[1].cell, cellOfLonLat(5.40, 43.30));
  // Independently (Lambert conformal conic formulas by hand): (5.374 E, 43.295 N) is (892736, 6246879) in
  // Lambert-93, column 23, row 28; (5.40 E, 43.30 N) is (894829, 6247498), column 27, row 29.
  EXPECT_EQ(r.events[0].cell, 28 * 50 + 23);
  EXPECT_EQ(r.events[1].cell, 29 * 50 + 27);

  const std::vector<std::pair<std::int64_t, RejectReason>> expected = {{4, RejectReason::UnparseableTime},
                                                                       {5, RejectReason::UnparseableTime},
                                                                       {6, RejectReason::MissingCoordinates},
                                                                       {7, RejectReason::OutsideGrid},
                                                                       {8, RejectReason::OutsideGrid}};
  ASSERT_EQ(r.rejects.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(r.rejects[k].line, expected[k].first) << k;
    EXPECT_EQ(r.rejects[k].reason, expected[k].second) << k;
  }
}

TEST(EventReader, HeaderOnlyIsZeroRows) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const EventReader reader(SourceProfile::load(kVpdProfile), kVancouverCategories, grid);
  const auto r = reader.read(kData / "header_only.csv");
  EXPECT_EQ(r.stats.rows_read, 0);
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.rejects.empty());
}

TEST(EventReader, BadFilesFailWithFileAndLine) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const EventReader reader(SourceProfile::load(kVpdProfile), kVancouverCategories, grid);
  struct Case {
    const char* file;
    const char* where;  // regex after the file name
  };
  const std::vector<Case> cases = {
      {"bad_empty.csv", R"(:1: empty file)"},
      {"bad_delimiter.csv", R"(:1: missing column 'DATETIME'.*contains ';': is csv\.delimiter right)"},
      {"bad_missing_column.csv", R"(:1: missing column 'DATETIME')"},
      {"bad_binary.csv", R"(:5: binary data)"},
      {"bad_unbalanced_quote.csv", R"(:3: unbalanced quote)"},
      {"bad_truncated.csv.gz", R"(:\d+: truncated or corrupt gzip)"},
      {"does_not_exist.csv", R"(: cannot open)"},
  };
  for (const auto& c : cases) {
    try {
      (void)reader.read(kData / c.file);
      ADD_FAILURE() << c.file << " must be rejected";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::InputData) << c.file;
      const std::string msg = e.what();
      EXPECT_TRUE(std::regex_search(
          msg, std::regex(std::regex_replace(std::string(c.file), std::regex(R"(\.)"), R"(\.)") + c.where)))
          << c.file << ": " << msg;
    }
  }
}

TEST(RejectLog, AppendsWithOneHeaderAndNoContent) {
  vigie::grid::CityGrid grid(MPI_COMM_SELF, vancouverSpec());
  const EventReader reader(SourceProfile::load(kVpdProfile), kVancouverCategories, grid);
  const auto file = kData / "vpd_good.csv";
  const auto r = reader.read(file);
  const auto dir = scratchDir("rejects");
  const RejectLog log(dir / "rejects.csv");
  log.append(r.rejects);
  log.append(r.rejects);
  std::ifstream in(dir / "rejects.csv");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1 + 2 * r.rejects.size());
  EXPECT_EQ(lines[0], "file,line,reason");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "file,line,reason"), 1);
  EXPECT_EQ(lines[1], file.string() + ",4,withheld_location");
  EXPECT_EQ(lines[5], file.string() + ",8,malformed_row");
  EXPECT_EQ(lines[1 + r.rejects.size()], lines[1]);
  // No content of any row: none of the snippet's addresses, neighbourhoods or types.
  const auto text = slurp(dir / "rejects.csv");
  for (const char* word :
       {"OFFSET", "MADEUP", "Testville", "MAIN ST", "Homicide", "Parking", "LINE", "QUOTE"})
    EXPECT_EQ(text.find(word), std::string::npos) << word;
}

}  // namespace
