#include "scenario/ScenarioSpec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "geo/Projection.hpp"
#include "geo/Rasterize.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Calendar.hpp"
#include "ingest/Event.hpp"
#include "ingest/TimeBinning.hpp"
#include "ingest/Weather.hpp"

namespace vigie::scenario {

namespace {

namespace fs = std::filesystem;
using core::Error;
using core::ExitCode;

constexpr double kCrowdUnit = 10000.0;       // the crowd at which an event's multiplier is 1 + effect
constexpr std::int64_t kMaxWindowDays = 62;  // longest scenario window: two months of hourly maps
constexpr std::int64_t kSecondsPerDay = 86400;

// The table documented in ScenarioSpec.hpp and docs/scenarios.md. Named assumptions, not estimates: the
// scenario report lists every default an event uses.
const std::vector<EventKind> kEventKinds = {
    {"match", 0.5, 0.25, 0.5, 2, 2},    {"concert", 0.3, 0.15, 0.5, 1, 1},
    {"festival", 0.3, 0.15, 0.5, 1, 1}, {"gathering", 0.5, 0.25, 0.5, 1, 1},
    {"market", 0.2, 0.1, 0.5, 1, 1},    {"demonstration", 0.4, 0.2, 0.5, 1, 1},
};

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

// Shortest text that reads back to the same double ("0", "35", "0.074").
std::string numberText(double x) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(x);
}

std::string fixed(double x, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string joined(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// ---- INI text with line numbers ------------------------------------------------------------------------

struct Entry {
  std::string key, value;
  int line = 0;
};

struct Section {
  std::string name;
  int line = 0;
  std::vector<Entry> entries;
};

[[noreturn]] void failAt(ExitCode code, const fs::path& file, int line, const std::string& what) {
  throw Error(code, file.string() + ":" + std::to_string(line) + ": " + what, true);
}

// '#' starts a comment anywhere on a line (as in the case configs read by Boost); blank lines are skipped.
std::vector<Section> readIni(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ExitCode::InputData, file.string() + ": cannot read the scenario file", true);
  std::vector<Section> sections;
  std::string raw;
  int n = 0;
  while (std::getline(in, raw)) {
    ++n;
    if (n == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (const auto hash = raw.find('#'); hash != std::string::npos) raw.erase(hash);
    const std::string t = trim(raw);
    if (t.empty()) continue;
    if (t.front() == '[') {
      if (t.back() != ']') failAt(ExitCode::Usage, file, n, "'" + t + "' is not a [section] header");
      const std::string name = trim(std::string_view(t).substr(1, t.size() - 2));
      if (name.empty()) failAt(ExitCode::Usage, file, n, "[]: empty section name");
      sections.push_back(Section{name, n, {}});
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos) failAt(ExitCode::Usage, file, n, "'" + t + "' is not 'key = value'");
    const std::string key = trim(std::string_view(t).substr(0, eq));
    if (key.empty()) failAt(ExitCode::Usage, file, n, "'" + t + "' has no key before '='");
    if (sections.empty()) failAt(ExitCode::Usage, file, n, key + ": outside any [section]");
    sections.back().entries.push_back(Entry{key, trim(std::string_view(t).substr(eq + 1)), n});
  }
  return sections;
}

// The keys of one section: unknown and repeated keys are refused up front, and every later error names the
// key's line (or the section's line for a missing key).
class Fields {
 public:
  Fields(fs::path file, const Section& section, const std::vector<std::string>& allowed)
      : m_file(std::move(file)), m_section(section) {
    for (const auto& e : section.entries) {
      if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
        failAt(ExitCode::Usage, m_file, e.line,
               prefix(e.key) + "unknown key" +
                   (allowed.empty() ? std::string(" (this section takes none)")
                                    : " (expected one of " + joined(allowed) + ")"));
      }
      if (const Entry* first = find(e.key)) {
        failAt(ExitCode::Usage, m_file, e.line,
               prefix(e.key) + "given twice (first on line " + std::to_string(first->line) + ")");
      }
      m_seen.push_back(&e);
    }
  }

  [[nodiscard]] const fs::path& file() const { return m_file; }
  [[nodiscard]] const std::string& name() const { return m_section.name; }
  [[nodiscard]] bool has(const std::string& key) const { return find(key) != nullptr; }

  [[nodiscard]] const Entry* find(const std::string& key) const {
    for (const Entry* e : m_seen)
      if (e->key == key) return e;
    return nullptr;
  }

  [[nodiscard]] int line(const std::string& key) const {
    const Entry* e = find(key);
    return e ? e->line : m_section.line;
  }

  [[nodiscard]] std::string prefix(const std::string& key) const {
    return "[" + m_section.name + "]" + (key.empty() ? std::string(":") : " " + key + ":") + " ";
  }

  [[noreturn]] void fail(const std::string& key, const std::string& reason,
                         ExitCode code = ExitCode::Usage) const {
    failAt(code, m_file, line(key), prefix(key) + reason);
  }

  // The value of a key that must be given and not empty.
  [[nodiscard]] std::string text(const std::string& key, const std::string& what) const {
    const Entry* e = find(key);
    if (!e) fail(key, "missing (" + what + ")");
    if (e->value.empty()) fail(key, "empty (" + what + ")");
    return e->value;
  }

  [[nodiscard]] std::optional<double> number(const std::string& key) const {
    const Entry* e = find(key);
    if (!e) return std::nullopt;
    const std::string& s = e->value;
    double x = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(x)) {
      fail(key, "'" + s + "' is not a number");
    }
    return x;
  }

  [[nodiscard]] double requiredNumber(const std::string& key, const std::string& what) const {
    if (!has(key)) fail(key, "missing (" + what + ")");
    return *number(key);
  }

  // A local time "YYYY-MM-DDTHH:MM" of `zone`, as its text and UTC instant.
  [[nodiscard]] std::pair<std::string, std::int64_t> localTime(const std::string& key,
                                                               const ingest::TimeZone& zone) const {
    const std::string s = text(key, "a local time YYYY-MM-DDTHH:MM");
    const auto digits = [&](std::size_t at, std::size_t n) {
      for (std::size_t k = at; k < at + n; ++k)
        if (s[k] < '0' || s[k] > '9') return -1;
      int v = 0;
      std::from_chars(s.data() + at, s.data() + at + n, v);
      return v;
    };
    const auto day =
        s.size() == 16 && s[10] == 'T' && s[13] == ':' ? ingest::parseIsoDate(s.substr(0, 10)) : std::nullopt;
    const int hour = day ? digits(11, 2) : -1;
    const int minute = day ? digits(14, 2) : -1;
    if (!day || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
      fail(key, "'" + s + "' is not a local time YYYY-MM-DDTHH:MM (e.g. 2019-03-17T21:00)");
    }
    const std::int64_t civil = *day * kSecondsPerDay + hour * 3600 + minute * 60;
    return {s, zone.toUtc(civil)};
  }

  // start and end: both required, end after start.
  [[nodiscard]] Window window(const ingest::TimeZone& zone) const {
    Window w;
    std::tie(w.start_iso, w.start_utc) = localTime("start", zone);
    std::tie(w.end_iso, w.end_utc) = localTime("end", zone);
    if (w.end_utc <= w.start_utc) {
      fail("end", "'" + w.end_iso + "' is not after start '" + w.start_iso + "'");
    }
    return w;
  }

 private:
  fs::path m_file;
  const Section& m_section;
  std::vector<const Entry*> m_seen;
};

// ---- areas ----------------------------------------------------------------------------------------------

struct Extent {
  double x0, y0, x1, y1;
};

Extent extentOf(const grid::CityGrid& grid) {
  const auto& s = grid.spec();
  return {s.x0, s.y0, s.x0 + s.nx * s.cell, s.y0 + s.ny * s.cell};
}

std::string extentText(const grid::CityGrid& grid) {
  const Extent e = extentOf(grid);
  return "the grid covers x " + fixed(e.x0, 0) + " .. " + fixed(e.x1, 0) + ", y " + fixed(e.y0, 0) + " .. " +
         fixed(e.y1, 0) + " (EPSG:" + std::to_string(grid.spec().epsg) + ")";
}

// The box of grid cells whose centres may lie in [x0, x1] x [y0, y1], clipped to the grid (possibly empty).
store::Box boxOver(const grid::CityGrid& grid, double x0, double y0, double x1, double y1) {
  const auto& s = grid.spec();
  const auto lo = [&](double v, double origin, int n) {
    return static_cast<int>(std::clamp(std::floor((v - origin) / s.cell) - 1, 0.0, static_cast<double>(n)));
  };
  const auto hi = [&](double v, double origin, int n) {
    return static_cast<int>(std::clamp(std::floor((v - origin) / s.cell) + 2, 0.0, static_cast<double>(n)));
  };
  const int i0 = lo(x0, s.x0, s.nx), i1 = hi(x1, s.x0, s.nx);
  const int j0 = lo(y0, s.y0, s.ny), j1 = hi(y1, s.y0, s.ny);
  return store::Box{i0, j0, std::max(0, i1 - i0), std::max(0, j1 - j0)};
}

std::vector<geo::Polygon> toGridCrs(const std::vector<geo::Polygon>& polygons, int epsg) {
  geo::Projection proj(4326, epsg);
  std::vector<geo::Polygon> out = polygons;
  const auto move = [&](geo::Ring& r) { proj.forward(r.x, r.y); };
  for (auto& p : out) {
    move(p.outer);
    for (auto& h : p.holes) move(h);
  }
  return out;
}

std::string lonLatText(double lon, double lat) {
  return "lon " + numberText(lon) + ", lat " + numberText(lat);
}

// lon, lat, radius_m, or polygon = FILE (relative to the scenario's folder); the area must reach the grid.
Area readArea(const Fields& f, const grid::CityGrid& grid) {
  const bool has_circle = f.has("lon") || f.has("lat") || f.has("radius_m");
  const bool has_polygon = f.has("polygon");
  if (has_circle && has_polygon) {
    f.fail("polygon", "give either lon, lat and radius_m or polygon, not both");
  }
  if (!has_circle && !has_polygon) {
    f.fail("lon", "missing: give the area as lon, lat and radius_m, or as polygon = FILE.geojson");
  }
  const std::string where_key = has_polygon ? "polygon" : "lon";
  if (!grid.geographic()) {
    f.fail(where_key,
           "the grid has no geographic coordinates (grid.crs = none), so lon/lat areas cannot be "
           "placed on it");
  }
  Area a;
  const Extent ext = extentOf(grid);
  double bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;  // the area's bounding box in the grid CRS
  if (has_circle) {
    a.circle = true;
    a.lon = f.requiredNumber("lon", "longitude of the centre, degrees east");
    a.lat = f.requiredNumber("lat", "latitude of the centre, degrees north");
    a.radius_m = f.requiredNumber("radius_m", "radius of the circle, metres");
    if (a.lon < -180 || a.lon > 180) f.fail("lon", numberText(a.lon) + " is not a longitude (-180 .. 180)");
    if (a.lat < -90 || a.lat > 90) f.fail("lat", numberText(a.lat) + " is not a latitude (-90 .. 90)");
    if (a.radius_m <= 0) f.fail("radius_m", numberText(a.radius_m) + " must be > 0");
    std::array<double, 2> c{};
    try {
      c = grid.fromLonLat(a.lon, a.lat);
    } catch (const Error& e) {
      f.fail("lon", lonLatText(a.lon, a.lat) + " cannot be projected to the grid: " + e.what());
    }
    if (c[0] < ext.x0 || c[0] > ext.x1 || c[1] < ext.y0 || c[1] > ext.y1) {
      f.fail("lon", "location outside the grid: " + lonLatText(a.lon, a.lat) + " is at x " + fixed(c[0], 0) +
                        ", y " + fixed(c[1], 0) + ", " + extentText(grid));
    }
    bx0 = c[0] - a.radius_m;
    bx1 = c[0] + a.radius_m;
    by0 = c[1] - a.radius_m;
    by1 = c[1] + a.radius_m;
  } else {
    a.circle = false;
    const fs::path given = f.text("polygon", "a GeoJSON file of polygons in lon/lat");
    a.polygon_file = given.is_absolute() ? given : f.file().parent_path() / given;
    geo::GeoJsonFile gj;
    try {
      gj = geo::readGeoJson(a.polygon_file);
      if (gj.epsg != 4326) geo::transform(gj, 4326);
    } catch (const Error& e) {
      f.fail("polygon", e.what(), ExitCode::InputData);
    }
    for (std::size_t k = 0; k < gj.features.size(); ++k) {
      const auto& feat = gj.features[k];
      if (feat.geometry_type != "Polygon" && feat.geometry_type != "MultiPolygon") {
        f.fail("polygon",
               a.polygon_file.string() + ": feature " + std::to_string(k) + " is a " +
                   (feat.geometry_type.empty() ? std::string("null geometry") : feat.geometry_type) +
                   ", not a Polygon or MultiPolygon",
               ExitCode::InputData);
      }
      a.polygons.insert(a.polygons.end(), feat.polygons.begin(), feat.polygons.end());
    }
    if (a.polygons.empty())
      f.fail("polygon", a.polygon_file.string() + " has no polygon", ExitCode::InputData);
    std::vector<geo::Polygon> projected;
    try {
      projected = toGridCrs(a.polygons, grid.spec().epsg);
    } catch (const Error& e) {
      f.fail("polygon", "cannot be projected to the grid: " + std::string(e.what()));
    }
    bx0 = by0 = std::numeric_limits<double>::infinity();
    bx1 = by1 = -std::numeric_limits<double>::infinity();
    for (const auto& p : projected) {
      if (p.outer.x.empty()) continue;
      bx0 = std::min(bx0, *std::min_element(p.outer.x.begin(), p.outer.x.end()));
      bx1 = std::max(bx1, *std::max_element(p.outer.x.begin(), p.outer.x.end()));
      by0 = std::min(by0, *std::min_element(p.outer.y.begin(), p.outer.y.end()));
      by1 = std::max(by1, *std::max_element(p.outer.y.begin(), p.outer.y.end()));
    }
    if (bx1 < ext.x0 || bx0 > ext.x1 || by1 < ext.y0 || by0 > ext.y1) {
      f.fail("polygon", "location outside the grid: the polygons span x " + fixed(bx0, 0) + " .. " +
                            fixed(bx1, 0) + ", y " + fixed(by0, 0) + " .. " + fixed(by1, 0) + ", " +
                            extentText(grid));
    }
  }
  // An area that holds no cell centre would act nowhere: certainly a mistake (a radius below half a cell, a
  // sliver of polygon at the edge).
  const store::Box box = boxOver(grid, bx0, by0, bx1, by1);
  const auto inside = a.cells(grid, box);
  if (std::count(inside.begin(), inside.end(), std::uint8_t{1}) == 0) {
    f.fail(where_key, a.text() + " contains no cell centre of the grid (cells of " +
                          numberText(grid.spec().cell) + " m)");
  }
  return a;
}

const std::vector<std::string> kAreaKeys = {"lon", "lat", "radius_m", "polygon"};

std::vector<std::string> withAreaKeys(std::vector<std::string> keys) {
  keys.insert(keys.end(), kAreaKeys.begin(), kAreaKeys.end());
  return keys;
}

// ---- sections -------------------------------------------------------------------------------------------

// "event.match" -> "match" when the section is `kind`.NAME with a NAME of letters, digits, '_' or '-'.
std::optional<std::string> sectionName(const std::string& section, const std::string& kind) {
  if (section.rfind(kind + ".", 0) != 0) return std::nullopt;
  return section.substr(kind.size() + 1);
}

bool validName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string hoursText(double h) {
  return numberText(h) + " h";
}

EventSource readEvent(const Fields& f, const std::string& name, const ingest::TimeZone& zone,
                      const grid::CityGrid& grid, std::vector<std::string>& assumptions) {
  EventSource ev;
  ev.name = name;
  ev.kind = f.text("kind", "match, concert, festival, gathering, market or demonstration");
  const auto k = std::find_if(kEventKinds.begin(), kEventKinds.end(),
                              [&](const EventKind& d) { return ev.kind == d.kind; });
  if (k == kEventKinds.end()) {
    std::vector<std::string> names;
    for (const auto& d : kEventKinds) names.emplace_back(d.kind);
    f.fail("kind", "unknown kind '" + ev.kind + "' (expected one of " + joined(names) + ")");
  }
  ev.area = readArea(f, grid);
  ev.when = f.window(zone);
  ev.crowd = f.requiredNumber("crowd", "the expected crowd, people");
  if (ev.crowd < 0) f.fail("crowd", numberText(ev.crowd) + " must be >= 0");

  std::vector<std::string> defaulted, given;
  const auto param = [&](const std::string& key, double def) {
    const auto v = f.number(key);
    (v ? given : defaulted).push_back(key + " " + numberText(v ? *v : def));
    return v ? *v : def;
  };
  ev.effect = param("effect", k->effect);
  ev.effect_sd = param("effect_sd", k->effect_sd);
  ev.elasticity = param("elasticity", k->elasticity);
  ev.pre_hours = param("pre_hours", k->pre_hours);
  ev.post_hours = param("post_hours", k->post_hours);
  if (ev.effect <= -1) f.fail("effect", numberText(ev.effect) + " must be > -1 (a relative change)");
  if (ev.effect_sd < 0) f.fail("effect_sd", numberText(ev.effect_sd) + " must be >= 0");
  if (ev.elasticity < 0) f.fail("elasticity", numberText(ev.elasticity) + " must be >= 0");
  if (ev.pre_hours < 0) f.fail("pre_hours", numberText(ev.pre_hours) + " must be >= 0");
  if (ev.post_hours < 0) f.fail("post_hours", numberText(ev.post_hours) + " must be >= 0");
  const double m = ev.multiplier();
  if (!(m > 0) || !std::isfinite(m)) {
    f.fail("effect",
           "1 + effect * (crowd / 10000)^elasticity = " + numberText(m) + " is not a positive factor");
  }

  std::string s = "Event '" + name + "' (" + ev.kind + ", crowd " + numberText(ev.crowd) + ", " +
                  ev.when.start_iso + " to " + ev.when.end_iso + ", " + ev.area.text() +
                  "): expected incidents inside are multiplied by 1 + " + numberText(ev.effect) + " x (" +
                  numberText(ev.crowd) + "/10000)^" + numberText(ev.elasticity) + " = " + fixed(m, 3) +
                  " (effect sd " + numberText(ev.effect_sd) + ") from " + hoursText(ev.pre_hours) +
                  " before its start to " + hoursText(ev.post_hours) + " after its end";
  if (!defaulted.empty()) {
    s += "; " + joined(defaulted) + " are Vigie's defaults for a " + ev.kind +
         ", named assumptions not estimated from data";
  }
  if (!given.empty()) s += "; " + joined(given) + " are given by the scenario file, not estimated from data";
  assumptions.push_back(s + ".");
  return ev;
}

AreaEffect readAreaEffect(const Fields& f, const std::string& label, const std::string& name,
                          const ingest::TimeZone& zone, const grid::CityGrid& grid,
                          std::vector<std::string>& assumptions) {
  AreaEffect a;
  a.name = name;
  a.area = readArea(f, grid);
  a.when = f.window(zone);
  a.effect = f.requiredNumber("effect", "relative change of incidents inside, e.g. -0.074");
  a.effect_sd = f.requiredNumber("effect_sd", "standard deviation of effect");
  a.basis = f.text("basis", "where the effect size comes from");
  if (a.effect <= -1) f.fail("effect", numberText(a.effect) + " must be > -1 (a relative change)");
  if (a.effect_sd < 0) f.fail("effect_sd", numberText(a.effect_sd) + " must be >= 0");
  assumptions.push_back(label + " '" + name + "' (" + a.when.start_iso + " to " + a.when.end_iso + ", " +
                        a.area.text() + "): expected incidents inside are multiplied by 1 + " +
                        numberText(a.effect) + " = " + fixed(1 + a.effect, 3) + " (effect sd " +
                        numberText(a.effect_sd) +
                        "), given by the scenario file, not estimated from data; basis: " + a.basis + ".");
  return a;
}

// Physical bounds of a daily value, as FutureConditions checks them (so the error names the scenario line).
std::string outOfRange(const std::string& var, double x) {
  if ((var == "rain_mm" || var == "wind_mean_ms" || var == "gust_max_ms") && x < 0) return "is negative";
  if ((var == "thunder_days" || var == "fog_days") && (x < 0 || x > 1))
    return "is outside 0..1 (days per day)";
  return {};
}

}  // namespace

