/// The pieces of `vigie watch` that need no MPI: the line stream (pipes, files, partial lines, BOM, CRLF,
/// blank lines) and the alert book (de-duplication, expiry, JSON round trip), the JSON-lines helpers
/// (dropping records of uncommitted cycles and a torn last line) and the alert's readable line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/Error.hpp"
#include "watch/LineStream.hpp"
#include "watch/WatchAlerts.hpp"

namespace {

using vigie::watch::ActiveAlert;
using vigie::watch::AlertBook;
using vigie::watch::LineStream;
using vigie::watch::StreamLine;

std::filesystem::path tempDir(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigie_watch_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<StreamLine> readAll(LineStream& s) {
  std::vector<StreamLine> out;
  while (s.read(out, 0.2, 1000)) {
  }
  return out;
}

TEST(LineStream, FileLinesNumberedWithBomCrlfBlankAndUnterminatedLast) {
  const auto dir = tempDir("file");
  const auto path = dir / "s.csv";
  std::ofstream(path, std::ios::binary) << "\xEF\xBB\xBFh1,h2\r\na,b\r\n\r\n  \nc,d\ne,f";
  LineStream s(path.string(), false, 0.0);
  const auto lines = readAll(s);
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0].text, "h1,h2");
  EXPECT_EQ(lines[0].line, 1);
  EXPECT_EQ(lines[1].text, "a,b");
  EXPECT_EQ(lines[1].line, 2);
  EXPECT_EQ(lines[2].text, "c,d");
  EXPECT_EQ(lines[2].line, 5);  // the blank lines 3 and 4 are counted, not returned
  EXPECT_EQ(lines[3].text, "e,f");
  EXPECT_EQ(lines[3].line, 6);
  EXPECT_EQ(s.name(), path.string());
}

TEST(LineStream, AtMostMaxLinesPerRead) {
  const auto dir = tempDir("max");
  const auto path = dir / "s.csv";
  {
    std::ofstream os(path);
    for (int k = 0; k < 25; ++k) os << "row" << k << "\n";
  }
  LineStream s(path.string(), false, 0.0);
  std::vector<StreamLine> out;
  EXPECT_TRUE(s.read(out, 0.1, 10));
  EXPECT_EQ(out.size(), 10U);
  out.clear();
  while (s.read(out, 0.1, 10)) {
  }
  EXPECT_EQ(out.size(), 15U);
  EXPECT_EQ(out.back().text, "row24");
}

TEST(LineStream, PipeDeliversLinesSplitAcrossWritesAndEndsWhenTheWriterCloses) {
  const auto dir = tempDir("fifo");
  const auto fifo = dir / "f";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string a = "first li", b = "ne\nsecond line\nthi", c = "rd";
    ASSERT_EQ(::write(fd, a.data(), a.size()), static_cast<ssize_t>(a.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(::write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(::write(fd, c.data(), c.size()), static_cast<ssize_t>(c.size()));
    ::close(fd);
  });
  LineStream s(fifo.string(), false, 0.0);
  const auto lines = readAll(s);
  writer.join();
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0].text, "first line");
  EXPECT_EQ(lines[1].text, "second line");
  EXPECT_EQ(lines[2].text, "third");  // the writer closed: an unterminated last line is a line
}

TEST(LineStream, FollowedFileEndsAfterTheIdleTime) {
  const auto dir = tempDir("follow");
  const auto path = dir / "g.csv";
  std::ofstream(path) << "one\n";
  LineStream s(path.string(), true, 0.5);
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ofstream(path, std::ios::app) << "two\n";
  });
  const auto t0 = std::chrono::steady_clock::now();
  const auto lines = readAll(s);
  appender.join();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[1].text, "two");
  EXPECT_GE(waited, 0.5);
}

TEST(LineStream, MissingPathIsAUsageError) {
  try {
    LineStream s("/nonexistent/vigie/stream.csv", false, 0.0);
    FAIL() << "no error";
  } catch (const vigie::core::Error& e) {
    EXPECT_EQ(e.code(), vigie::core::ExitCode::Usage);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/vigie/stream.csv"), std::string::npos);
  }
}

TEST(AlertBook, AClusterSharingACellContinuesARecentAlertOnly) {
  AlertBook book;
  book.open(ActiveAlert{"A", {30, 10, 20}, 5, 5, 1});
  // The next cycle, overlapping: a continuation.
  auto* a = book.continued({20, 99}, 6, 1);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "A");
  a->last_cycle = 6;
  // Not overlapping: new.
  EXPECT_EQ(book.continued({11, 12}, 7, 1), nullptr);
  // Overlapping but two cycles later with dedup over 1 cycle: new; with 2: continues.
  EXPECT_EQ(book.continued({10}, 8, 1), nullptr);
  EXPECT_NE(book.continued({10}, 8, 2), nullptr);
  // The same cycle is never a continuation of itself.
  EXPECT_EQ(book.continued({10}, 6, 1), nullptr);
  book.expire(8, 1);
  EXPECT_TRUE(book.alerts().empty());
}

