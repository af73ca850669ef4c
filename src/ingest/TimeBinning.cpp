#include "ingest/TimeBinning.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/Error.hpp"

namespace vigie::ingest {

using core::Error;
using core::ExitCode;

namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Zone names are file names under the zoneinfo folder: refuse anything that could leave it.
bool plausibleZoneName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '+' || c == '/';
  });
}

std::int64_t bigEndian(const std::string& bytes, std::size_t pos, int width) {
  std::uint64_t v = 0;
  for (int k = 0; k < width; ++k) v = (v << 8) | static_cast<unsigned char>(bytes[pos + k]);
  if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

struct TzifCounts {
  std::int64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
  // Size of the data block that follows the header, with `time_size`-byte transition times.
  [[nodiscard]] std::size_t dataSize(int time_size) const {
    return static_cast<std::size_t>(time * time_size + time + type * 6 + chars + leap * (time_size + 4) +
                                    isstd + isut);
  }
};

TzifCounts readHeader(const std::string& bytes, std::size_t pos, const std::string& file) {
  if (bytes.size() < pos + 44 || bytes.compare(pos, 4, "TZif") != 0) {
    throw Error(ExitCode::Usage, file + ": not a TZif time-zone file", true);
  }
  TzifCounts c;
  c.isut = bigEndian(bytes, pos + 20, 4);
  c.isstd = bigEndian(bytes, pos + 24, 4);
  c.leap = bigEndian(bytes, pos + 28, 4);
  c.time = bigEndian(bytes, pos + 32, 4);
  c.type = bigEndian(bytes, pos + 36, 4);
  c.chars = bigEndian(bytes, pos + 40, 4);
  if (c.isut < 0 || c.isstd < 0 || c.leap < 0 || c.time < 0 || c.type <= 0 || c.chars < 0) {
    throw Error(ExitCode::Usage, file + ": malformed TZif header", true);
  }
  return c;
}

// POSIX TZ text cursor: "CET-1CEST,M3.5.0,M10.5.0/3".
struct Cursor {
  const std::string& s;
  std::size_t p = 0;
  [[nodiscard]] bool more() const { return p < s.size(); }
  [[nodiscard]] char peek() const { return more() ? s[p] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++p;
    return true;
  }
  int number() {
    if (!(peek() >= '0' && peek() <= '9')) throw Error(ExitCode::Usage, "bad number in TZ rule", true);
    int v = 0;
    while (peek() >= '0' && peek() <= '9') v = v * 10 + (s[p++] - '0');
    return v;
  }
  void zoneAbbreviation() {
    if (eat('<')) {
      while (more() && peek() != '>') ++p;
      if (!eat('>')) throw Error(ExitCode::Usage, "unterminated <...> in TZ rule", true);
      return;
    }
    const std::size_t start = p;
    while ((peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z')) ++p;
    if (p - start < 3) throw Error(ExitCode::Usage, "bad zone abbreviation in TZ rule", true);
  }
  // [+-]hh[:mm[:ss]] in seconds.
  std::int32_t duration() {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    std::int32_t v = number() * 3600;
    if (eat(':')) {
      v += number() * 60;
      if (eat(':')) v += number();
    }
    return sign * v;
  }
};

}  // namespace

TimeZone::TimeZone(const std::string& name) : m_name(name) {
  const char* tzdir = std::getenv("TZDIR");
  const std::filesystem::path dir = tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo";
  const std::filesystem::path file = dir / name;
  std::error_code ec;
  if (!plausibleZoneName(name) || !std::filesystem::is_regular_file(file, ec)) {
    throw Error(ExitCode::Usage,
                "unknown time zone '" + name + "' (no file " + file.string() +
                    "; use an IANA name such as Europe/Paris)",
                true);
  }
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw Error(ExitCode::Usage, file.string() + ": cannot read", true);
  parseTzif(bytes, file.string());
}

void TimeZone::parseTzif(const std::string& bytes, const std::string& file) {
  const TzifCounts v1 = readHeader(bytes, 0, file);
  const char version = bytes[4];
  std::size_t pos = 44;
  TzifCounts c = v1;
  int time_size = 4;
  if (version >= '2') {
    // Version 2+ repeats the data with 64-bit times after the 32-bit block, then a POSIX TZ footer.
    pos += v1.dataSize(4);
    c = readHeader(bytes, pos, file);
    pos += 44;
    time_size = 8;
  }
  if (bytes.size() < pos + c.dataSize(time_size)) throw Error(ExitCode::Usage, file + ": truncated", true);
  const std::size_t times_at = pos;
  const std::size_t index_at = times_at + static_cast<std::size_t>(c.time * time_size);
  const std::size_t types_at = index_at + static_cast<std::size_t>(c.time);
  std::vector<std::int32_t> type_offsets(static_cast<std::size_t>(c.type));
  for (std::int64_t k = 0; k < c.type; ++k) {
    type_offsets[static_cast<std::size_t>(k)] =
        static_cast<std::int32_t>(bigEndian(bytes, types_at + static_cast<std::size_t>(k) * 6, 4));
  }
  // RFC 8536: local time type 0 applies before the first transition.
  m_initial_offset = type_offsets[0];
  m_transitions.reserve(static_cast<std::size_t>(c.time));
  m_offset_after.reserve(static_cast<std::size_t>(c.time));
  for (std::int64_t k = 0; k < c.time; ++k) {
    const auto kk = static_cast<std::size_t>(k);
    const auto index = static_cast<unsigned char>(bytes[index_at + kk]);
    if (index >= type_offsets.size()) throw Error(ExitCode::Usage, file + ": bad transition type", true);
    m_transitions.push_back(bigEndian(bytes, times_at + kk * static_cast<std::size_t>(time_size), time_size));
    m_offset_after.push_back(type_offsets[index]);
  }
  if (version >= '2') {
    const std::size_t footer = pos + c.dataSize(time_size);
    if (footer < bytes.size() && bytes[footer] == '\n') {
      const std::size_t end = bytes.find('\n', footer + 1);
      const std::string text = bytes.substr(footer + 1, end == std::string::npos ? end : end - footer - 1);
      if (!text.empty()) {
        try {
          m_rule = parsePosix(text);
        } catch (const Error& e) {
          throw Error(ExitCode::Usage, file + ": TZ footer '" + text + "': " + e.what(), true);
        }
      }
    }
  }
}

TimeZone::PosixRule TimeZone::parsePosix(const std::string& text) {
  Cursor cur{text};
  PosixRule r;
  cur.zoneAbbreviation();
  // POSIX offsets count west of Greenwich: "CET-1" is one hour east.
  r.std_offset = -cur.duration();
  r.dst_offset = r.std_offset;
  if (cur.more() && cur.peek() != ',') {
    cur.zoneAbbreviation();
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (cur.more() && cur.peek() != ',') r.dst_offset = -cur.duration();
    // The default rule (US rules of 1987) is obsolete; every footer in tzdata states its rule.
    if (!cur.eat(',')) throw Error(ExitCode::Usage, "daylight saving time without a rule", true);
    for (RuleDate* d : {&r.start, &r.end}) {
      if (cur.eat('M')) {
        d->kind = 'M';
        d->month = cur.number();
        if (!cur.eat('.')) throw Error(ExitCode::Usage, "expected '.' in Mm.w.d", true);
        d->week = cur.number();
        if (!cur.eat('.')) throw Error(ExitCode::Usage, "expected '.' in Mm.w.d", true);
        d->weekday = cur.number();
        if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->weekday > 6) {
          throw Error(ExitCode::Usage, "Mm.w.d out of range", true);
        }
      } else if (cur.eat('J')) {
        d->kind = 'J';
        d->day = cur.number();
      } else {
        d->kind = 'N';
        d->day = cur.number();
      }
      d->time = cur.eat('/') ? cur.duration() : 7200;
      if (d == &r.start && !cur.eat(',')) throw Error(ExitCode::Usage, "expected ',' between rules", true);
    }
  }
  if (cur.more()) throw Error(ExitCode::Usage, "unexpected text after the rule", true);
  r.valid = true;
  return r;
}

std::int64_t TimeZone::ruleLocalSeconds(const RuleDate& d, int year) noexcept {
  std::int64_t day = 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (d.kind == 'M') {
    const std::int64_t first = daysFromCivil(year, d.month, 1);
    // 1970-01-01 was a Thursday (weekday 4 with Sunday = 0).
    const auto first_weekday = static_cast<int>(((first % 7) + 11) % 7);
    std::int64_t dom = 1 + (d.weekday - first_weekday + 7) % 7 + 7 * (d.week - 1);
    while (dom > daysInMonth(year, d.month)) dom -= 7;
    day = first + dom - 1;
  } else if (d.kind == 'J') {
    // Julian day n in 1..365, February 29 never counted.
    day = daysFromCivil(year, 1, 1) + d.day - 1 + (leap && d.day >= 60 ? 1 : 0);
  } else {
    day = daysFromCivil(year, 1, 1) + d.day;
  }
  return day * kDay + d.time;
}

std::int32_t TimeZone::ruleOffset(std::int64_t utc) const noexcept {
  if (!m_rule.has_dst) return m_rule.std_offset;
  const int year = civilFromSeconds(utc + m_rule.std_offset).year;
  // The start is given in standard local time, the end in daylight local time.
  const std::int64_t start = ruleLocalSeconds(m_rule.start, year) - m_rule.std_offset;
  const std::int64_t end = ruleLocalSeconds(m_rule.end, year) - m_rule.dst_offset;
  const bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? m_rule.dst_offset : m_rule.std_offset;
}

std::int32_t TimeZone::offsetAt(std::int64_t utc) const noexcept {
  if (m_transitions.empty() || utc >= m_transitions.back()) {
    if (m_rule.valid) return ruleOffset(utc);
    return m_transitions.empty() ? m_initial_offset : m_offset_after.back();
  }
  const auto after = std::upper_bound(m_transitions.begin(), m_transitions.end(), utc);
  if (after == m_transitions.begin()) return m_initial_offset;
  return m_offset_after[static_cast<std::size_t>(after - m_transitions.begin() - 1)];
}

std::int64_t TimeZone::toUtc(std::int64_t civil) const noexcept {
  // Offsets a day before and after bracket any single transition near `civil` (zones change at most a few
  // times a year). A candidate is valid when the offset in force at it is the one that produced it.
  const std::int32_t before = offsetAt(civil - kDay);
  const std::int32_t after = offsetAt(civil + kDay);
  const std::int64_t u_before = civil - before;
  const std::int64_t u_after = civil - after;
  const bool ok_before = offsetAt(u_before) == before;
  const bool ok_after = offsetAt(u_after) == after;
  if (ok_before && ok_after) return std::min(u_before, u_after);  // overlap: the first occurrence
  if (ok_after) return u_after;
  // Either no transition is near, or `civil` falls in a gap: with the earlier offset it lands after the
  // transition, i.e. moved forward by the gap.
  return u_before;
}

BinUnit parseBinUnit(const std::string& text, const std::string& key) {
  if (text == "hour") return BinUnit::Hour;
  if (text == "day") return BinUnit::Day;
  if (text == "week") return BinUnit::Week;
  if (text == "month") return BinUnit::Month;
  throw Error(ExitCode::Usage, key + " = '" + text + "': expected hour, day, week or month", true);
}

const char* binUnitName(BinUnit unit) noexcept {
  switch (unit) {
    case BinUnit::Hour:
      return "hour";
    case BinUnit::Day:
      return "day";
    case BinUnit::Week:
      return "week";
    case BinUnit::Month:
      return "month";
  }
  return "unknown";
}

bool TimeBinning::accepts(TimePrecision precision) const noexcept {
  switch (precision) {
    case TimePrecision::Minute:
    case TimePrecision::Hour:
      return true;
    case TimePrecision::Day:
      return m_unit != BinUnit::Hour;
    case TimePrecision::Month:
      return m_unit == BinUnit::Month;
  }
  return false;
}

std::int64_t TimeBinning::binOf(std::int64_t civil_seconds) const noexcept {
  const std::int64_t day = floorDiv(civil_seconds, kDay);
  switch (m_unit) {
    case BinUnit::Hour:
      return floorDiv(m_zone.toUtc(civil_seconds), 3600);
    case BinUnit::Day:
      return day;
    case BinUnit::Week:
      return floorDiv(day + 3, 7);
    case BinUnit::Month: {
      const CivilTime t = civilFromSeconds(civil_seconds);
      return static_cast<std::int64_t>(t.year - 1970) * 12 + t.month - 1;
    }
  }
  return 0;
}

std::int64_t TimeBinning::binOfDay(std::int64_t day) const noexcept {
  return binOf(day * kDay);
}

std::int64_t TimeBinning::binStartCivil(std::int64_t b) const noexcept {
  switch (m_unit) {
    case BinUnit::Hour:
      return m_zone.toCivil(b * 3600);
    case BinUnit::Day:
      return b * kDay;
    case BinUnit::Week:
      return (b * 7 - 3) * kDay;
    case BinUnit::Month: {
      const std::int64_t year = 1970 + floorDiv(b, 12);
      const auto month = static_cast<int>(b - (year - 1970) * 12) + 1;
      return daysFromCivil(static_cast<int>(year), month, 1) * kDay;
    }
  }
  return 0;
}

std::int64_t TimeBinning::binStartUtc(std::int64_t b) const noexcept {
  if (m_unit == BinUnit::Hour) return b * 3600;
  return m_zone.toUtc(binStartCivil(b));
}

std::string isoLocal(const TimeZone& zone, std::int64_t utc) {
  const std::int64_t civil = zone.toCivil(utc);
  const CivilTime t = civilFromSeconds(civil);
  const std::int64_t offset = civil - utc;
  const std::int64_t magnitude = offset < 0 ? -offset : offset;
  std::array<char, 64> text{};
  std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d%c%02d:%02d", t.year, t.month, t.day,
                t.hour, t.minute, offset < 0 ? '-' : '+', static_cast<int>(magnitude / 3600),
                static_cast<int>((magnitude % 3600) / 60));
  return text.data();
}

std::string TimeBinning::isoStart(std::int64_t b) const {
  return isoLocal(m_zone, binStartUtc(b));
}

std::string TimeBinning::fingerprint() const {
  return std::string("bin=") + binUnitName(m_unit) + ";timezone=" + m_zone.name();
}

}  // namespace vigie::ingest
