// Time zones from the TZif database and the store's time bins across daylight-saving changes, ISO weeks and
// months, checked against offsets and dates stated by hand.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "core/Error.hpp"
#include "ingest/Event.hpp"
#include "ingest/TimeBinning.hpp"

using vigie::ingest::BinUnit;
using vigie::ingest::civilSeconds;
using vigie::ingest::CivilTime;
using vigie::ingest::TimeBinning;
using vigie::ingest::TimePrecision;
using vigie::ingest::TimeZone;

namespace {

std::int64_t civil(int y, int mo, int d, int h = 0, int mi = 0) {
  return civilSeconds(CivilTime{y, mo, d, h, mi});
}

// UTC epoch seconds written as a civil time (the UTC calendar has no offset).
std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return civil(y, mo, d, h, mi);
}

}  // namespace

TEST(TimeZone, OffsetsAroundParisChanges) {
  const TimeZone paris("Europe/Paris");
  EXPECT_EQ(paris.offsetAt(utc(2018, 1, 15)), 3600);
  EXPECT_EQ(paris.offsetAt(utc(2018, 7, 1)), 7200);
  // 2018-03-25 01:00Z: 02:00 CET becomes 03:00 CEST.
  EXPECT_EQ(paris.offsetAt(utc(2018, 3, 25, 0, 59)), 3600);
  EXPECT_EQ(paris.offsetAt(utc(2018, 3, 25, 1, 0)), 7200);
  // 2018-10-28 01:00Z: 03:00 CEST becomes 02:00 CET.
  EXPECT_EQ(paris.offsetAt(utc(2018, 10, 28, 0, 59)), 7200);
  EXPECT_EQ(paris.offsetAt(utc(2018, 10, 28, 1, 0)), 3600);
  // Far beyond the file's transitions the footer rule (CET-1CEST,M3.5.0,M10.5.0/3) answers: 2100-03-28 is
  // the last Sunday of March 2100.
  EXPECT_EQ(paris.offsetAt(utc(2100, 3, 28, 0, 59)), 3600);
  EXPECT_EQ(paris.offsetAt(utc(2100, 3, 28, 1, 0)), 7200);
  EXPECT_EQ(paris.offsetAt(utc(2100, 7, 1)), 7200);
  EXPECT_EQ(paris.offsetAt(utc(2100, 12, 1)), 3600);
}

TEST(TimeZone, LocalToUtcInGapAndOverlap) {
  const TimeZone paris("Europe/Paris");
  EXPECT_EQ(paris.toUtc(civil(2018, 7, 1)), utc(2018, 6, 30, 22));
  // 02:30 does not exist on 2018-03-25: moved forward by the gap, i.e. 03:30 CEST = 01:30Z.
  EXPECT_EQ(paris.toUtc(civil(2018, 3, 25, 2, 30)), utc(2018, 3, 25, 1, 30));
  EXPECT_EQ(paris.toCivil(paris.toUtc(civil(2018, 3, 25, 2, 30))), civil(2018, 3, 25, 3, 30));
  // 02:30 happens twice on 2018-10-28: the first (CEST) occurrence is 00:30Z.
  EXPECT_EQ(paris.toUtc(civil(2018, 10, 28, 2, 30)), utc(2018, 10, 28, 0, 30));
  EXPECT_EQ(paris.toUtc(civil(2018, 10, 28, 3, 0)), utc(2018, 10, 28, 2, 0));

  const TimeZone vancouver("America/Vancouver");
  EXPECT_EQ(vancouver.toUtc(civil(2018, 1, 1)), utc(2018, 1, 1, 8));
  EXPECT_EQ(vancouver.toUtc(civil(2018, 3, 11, 2, 30)), utc(2018, 3, 11, 10, 30));   // gap: 03:30 PDT
  EXPECT_EQ(vancouver.toUtc(civil(2018, 11, 4, 1, 30)), utc(2018, 11, 4, 8, 30));    // overlap: PDT first
  EXPECT_EQ(vancouver.toCivil(utc(2018, 11, 4, 9, 30)), civil(2018, 11, 4, 1, 30));  // the second 01:30
}

