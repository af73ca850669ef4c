#include "geo/Rasterize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/Error.hpp"

namespace vigie::geo {

using core::Error;
using core::ExitCode;

// Scanline fill. For each row the centre line y = yc(j) is intersected with every edge once; the sorted
// crossings of one polygon bound the intervals [x_0, x_1), [x_2, x_3), ... where the even-odd count is odd.
// Cells whose centre falls in an interval are set. Polygons are filled one after another and OR-ed, so
// overlapping polygons give their union rather than an even-odd cancellation.
//
// Why the result does not depend on the box: yc(j) is computed from the global row j, the crossings from
// yc(j) and the edges alone, and the first and last column of each interval from the crossings, x0 and cell
// alone. The box (i0, j0, ni, nj) only clips which of these global decisions are written, so any set of boxes
// reproduces exactly the cells of the full box, bit for bit.

namespace {

// An edge oriented upwards (ylo < yhi) so that the crossing x of an edge shared by two polygons is computed
// from the same operands in both, whichever direction each polygon walks it; with half-open intervals a
// centre on a shared boundary then goes to exactly one of the two polygons.
struct Edge {
  double ylo, yhi, xlo, dxdy;
};

struct PreparedPolygon {
  std::vector<Edge> edges;
  double ymin = std::numeric_limits<double>::infinity();
  double ymax = -std::numeric_limits<double>::infinity();
};

void addRing(const Ring& ring, PreparedPolygon& out) {
  const std::size_t n = std::min(ring.x.size(), ring.y.size());
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t next = (k + 1) % n;
    double xa = ring.x[k];
    double ya = ring.y[k];
    double xb = ring.x[next];
    double yb = ring.y[next];
    // Horizontal edges never cross a scanline under the half-open rule below.
    if (ya == yb) continue;
    if (ya > yb) {
      std::swap(xa, xb);
      std::swap(ya, yb);
    }
    out.edges.push_back({ya, yb, xa, (xb - xa) / (yb - ya)});
    out.ymin = std::min(out.ymin, ya);
    out.ymax = std::max(out.ymax, yb);
  }
}

// Smallest column whose centre is >= x, clamped to [lo, hi]; the clamp is done in double so that a crossing
// far outside the grid cannot overflow the integer conversion.
long long firstColumnAtOrAfter(double x, double x0, double cell, long long lo, long long hi) {
  const double column = std::ceil((x - x0) / cell - 0.5);
  if (!(column > static_cast<double>(lo))) return lo;
  if (column >= static_cast<double>(hi)) return hi;
  return static_cast<long long>(column);
}

}  // namespace

std::vector<std::uint8_t> rasterizePolygons(const std::vector<Polygon>& polys, double x0, double y0,
                                            double cell, int i0, int j0, int ni, int nj) {
  if (!(cell > 0.0) || !std::isfinite(cell)) {
    throw Error(ExitCode::Usage,
                "rasterizePolygons: the cell size must be positive, not " + std::to_string(cell));
  }
  if (ni < 0 || nj < 0) {
    throw Error(ExitCode::Usage,
                "rasterizePolygons: negative box size " + std::to_string(ni) + " x " + std::to_string(nj));
  }
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(ni) * static_cast<std::size_t>(nj), 0);
  if (ni == 0 || nj == 0) return mask;

  std::vector<PreparedPolygon> prepared;
  prepared.reserve(polys.size());
  for (const Polygon& poly : polys) {
    PreparedPolygon p;
    addRing(poly.outer, p);
    for (const Ring& hole : poly.holes) addRing(hole, p);
    if (!p.edges.empty()) prepared.push_back(std::move(p));
  }

  const long long i_begin = i0;
  const long long i_end = static_cast<long long>(i0) + ni;
  std::vector<double> crossings;
  for (int j = j0; j < j0 + nj; ++j) {
    const double yc = y0 + (j + 0.5) * cell;
    std::uint8_t* row = mask.data() + static_cast<std::size_t>(j - j0) * static_cast<std::size_t>(ni);
    for (const PreparedPolygon& p : prepared) {
      if (yc < p.ymin || yc >= p.ymax) continue;
      crossings.clear();
      // Half-open in y (ylo <= yc < yhi): a scanline through a vertex counts the two edges meeting there
      // once in total when it passes through, twice or never when it touches an extremum.
      for (const Edge& e : p.edges) {
        if (e.ylo <= yc && yc < e.yhi) crossings.push_back(e.xlo + (yc - e.ylo) * e.dxdy);
      }
      std::sort(crossings.begin(), crossings.end());
      for (std::size_t k = 0; k + 1 < crossings.size(); k += 2) {
        const long long first = firstColumnAtOrAfter(crossings[k], x0, cell, i_begin, i_end);
        const long long last = firstColumnAtOrAfter(crossings[k + 1], x0, cell, i_begin, i_end);
        for (long long i = first; i < last; ++i) row[i - i_begin] = 1;
      }
    }
  }
  return mask;
}

}  // namespace vigie::geo
