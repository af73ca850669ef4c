#include "forecast/MapSupport.hpp"

#include <algorithm>
#include <cmath>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "geo/GeoJson.hpp"
#include "geo/Rasterize.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/TimeBinning.hpp"

namespace vigie::forecast {

using core::Error;
using core::ExitCode;

std::vector<Step> calendarSteps(const std::string& unit, const ingest::TimeZone& zone, std::int64_t first_utc,
                                int max_steps, std::int64_t end_utc, std::int64_t ref_utc) {
  const ingest::TimeBinning binning(ingest::parseBinUnit(unit, "step unit"), zone);
  const auto b = binning.binOf(zone.toCivil(first_utc));
  std::vector<Step> steps;
  std::int64_t cur = first_utc;
  for (int k = 0; k < max_steps && cur < end_utc; ++k) {
    Step s;
    s.utc0 = cur;
    s.utc1 = std::min(end_utc, binning.binStartUtc(b + k + 1));
    s.from = static_cast<double>(s.utc0 - ref_utc) / 86400.0;
    s.to = static_cast<double>(s.utc1 - ref_utc) / 86400.0;
    s.iso = ingest::isoLocal(zone, s.utc0);
    if (unit == "hour") {
      const std::int64_t civil = zone.toCivil(s.utc0);
      s.hour = static_cast<int>(((civil % 86400) + 86400) % 86400 / 3600);
    }
    steps.push_back(s);
    cur = s.utc1;
  }
  return steps;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(sorted.size() - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json band(double expected, std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {{"expected", expected},
          {"p10", percentile(samples, 0.1)},
          {"p50", percentile(samples, 0.5)},
          {"p90", percentile(samples, 0.9)}};
}

/// Replaces every non-finite number of a document by null (forecast.json holds finite numbers only).
std::string formatNumber(double v) {
  return nlohmann::json(v).dump();
}

void finite(nlohmann::json& j) {
  if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    j = nullptr;
  } else if (j.is_structured()) {
    for (auto& v : j) finite(v);
  }
}

/// Collective. Gathers one string per rank on rank 0 (rank order); empty elsewhere.
std::vector<std::string> gatherStrings(MPI_Comm comm, const std::string& mine) {
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
  int n = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size));
  VIGIE_CHECK_MPI(MPI_Gather(&n, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm));
  std::vector<int> offsets(static_cast<std::size_t>(size), 0);
  for (int r = 1; r < size; ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string all(rank == 0 ? static_cast<std::size_t>(offsets.back() + lengths.back()) : 0, '\0');
  VIGIE_CHECK_MPI(
      MPI_Gatherv(mine.data(), n, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0, comm));
  std::vector<std::string> out;
  if (rank == 0) {
    for (int r = 0; r < size; ++r) out.push_back(all.substr(offsets[r], lengths[r]));
  }
  return out;
}

/// The study area's outline in the grid's CRS (outer rings), or null.
namespace {

/// Douglas-Peucker: keeps the vertices of [a, b] farther than `tol` from the chord, recursively.
void simplify(const std::vector<double>& x, const std::vector<double>& y, std::size_t a, std::size_t b,
              double tol, std::vector<std::uint8_t>& keep) {
  if (b <= a + 1) return;
  const double dx = x[b] - x[a];
  const double dy = y[b] - y[a];
  const double len = std::hypot(dx, dy);
  double worst = -1.0;
  std::size_t at = a;
  for (std::size_t k = a + 1; k < b; ++k) {
    const double d = len > 0.0 ? std::abs(dy * (x[k] - x[a]) - dx * (y[k] - y[a])) / len
                               : std::hypot(x[k] - x[a], y[k] - y[a]);
    if (d > worst) {
      worst = d;
      at = k;
    }
  }
  if (worst <= tol) return;
  keep[at] = 1;
  simplify(x, y, a, at, tol, keep);
  simplify(x, y, at, b, tol, keep);
}

}  // namespace

nlohmann::json outlineJson(const grid::CityGrid& grid) {
  const auto& file = grid.spec().mask_file;
  if (file.empty() || grid.spec().epsg == 0) return nullptr;
  auto gj = geo::readGeoJson(file);
  if (gj.epsg != grid.spec().epsg) geo::transform(gj, grid.spec().epsg);
  // Simplified to a quarter of a cell (Douglas-Peucker), which a map of the cells cannot tell apart; rings
  // smaller than a cell are left out.
  const double tol = 0.25 * grid.spec().cell;
  nlohmann::json rings = nlohmann::json::array();
  for (const auto& f : gj.features) {
    for (const auto& p : f.polygons) {
      auto x = p.outer.x;
      auto y = p.outer.y;
      if (x.size() < 3) continue;
      x.push_back(x.front());
      y.push_back(y.front());
      const auto [xmin, xmax] = std::minmax_element(x.begin(), x.end());
      const auto [ymin, ymax] = std::minmax_element(y.begin(), y.end());
      if (*xmax - *xmin < grid.spec().cell && *ymax - *ymin < grid.spec().cell) continue;
      std::vector<std::uint8_t> keep(x.size(), 0);
      keep.front() = 1;
      keep.back() = 1;
      // Split at the vertex farthest from the first, so a closed ring has a proper chord.
      std::size_t far = 0;
      double best = -1.0;
      for (std::size_t k = 0; k < x.size(); ++k) {
        const double d = std::hypot(x[k] - x[0], y[k] - y[0]);
        if (d > best) {
          best = d;
          far = k;
        }
      }
      keep[far] = 1;
      simplify(x, y, 0, far, tol, keep);
      simplify(x, y, far, x.size() - 1, tol, keep);
      nlohmann::json ring = nlohmann::json::array();
      for (std::size_t k = 0; k < x.size(); ++k) {
        if (keep[k] != 0) ring.push_back({x[k], y[k]});
      }
      rings.push_back(std::move(ring));
    }
  }
  return {{"file", file.filename().string()}, {"rings_xy", rings}};
}

Areas readAreas(const grid::CityGrid& grid, const core::Config& config) {
  Areas a;
  a.file = config.getPath("forecast.areas");
  if (a.file.empty()) return a;
  if (grid.spec().epsg == 0)
    throw Error(ExitCode::Usage, "forecast.areas needs a geographic grid (grid.crs)", true);
  a.property = config.getString("forecast.area_name_property");
  auto gj = geo::readGeoJson(a.file);
  if (gj.epsg != grid.spec().epsg) geo::transform(gj, grid.spec().epsg);
  const auto& s = grid.spec();
  a.of_cell.assign(static_cast<std::size_t>(s.nx) * static_cast<std::size_t>(s.ny), -1);
  for (const auto& f : gj.features) {
    if (f.polygons.empty()) continue;
    std::string name;
    if (f.properties.is_object() && f.properties.contains(a.property)) {
      const auto& v = f.properties[a.property];
      name = v.is_string() ? v.get<std::string>() : v.dump();
    } else {
      throw Error(ExitCode::InputData,
                  a.file.string() + ": feature " + std::to_string(a.names.size()) + " has no property '" +
                      a.property + "' (forecast.area_name_property)",
                  true);
    }
    const auto id = static_cast<std::int32_t>(a.names.size());
    a.names.push_back(name);
    const auto inside = geo::rasterizePolygons(f.polygons, s.x0, s.y0, s.cell, 0, 0, s.nx, s.ny);
    for (std::size_t c = 0; c < inside.size(); ++c) {
      if (inside[c] != 0 && a.of_cell[c] < 0) a.of_cell[c] = id;
    }
  }
  return a;
}

/// Cells whose neighbourhood (disc of radius_m around the centre) holds at least min_count observed events.
std::vector<std::uint8_t> publishedCells(const grid::CityGrid& grid, const std::vector<std::uint8_t>& mask,
                                         const std::vector<std::int64_t>& counts, std::int64_t min_count,
                                         double radius_m) {
  const int nx = grid.nx();
  const int ny = grid.ny();
  std::vector<std::uint8_t> out(mask.size(), 0);
  const int r = static_cast<int>(std::floor(radius_m / grid.spec().cell + 1e-9));
  const double r2 = (radius_m / grid.spec().cell) * (radius_m / grid.spec().cell) + 1e-9;
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const auto c = static_cast<std::size_t>(j) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(i);
      if (mask[c] == 0) continue;
      if (min_count <= 0) {
        out[c] = 1;
        continue;
      }
      std::int64_t n = 0;
      for (int dj = -r; dj <= r; ++dj) {
        for (int di = -r; di <= r; ++di) {
          if (static_cast<double>(di * di + dj * dj) > r2) continue;
          const int ii = i + di;
          const int jj = j + dj;
          if (ii < 0 || jj < 0 || ii >= nx || jj >= ny) continue;
          n += counts[static_cast<std::size_t>(jj) * static_cast<std::size_t>(nx) +
                      static_cast<std::size_t>(ii)];
        }
      }
      out[c] = n >= min_count ? 1 : 0;
    }
  }
  return out;
}

}  // namespace vigie::forecast