const std::vector<EventKind>& eventKinds() {
  return kEventKinds;
}

double EventSource::multiplier() const {
  return 1.0 + effect * std::pow(crowd / kCrowdUnit, elasticity);
}

std::vector<std::uint8_t> Area::cells(const grid::CityGrid& grid, const store::Box& box) const {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(std::max(0LL, box.cells())), 0);
  if (out.empty()) return out;
  if (!grid.geographic()) {
    throw Error(ExitCode::Usage, "a scenario area needs a geographic grid (grid.crs = none has no lon/lat)");
  }
  if (circle) {
    const auto c = grid.fromLonLat(lon, lat);
    for (int j = box.j0; j < box.j0 + box.nj; ++j) {
      for (int i = box.i0; i < box.i0 + box.ni; ++i) {
        const auto p = grid.cellCentre(i, j);
        if (std::hypot(p[0] - c[0], p[1] - c[1]) <= radius_m) {
          out[static_cast<std::size_t>(j - box.j0) * box.ni + (i - box.i0)] = 1;
        }
      }
    }
    return out;
  }
  const auto& s = grid.spec();
  return geo::rasterizePolygons(toGridCrs(polygons, s.epsg), s.x0, s.y0, s.cell, box.i0, box.j0, box.ni,
                                box.nj);
}