TEST(TimeZone, UnknownZoneIsAUsageError) {
  for (const char* bad : {"Europe/Atlantis", "", "../etc/passwd", "/usr/share/zoneinfo/UTC"}) {
    try {
      const TimeZone zone(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const vigie::core::Error& e) {
      EXPECT_EQ(e.code(), vigie::core::ExitCode::Usage);
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(TimeBinning, DayBinsHaveDaylightSavingLengths) {
  const TimeBinning paris(BinUnit::Day, TimeZone("Europe/Paris"));
  const std::int64_t spring = paris.binOf(civil(2018, 3, 25, 12));
  const std::int64_t fall = paris.binOf(civil(2018, 10, 28, 12));
  EXPECT_EQ(paris.binStartUtc(spring + 1) - paris.binStartUtc(spring), 23 * 3600);
  EXPECT_EQ(paris.binStartUtc(fall + 1) - paris.binStartUtc(fall), 25 * 3600);
  EXPECT_EQ(paris.binStartUtc(spring - 1 + 1) - paris.binStartUtc(spring - 1), 24 * 3600);
  EXPECT_EQ(paris.isoStart(spring), "2018-03-25T00:00+01:00");
  EXPECT_EQ(paris.isoStart(spring + 1), "2018-03-26T00:00+02:00");
  EXPECT_EQ(paris.binStartUtc(paris.binOf(civil(2018, 7, 1, 9))), utc(2018, 6, 30, 22));
  EXPECT_EQ(paris.binOf(civil(2018, 7, 1, 0)), paris.binOf(civil(2018, 7, 1, 23, 59)));
  EXPECT_EQ(paris.binOf(civil(1970, 1, 1)), 0);
  EXPECT_EQ(paris.binOf(civil(1969, 12, 31, 23, 59)), -1);

  const TimeBinning van(BinUnit::Day, TimeZone("America/Vancouver"));
  const std::int64_t v_spring = van.binOf(civil(2018, 3, 11, 5));
  const std::int64_t v_fall = van.binOf(civil(2018, 11, 4, 5));
  EXPECT_EQ(van.binStartUtc(v_spring + 1) - van.binStartUtc(v_spring), 23 * 3600);
  EXPECT_EQ(van.binStartUtc(v_fall + 1) - van.binStartUtc(v_fall), 25 * 3600);
  EXPECT_EQ(van.isoStart(v_spring), "2018-03-11T00:00-08:00");
  EXPECT_EQ(van.isoStart(v_fall), "2018-11-04T00:00-07:00");
}

TEST(TimeBinning, HourBinsAreUtcHoursAcrossTheGapAndOverlap) {
  const TimeBinning paris(BinUnit::Hour, TimeZone("Europe/Paris"));
  // Spring: local 01:xx is 00:xxZ, the nonexistent 02:xx joins 03:xx (01:xxZ).
  const std::int64_t one = paris.binOf(civil(2018, 3, 25, 1, 15));
  EXPECT_EQ(one, utc(2018, 3, 25, 0) / 3600);
  EXPECT_EQ(paris.binOf(civil(2018, 3, 25, 2, 15)), one + 1);
  EXPECT_EQ(paris.binOf(civil(2018, 3, 25, 3, 15)), one + 1);
  EXPECT_EQ(paris.binOf(civil(2018, 3, 25, 4, 15)), one + 2);
  EXPECT_EQ(paris.isoStart(one), "2018-03-25T01:00+01:00");
  EXPECT_EQ(paris.isoStart(one + 1), "2018-03-25T03:00+02:00");
  // Fall: the UTC hours 00Z and 01Z both read 02:00 locally, with different offsets.
  const std::int64_t first = utc(2018, 10, 28, 0) / 3600;
  EXPECT_EQ(paris.binOf(civil(2018, 10, 28, 2, 30)), first);  // the first occurrence
  EXPECT_EQ(paris.isoStart(first), "2018-10-28T02:00+02:00");
  EXPECT_EQ(paris.isoStart(first + 1), "2018-10-28T02:00+01:00");
  EXPECT_EQ(paris.binOf(civil(2018, 10, 28, 3, 0)), first + 2);
  EXPECT_EQ(paris.binStartCivil(first + 2), civil(2018, 10, 28, 3));

  const TimeBinning van(BinUnit::Hour, TimeZone("America/Vancouver"));
  EXPECT_EQ(van.binOf(civil(2018, 3, 11, 2, 30)), van.binOf(civil(2018, 3, 11, 3, 30)));
  EXPECT_EQ(van.binOf(civil(2018, 11, 4, 1, 30)) + 2, van.binOf(civil(2018, 11, 4, 2, 30)));
}

TEST(TimeBinning, IsoWeeksStartOnMonday) {
  const TimeBinning week(BinUnit::Week, TimeZone("Europe/Paris"));
  // 2018-12-31 is the Monday of ISO week 2019-W01; 2018-12-30 is the Sunday ending 2018-W52.
  const std::int64_t w = week.binOf(civil(2018, 12, 31, 8));
  EXPECT_EQ(week.binOf(civil(2019, 1, 6, 23, 59)), w);
  EXPECT_EQ(week.binOf(civil(2018, 12, 30, 23, 59)), w - 1);
  EXPECT_EQ(week.binOf(civil(2019, 1, 7)), w + 1);
  EXPECT_EQ(week.binStartCivil(w), civil(2018, 12, 31));
  EXPECT_EQ(week.isoStart(w), "2018-12-31T00:00+01:00");
  // 1970-01-01 was a Thursday: it belongs to the week that began on Monday 1969-12-29.
  EXPECT_EQ(week.binOf(civil(1970, 1, 1)), 0);
  EXPECT_EQ(week.binStartCivil(0), civil(1969, 12, 29));
  // The week of the spring change has 7 * 24 - 1 hours.
  const std::int64_t dst_week = week.binOf(civil(2018, 3, 25));
  EXPECT_EQ(week.binStartUtc(dst_week + 1) - week.binStartUtc(dst_week), (7 * 24 - 1) * 3600);
}

TEST(TimeBinning, MonthBins) {
  const TimeBinning month(BinUnit::Month, TimeZone("Europe/Paris"));
  const std::int64_t jan = month.binOf(civil(2018, 1, 31, 23, 59));
  EXPECT_EQ(jan, (2018 - 1970) * 12);
  EXPECT_EQ(month.binOf(civil(2018, 2, 1)), jan + 1);
  EXPECT_EQ(month.binOf(civil(2018, 12, 31, 23)), jan + 11);
  EXPECT_EQ(month.binOf(civil(2019, 1, 1)), jan + 12);
  EXPECT_EQ(month.binStartCivil(jan + 2), civil(2018, 3, 1));
  EXPECT_EQ(month.isoStart(jan + 6), "2018-07-01T00:00+02:00");
  EXPECT_EQ(month.binStartUtc(jan + 6), utc(2018, 6, 30, 22));
  EXPECT_EQ(month.binStartUtc(jan + 3) - month.binStartUtc(jan + 2), (31 * 24 - 1) * 3600);
  EXPECT_EQ(month.binOf(civil(1969, 12, 15)), -1);
  EXPECT_EQ(month.binStartCivil(-1), civil(1969, 12, 1));
}

TEST(TimeBinning, AcceptsOnlyWhatTheSourceKnows) {
  const TimeZone zone("Europe/Paris");
  const TimeBinning hour(BinUnit::Hour, zone);
  const TimeBinning day(BinUnit::Day, zone);
  const TimeBinning week(BinUnit::Week, zone);
  const TimeBinning month(BinUnit::Month, zone);
  for (const TimeBinning* b : {&hour, &day, &week, &month}) {
    EXPECT_TRUE(b->accepts(TimePrecision::Minute));
    EXPECT_TRUE(b->accepts(TimePrecision::Hour));
  }
  EXPECT_FALSE(hour.accepts(TimePrecision::Day));
  EXPECT_TRUE(day.accepts(TimePrecision::Day));
  EXPECT_TRUE(week.accepts(TimePrecision::Day));
  EXPECT_TRUE(month.accepts(TimePrecision::Day));
  EXPECT_FALSE(day.accepts(TimePrecision::Month));
  EXPECT_FALSE(week.accepts(TimePrecision::Month));
  EXPECT_TRUE(month.accepts(TimePrecision::Month));
  EXPECT_EQ(vigie::ingest::parseBinUnit("week"), BinUnit::Week);
  EXPECT_THROW((void)vigie::ingest::parseBinUnit("fortnight"), vigie::core::Error);
  EXPECT_EQ(day.fingerprint(), "bin=day;timezone=Europe/Paris");
}
