#pragma once
/// A what-if scenario file (`inputs/<case>/scenarios/*.ini`): the period it reports, its weather and
/// calendar, and the events, works and interventions that act on an area of the city for a while. This file
/// reads and checks the scenario; the scenario engine applies it.
///
/// How each element acts (docs/scenarios.md):
/// - [weather] and [calendar] become the forecast options forecast.weather_overrides and
///   forecast.public_holidays (configOverrides()); they act through the fitted covariates, so their effect
///   comes from data.
/// - An event multiplies the expected incidents of the cells inside its area, from pre_hours before its start
///   to post_hours after its end, by
///       m = 1 + effect * (crowd / 10000)^elasticity
///   (EventSource::multiplier()). effect is the relative change for a crowd of 10,000 people, effect_sd its
///   uncertainty (one standard deviation, for ensemble draws), elasticity how the change grows with the
///   crowd. Defaults by kind (eventKinds()) are named assumptions, not estimates from data:
///       kind           effect  effect_sd  elasticity  pre_hours  post_hours
///       match          0.5     0.25       0.5         2          2
///       concert        0.3     0.15       0.5         1          1
///       festival       0.3     0.15       0.5         1          1
///       gathering      0.5     0.25       0.5         1          1
///       market         0.2     0.1        0.5         1          1
///       demonstration  0.4     0.2        0.5         1          1
/// - Works and interventions multiply the expected incidents of the cells inside their area during their
///   window by 1 + effect (effect_sd its standard deviation); both are required, with a `basis` saying where
///   the value comes from (printed with the results).
/// Windows are half-open, [start, end), local times of the case's time zone.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "geo/GeoJson.hpp"
#include "store/GridGeometry.hpp"

namespace vigie::grid {
class CityGrid;
}
namespace vigie::ingest {
class TimeZone;
}

namespace vigie::scenario {

/// Where something acts: a circle (lon, lat, radius_m) or polygons from a GeoJSON file (lon/lat).
struct Area {
  bool circle = true;
  double lon = 0, lat = 0, radius_m = 0;
  std::filesystem::path polygon_file;
  std::vector<geo::Polygon> polygons;  // as read (EPSG:4326)
  /// Not collective. 1 for each cell of `box` (owned-box order, row j0 first) whose CENTRE is inside the area
  /// (circle: distance from the centre in the grid CRS <= radius_m; polygon: rasterizePolygons after
  /// reprojection to the grid CRS), else 0. Depends only on the cell's global (i, j), never on the box.
  /// Throws core::Error(Usage) on a lattice grid (no geographic coordinates).
  [[nodiscard]] std::vector<std::uint8_t> cells(const grid::CityGrid& grid, const store::Box& box) const;
  /// A short English description: "a 1000 m circle around 5.3959 E 43.2698 N" or "the polygons of FILE".
  [[nodiscard]] std::string text() const;
};

/// A period in local ISO time of the case's zone ("2019-01-13T19:00"), and its UTC instants: [start, end).
struct Window {
  std::string start_iso, end_iso;
  std::int64_t start_utc = 0, end_utc = 0;
};

/// A crowd event ([event.NAME]): see the effect model at the top of this file.
struct EventSource {
  std::string name, kind;
  Area area;
  Window when;
  double crowd = 0;
  double effect = 0, effect_sd = 0, elasticity = 0;
  double pre_hours = 1, post_hours = 1;
  /// 1 + effect * (crowd / 10000)^elasticity: the factor on the expected incidents inside the area, from
  /// pre_hours before when.start to post_hours after when.end.
  [[nodiscard]] double multiplier() const;
};

/// Works ([works.NAME]) or an intervention ([intervention.NAME]): the expected incidents inside the area are
/// multiplied by 1 + effect during `when` (a relative change, e.g. -0.074 for 7.4 % fewer).
struct AreaEffect {
  std::string name;
  Area area;
  Window when;
  double effect = 0, effect_sd = 0;
  std::string basis;  // where the effect size comes from (printed)
};

/// The default effect of an event kind: named assumptions, not estimated from data.
struct EventKind {
  const char* kind;
  double effect, effect_sd, elasticity, pre_hours, post_hours;
};
/// The event kinds a scenario may name, with their defaults (the table at the top of this file).
const std::vector<EventKind>& eventKinds();

/// A parsed, checked scenario file.
struct ScenarioSpec {
  std::filesystem::path file;
  std::string name, description;  // name defaults to the file's stem
  Window window;                  // [scenario] start, end: the period whose maps and totals are reported
  std::string step = "hour";      // [scenario] step: hour or day (maps per step inside the window)
  std::map<std::string, double> weather;     // [weather] var = value (daily values; ingest::Weather::names())
  std::vector<std::string> public_holidays;  // [calendar] public_holidays = ISO dates
  std::vector<EventSource> events;           // [event.NAME] sections, in file order
  std::vector<AreaEffect> works;             // [works.NAME]
  std::vector<AreaEffect> interventions;     // [intervention.NAME]
  std::vector<std::string> assumptions;      // one English sentence per assumption not estimated from data

  /// Not collective (every rank reads the same file and gets the same result or the same error). Reads and
  /// validates; every error is core::Error(ExitCode::Usage, or InputData for an unreadable scenario or
  /// GeoJSON file, "<file>:<line>: [section] key: reason", collective=true).
  static ScenarioSpec read(const std::filesystem::path& file, const ingest::TimeZone& zone,
                           const grid::CityGrid& grid);

  /// The config overrides it implies for the forecast: forecast.weather_overrides ("rain_mm=0,tmax_c=35") and
  /// forecast.public_holidays ("2019-07-14"), each only when the scenario gives some (empty when none).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> configOverrides() const;
  /// True when the scenario changes nothing: no weather, holidays, events, works or interventions.
  [[nodiscard]] bool empty() const;
};

}  // namespace vigie::scenario