std::string Area::text() const {
  if (circle) return "a circle of " + numberText(radius_m) + " m around " + lonLatText(lon, lat);
  return "the polygons of " + polygon_file.filename().string();
}

ScenarioSpec ScenarioSpec::read(const fs::path& file, const ingest::TimeZone& zone,
                                const grid::CityGrid& grid) {
  ScenarioSpec spec;
  spec.file = file;
  const std::vector<Section> sections = readIni(file);

  std::vector<const Section*> seen;
  const Section* head = nullptr;
  for (const auto& sec : sections) {
    for (const Section* other : seen) {
      if (other->name == sec.name) {
        failAt(ExitCode::Usage, file, sec.line,
               "[" + sec.name + "]: section given twice (first on line " + std::to_string(other->line) + ")");
      }
    }
    seen.push_back(&sec);
    if (sec.name == "scenario") head = &sec;
  }
  if (!head) {
    throw Error(ExitCode::Usage,
                file.string() + ":1: [scenario]: missing (the section with name, start, end)", true);
  }

  {
    const Fields f(file, *head, {"name", "description", "start", "end", "step"});
    const Entry* name = f.find("name");
    spec.name = name && !name->value.empty() ? name->value : file.stem().string();
    if (const Entry* d = f.find("description")) spec.description = d->value;
    spec.window = f.window(zone);
    if (spec.window.end_utc - spec.window.start_utc > kMaxWindowDays * kSecondsPerDay) {
      f.fail("end", "the window " + spec.window.start_iso + " .. " + spec.window.end_iso +
                        " is longer than " + std::to_string(kMaxWindowDays) + " days");
    }
    if (const Entry* st = f.find("step")) {
      if (st->value != "hour" && st->value != "day") f.fail("step", "'" + st->value + "' is not hour or day");
      spec.step = st->value;
    }
  }

  for (const auto& sec : sections) {
    if (&sec == head) continue;
    if (sec.name == "weather") {
      const Fields f(file, sec, ingest::Weather::names());
      for (const auto& e : sec.entries) {
        const double x = *f.number(e.key);
        if (const auto why = outOfRange(e.key, x); !why.empty()) f.fail(e.key, numberText(x) + " " + why);
        spec.weather[e.key] = x;
      }
    } else if (sec.name == "calendar") {
      const Fields f(file, sec, {"public_holidays"});
      if (f.has("public_holidays")) {
        for (const auto& item : core::splitList(f.find("public_holidays")->value)) {
          if (!ingest::parseIsoDate(item)) {
            f.fail("public_holidays", "'" + item + "' is not an ISO date (YYYY-MM-DD)");
          }
          spec.public_holidays.push_back(item);
        }
      }
    } else if (const auto ev = sectionName(sec.name, "event")) {
      if (!validName(*ev)) {
        failAt(ExitCode::Usage, file, sec.line,
               "[" + sec.name + "]: the name after 'event.' must be letters, digits, '_' or '-'");
      }
      const Fields f(file, sec,
                     withAreaKeys({"kind", "start", "end", "crowd", "effect", "effect_sd", "elasticity",
                                   "pre_hours", "post_hours"}));
      spec.events.push_back(readEvent(f, *ev, zone, grid, spec.assumptions));
    } else if (const auto wk = sectionName(sec.name, "works")) {
      if (!validName(*wk)) {
        failAt(ExitCode::Usage, file, sec.line,
               "[" + sec.name + "]: the name after 'works.' must be letters, digits, '_' or '-'");
      }
      const Fields f(file, sec, withAreaKeys({"start", "end", "effect", "effect_sd", "basis"}));
      spec.works.push_back(readAreaEffect(f, "Works", *wk, zone, grid, spec.assumptions));
    } else if (const auto iv = sectionName(sec.name, "intervention")) {
      if (!validName(*iv)) {
        failAt(ExitCode::Usage, file, sec.line,
               "[" + sec.name + "]: the name after 'intervention.' must be letters, digits, '_' or '-'");
      }
      const Fields f(file, sec, withAreaKeys({"start", "end", "effect", "effect_sd", "basis"}));
      spec.interventions.push_back(readAreaEffect(f, "Intervention", *iv, zone, grid, spec.assumptions));
    } else {
      failAt(ExitCode::Usage, file, sec.line,
             "[" + sec.name +
                 "]: unknown section (expected scenario, weather, calendar, event.NAME, works.NAME or "
                 "intervention.NAME)");
    }
  }
  return spec;
}

std::vector<std::pair<std::string, std::string>> ScenarioSpec::configOverrides() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!weather.empty()) {
    std::vector<std::string> items;
    for (const auto& [var, value] : weather) items.push_back(var + "=" + numberText(value));
    out.emplace_back("forecast.weather_overrides", joined(items, ","));
  }
  if (!public_holidays.empty()) out.emplace_back("forecast.public_holidays", joined(public_holidays, ","));
  return out;
}

bool ScenarioSpec::empty() const {
  return weather.empty() && public_holidays.empty() && events.empty() && works.empty() &&
         interventions.empty();
}

}  // namespace vigie::scenario