TEST(AlertBook, JsonRoundTripAndMalformedState) {
  AlertBook book;
  book.open(ActiveAlert{"2023-01-05T00:00#1", {7, 3}, 4, 5, 2});
  const auto back = AlertBook::fromJson(book.toJson());
  ASSERT_EQ(back.alerts().size(), 1U);
  EXPECT_EQ(back.alerts()[0].id, "2023-01-05T00:00#1");
  EXPECT_EQ(back.alerts()[0].cells, (std::vector<std::int64_t>{3, 7}));
  EXPECT_EQ(back.alerts()[0].cycles_seen, 2);
  EXPECT_THROW(AlertBook::fromJson(nlohmann::json::parse(R"([{"id": 1}])")), vigie::core::Error);
  EXPECT_THROW(AlertBook::fromJson(nlohmann::json::object()), vigie::core::Error);
}

TEST(JsonLines, RecordsOfUncommittedCyclesAndATornLineAreDropped) {
  const auto dir = tempDir("jsonl");
  const auto path = dir / "cycles.jsonl";
  vigie::watch::appendJsonLines(path, {{{"cycle", 0}}, {{"cycle", 1}}, {{"cycle", 2}}});
  std::ofstream(path, std::ios::app) << R"({"cycle": 3, "tor)";
  EXPECT_EQ(vigie::watch::keepCyclesBelow(path, 2), 2);
  const auto rows = vigie::watch::readJsonLines(path);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[1]["cycle"], 1);
  EXPECT_EQ(vigie::watch::keepCyclesBelow(path, 2), 0);  // nothing more to drop: the file is left alone
  EXPECT_EQ(vigie::watch::keepCyclesBelow(dir / "absent.jsonl", 0), 0);
  vigie::watch::touch(dir / "alerts.jsonl");
  EXPECT_TRUE(std::filesystem::exists(dir / "alerts.jsonl"));
  EXPECT_EQ(std::filesystem::file_size(dir / "alerts.jsonl"), 0U);
}

TEST(AlertLine, SaysWhatWhereAndHowRare) {
  const nlohmann::json a{{"id", "2023-06-14T00:00#1"},
                         {"observed", 15},
                         {"expected", 0.08},
                         {"radius_m", 316.2},
                         {"centre", {{"lat", 49.2345678}, {"lon", -123.0456789}, {"i", 1}, {"j", 2}}},
                         {"window_cycles", 1},
                         {"window_start", "2023-06-14T00:00-07:00"},
                         {"window_end", "2023-06-15T00:00-07:00"},
                         {"p_value", 3.1e-21},
                         {"recurrence_days", 800.0}};
  const auto line = vigie::watch::alertLine(a);
  EXPECT_EQ(
      line.rfind("ALERT 2023-06-14T00:00#1: 15 events observed, 0.1 expected, within 316 m of 49.23457, "
                 "-123.04568 over 1 cycle(s)",
                 0),
      0U)
      << line;
  EXPECT_NE(line.find("p = 3.1e-21"), std::string::npos) << line;
  EXPECT_NE(line.find("about once in 2.2 years"), std::string::npos) << line;
  auto rare = a;
  rare["recurrence_days"] = 3.2e20;
  EXPECT_NE(vigie::watch::alertLine(rare).find("more than a million years"), std::string::npos);
}

TEST(AlertsGeoJson, OnePointFeaturePerAlertNullOnALattice) {
  const auto dir = tempDir("geojson");
  const nlohmann::json geographic{{"id", "a"}, {"centre", {{"lon", -123.1}, {"lat", 49.2}}}};
  const nlohmann::json lattice{{"id", "b"}, {"centre", {{"lon", nullptr}, {"lat", nullptr}}}};
  vigie::watch::writeAlertsGeoJson(dir / "alerts.geojson", {geographic, lattice});
  std::ifstream is(dir / "alerts.geojson");
  const auto doc = nlohmann::json::parse(is);
  ASSERT_EQ(doc["features"].size(), 2U);
  EXPECT_EQ(doc["features"][0]["geometry"]["type"], "Point");
  EXPECT_DOUBLE_EQ(doc["features"][0]["geometry"]["coordinates"][0].get<double>(), -123.1);
  EXPECT_TRUE(doc["features"][1]["geometry"].is_null());
  EXPECT_EQ(doc["features"][1]["properties"]["id"], "b");
}

}  // namespace
