#include "ingest/StaticLayers.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/Error.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;

struct Segment {
  double ax, ay, bx, by;
};

struct BoundingBox {
  double xmin = std::numeric_limits<double>::infinity();
  double ymin = std::numeric_limits<double>::infinity();
  double xmax = -std::numeric_limits<double>::infinity();
  double ymax = -std::numeric_limits<double>::infinity();
  void add(double x, double y) {
    xmin = std::min(xmin, x);
    ymin = std::min(ymin, y);
    xmax = std::max(xmax, x);
    ymax = std::max(ymax, y);
  }
  [[nodiscard]] double distance(double x, double y) const {
    const double dx = std::max({xmin - x, 0.0, x - xmax});
    const double dy = std::max({ymin - y, 0.0, y - ymax});
    return std::hypot(dx, dy);
  }
};

// A line or polygon feature: its edges, its bounding box and, for polygons, the rings for the inside test.
struct Shape {
  std::vector<Segment> segments;
  std::vector<const geo::Polygon*> polygons;
  BoundingBox box;
};

double segmentDistance(const Segment& s, double x, double y) {
  const double dx = s.bx - s.ax;
  const double dy = s.by - s.ay;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((x - s.ax) * dx + (y - s.ay) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(x - (s.ax + t * dx), y - (s.ay + t * dy));
}

// Crossing-number test of one ring (closure implicit).
bool crossesOdd(const geo::Ring& ring, double x, double y) {
  bool inside = false;
  const std::size_t n = ring.x.size();
  for (std::size_t a = 0, b = n - 1; a < n; b = a++) {
    const bool straddles = (ring.y[a] > y) != (ring.y[b] > y);
    if (straddles) {
      const double xc = ring.x[a] + (y - ring.y[a]) * (ring.x[b] - ring.x[a]) / (ring.y[b] - ring.y[a]);
      if (x < xc) inside = !inside;
    }
  }
  return inside;
}

bool insidePolygon(const geo::Polygon& poly, double x, double y) {
  bool inside = crossesOdd(poly.outer, x, y);
  for (const auto& hole : poly.holes) {
    if (crossesOdd(hole, x, y)) inside = !inside;
  }
  return inside;
}

void addRing(Shape& shape, const geo::Ring& ring) {
  const std::size_t n = ring.x.size();
  for (std::size_t a = 0; a < n; ++a) {
    const std::size_t b = (a + 1) % n;
    shape.segments.push_back({ring.x[a], ring.y[a], ring.x[b], ring.y[b]});
    shape.box.add(ring.x[a], ring.y[a]);
  }
}

// Distance from (x, y) to a line or polygon feature; 0 inside a polygon.
double shapeDistance(const Shape& shape, double x, double y) {
  for (const auto* poly : shape.polygons) {
    if (insidePolygon(*poly, x, y)) return 0.0;
  }
  double best = std::numeric_limits<double>::infinity();
  for (const auto& s : shape.segments) {
    // Per-segment box test: a segment whose box is already farther than the best edge cannot be nearer.
    const double dx = std::max({std::min(s.ax, s.bx) - x, 0.0, x - std::max(s.ax, s.bx)});
    const double dy = std::max({std::min(s.ay, s.by) - y, 0.0, y - std::max(s.ay, s.by)});
    if (dx >= best || dy >= best) continue;
    best = std::min(best, segmentDistance(s, x, y));
  }
  return best;
}

}  // namespace

geo::GeoJsonFile StaticLayers::load(const LayerSpec& layer, int grid_epsg) {
  if (grid_epsg == 0) {
    throw Error(ExitCode::Usage, "covariates.layers: layer '" + layer.name +
                                     "' needs a geographic grid (grid.crs = EPSG:n), the grid is a lattice");
  }
  auto file = geo::readGeoJson(layer.path);
  const bool usable = std::any_of(file.features.begin(), file.features.end(), [](const geo::Feature& f) {
    return !f.points.empty() || !f.lines.empty() || !f.polygons.empty();
  });
  if (!usable) {
    throw Error(ExitCode::InputData,
                layer.path.string() + ": layer '" + layer.name + "' has no point, line or polygon feature");
  }
  if (file.epsg != grid_epsg) geo::transform(file, grid_epsg);
  return file;
}

LayerFields StaticLayers::rasterize(const geo::GeoJsonFile& layer, const store::GridGeometry& grid,
                                    const store::Box& box, double radius_m) {
  if (!(radius_m > 0) || !std::isfinite(radius_m)) {
    throw Error(ExitCode::Usage, "covariates.density_radius_m must be positive");
  }
  std::vector<std::array<double, 2>> points;
  std::vector<Shape> shapes;
  for (const auto& f : layer.features) {
    for (const auto& [x, y] : f.points) points.push_back({x, y});
    if (!f.lines.empty()) {
      Shape shape;
      for (const auto& line : f.lines) {
        for (std::size_t k = 0; k < line.size(); ++k) {
          shape.box.add(line[k].first, line[k].second);
          // A one-vertex line is a degenerate segment: the distance to it is the distance to the vertex.
          const auto& next = k + 1 < line.size() ? line[k + 1] : line[k];
          if (k + 1 < line.size() || line.size() == 1) {
            shape.segments.push_back({line[k].first, line[k].second, next.first, next.second});
          }
        }
      }
      if (!shape.segments.empty()) shapes.push_back(std::move(shape));
    }
    if (!f.polygons.empty()) {
      Shape shape;
      for (const auto& poly : f.polygons) {
        if (poly.outer.x.empty()) continue;
        shape.polygons.push_back(&poly);
        addRing(shape, poly.outer);
        for (const auto& hole : poly.holes) {
          if (!hole.x.empty()) addRing(shape, hole);
        }
      }
      if (!shape.segments.empty()) shapes.push_back(std::move(shape));
    }
  }
  if (points.empty() && shapes.empty()) {
    throw Error(ExitCode::InputData, "static layer has no point, line or polygon feature");
  }

  const double area_km2 = std::numbers::pi * (radius_m / 1000.0) * (radius_m / 1000.0);
  LayerFields out;
  const auto ncell = static_cast<std::size_t>(box.cells());
  out.distance_m.assign(ncell, 0.0);
  out.density.assign(ncell, 0.0);
  // Each cell is a pure function of its centre, so the row split across threads cannot change a value.
#pragma omp parallel for schedule(static)
  for (int jj = 0; jj < box.nj; ++jj) {
    const double y = grid.y0 + (box.j0 + jj + 0.5) * grid.cell_m;
    for (int ii = 0; ii < box.ni; ++ii) {
      const double x = grid.x0 + (box.i0 + ii + 0.5) * grid.cell_m;
      double best = std::numeric_limits<double>::infinity();
      long count = 0;
      for (const auto& p : points) {
        const double d = std::hypot(p[0] - x, p[1] - y);
        best = std::min(best, d);
        if (d <= radius_m) ++count;
      }
      for (const auto& shape : shapes) {
        const double near = shape.box.distance(x, y);
        if (near > radius_m && near >= best) continue;
        const double d = shapeDistance(shape, x, y);
        best = std::min(best, d);
        if (d <= radius_m) ++count;
      }
      const auto k =
          static_cast<std::size_t>(jj) * static_cast<std::size_t>(box.ni) + static_cast<std::size_t>(ii);
      out.distance_m[k] = best;
      out.density[k] = static_cast<double>(count) / area_km2;
    }
  }
  return out;
}

}  // namespace vigie::ingest
