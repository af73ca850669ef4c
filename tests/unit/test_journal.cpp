// The event journal: idempotent appends that survive a reopen, a torn tail repaired on open, corruption
// before the tail and a changed case refused with the file and record named.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "ingest/Event.hpp"
#include "ingest/Journal.hpp"

namespace fs = std::filesystem;
using vigie::ingest::Event;
using vigie::ingest::EventFlag;
using vigie::ingest::Journal;
using vigie::ingest::TimePrecision;

namespace {

fs::path freshDir(const std::string& name) {
  const fs::path d = fs::path(VIGIE_BINARY_DIR) / "test-output" / "journal" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<Event> events(int n, int salt) {
  std::vector<Event> out;
  for (int k = 0; k < n; ++k) {
    Event e;
    e.civil_seconds = 1514764800 + 3600LL * k - 7 * salt;
    e.cell = 17 * k + salt;
    e.category = k % 3;
    e.precision = k % 2 == 0 ? TimePrecision::Minute : TimePrecision::Month;
    e.flag = k % 3 == 0 ? EventFlag::Reported : EventFlag::Unknown;
    e.hour_of_day = k % 5 == 0 ? 0xFFFF : static_cast<std::uint16_t>(k % 24);
    e.key_hi = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(k + 1) + static_cast<std::uint64_t>(salt);
    e.key_lo = 0xC2B2AE3D27D4EB4FULL ^ static_cast<std::uint64_t>(k * 31 + salt);
    out.push_back(e);
  }
  return out;
}

bool same(const Event& a, const Event& b) {
  return a.civil_seconds == b.civil_seconds && a.cell == b.cell && a.category == b.category &&
         a.precision == b.precision && a.flag == b.flag && a.hour_of_day == b.hour_of_day &&
         a.key_hi == b.key_hi && a.key_lo == b.key_lo;
}

void expectSame(const std::vector<Event>& got, const std::vector<Event>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_TRUE(same(got[k], want[k])) << "record " << k;
}

const std::string kPrint = "grid=2154:0:0:100:10x10;bin=day;timezone=Europe/Paris;categories=a,b,c";

void flipByte(const fs::path& p, std::uintmax_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

}  // namespace

TEST(Journal, AppendIsIdempotentAcrossReopens) {
  const fs::path path = freshDir("idempotent") / "obs.journal";
  const auto first = events(50, 1);
  {
    Journal j(path, kPrint);
    EXPECT_EQ(j.size(), 0);
    EXPECT_EQ(j.append(first), 50U);
    EXPECT_EQ(j.append(first), 0U);
    EXPECT_TRUE(j.contains(first[7].key_hi, first[7].key_lo));
  }
  Journal j(path, kPrint);
  EXPECT_EQ(j.repairedBytes(), 0);
  expectSame(j.records(), first);
  expectSame(j.readAll(), first);
  // Half old, half new, and a duplicate inside the batch itself: only the new ones count, once.
  auto mixed = events(25, 1);
  const auto fresh = events(10, 2);
  mixed.insert(mixed.end(), fresh.begin(), fresh.end());
  mixed.push_back(fresh[3]);
  EXPECT_EQ(j.append(mixed), 10U);
  EXPECT_EQ(j.size(), 60);
  auto want = first;
  want.insert(want.end(), fresh.begin(), fresh.end());
  expectSame(j.readAll(), want);
}

TEST(Journal, TornTailIsTruncatedAndAppendable) {
  const fs::path path = freshDir("torn") / "obs.journal";
  const auto all = events(20, 3);
  std::uintmax_t clean_size = 0;
  {
    Journal j(path, kPrint);
    j.append(all);
    clean_size = fs::file_size(path);
  }
  // A crash halfway through writing one more record.
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d", 13);
  }
  {
    Journal j(path, kPrint);
    EXPECT_EQ(j.repairedBytes(), 13);
    EXPECT_EQ(fs::file_size(path), clean_size);
    expectSame(j.records(), all);
  }
  // The last record damaged (its CRC no longer matches): cut, the records before it kept.
  flipByte(path, clean_size - 10);
  {
    Journal j(path, kPrint);
    EXPECT_EQ(j.repairedBytes(), static_cast<std::int64_t>(Journal::kRecordBytes));
    const std::vector<Event> kept(all.begin(), all.end() - 1);
    expectSame(j.records(), kept);
    // The lost record is not in the journal any more, so re-ingesting it adds it back exactly once.
    EXPECT_EQ(j.append(all), 1U);
    expectSame(j.readAll(), all);
  }
  Journal j(path, kPrint);
  EXPECT_EQ(j.repairedBytes(), 0);
  expectSame(j.records(), all);
}

TEST(Journal, FingerprintMismatchIsAnError) {
  const fs::path path = freshDir("fingerprint") / "obs.journal";
  {
    Journal j(path, kPrint);
    j.append(events(3, 4));
  }
  try {
    Journal j(path, kPrint + ",d");
    ADD_FAILURE() << "a journal of another case was opened";
  } catch (const vigie::core::Error& e) {
    EXPECT_EQ(e.code(), vigie::core::ExitCode::InputData);
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find("fresh output.dir"), std::string::npos) << what;
  }
  Journal j(path, kPrint);  // the right case still opens it
  EXPECT_EQ(j.size(), 3);
}

TEST(Journal, CorruptMiddleRecordIsNamedNotSkipped) {
  const fs::path path = freshDir("middle") / "obs.journal";
  std::uintmax_t size = 0;
  {
    Journal j(path, kPrint);
    j.append(events(10, 5));
    size = fs::file_size(path);
  }
  // A byte of record 4 of 10 (counting from 1): 6 records after it are intact.
  const std::uintmax_t header = size - 10 * Journal::kRecordBytes;
  flipByte(path, header + 3 * Journal::kRecordBytes + 5);
  try {
    Journal j(path, kPrint);
    ADD_FAILURE() << "a corrupt journal was opened";
  } catch (const vigie::core::Error& e) {
    EXPECT_EQ(e.code(), vigie::core::ExitCode::InputData);
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find("record 4 of 10"), std::string::npos) << what;
  }
  EXPECT_EQ(fs::file_size(path), size);  // nothing was truncated
}

TEST(Journal, GarbageHeaderIsAnError) {
  const fs::path path = freshDir("garbage") / "obs.journal";
  {
    std::ofstream out(path, std::ios::binary);
    out << "this is not a journal at all, just some text long enough";
  }
  EXPECT_THROW(Journal(path, kPrint), vigie::core::Error);
}

TEST(Journal, EncodingRoundTrips) {
  for (const Event& e : events(30, 6)) {
    unsigned char bytes[40];
    Journal::encode(e, bytes);
    EXPECT_TRUE(same(Journal::decode(bytes), e));
  }
  Event negative;
  negative.civil_seconds = -86400 * 400;
  negative.category = 7;
  unsigned char bytes[40];
  Journal::encode(negative, bytes);
  EXPECT_TRUE(same(Journal::decode(bytes), negative));
}
