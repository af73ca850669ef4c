#pragma once
/// Rasterisation of polygons onto a box of a regular grid of square cells.
#include <cstdint>
#include <vector>

#include "geo/GeoJson.hpp"

namespace vigie::geo {

/// Not collective. Marks the cells of the box i in [i0, i0+ni), j in [j0, j0+nj) of the grid with origin (x0,
/// y0) (south-west corner) and square cells of side `cell`: i is the column along x, j the row along y, row 0
/// the southern edge. A cell is 1 if its centre (x0 + (i+0.5) cell, y0 + (j+0.5) cell) lies inside any
/// polygon (even-odd rule, holes excluded), else 0; a centre on a left or bottom edge counts as inside, on a
/// right or top edge as outside. Output index (j-j0)*ni + (i-i0). The value of a cell depends only on its
/// global (i, j), never on the box, so boxes of a domain decomposition stitch into the same mask as one full
/// box. Polygons must be in the grid's CRS. Throws core::Error(ExitCode::Usage) if cell <= 0 or ni, nj < 0.
std::vector<std::uint8_t> rasterizePolygons(const std::vector<Polygon>& polys, double x0, double y0,
                                            double cell, int i0, int j0, int ni, int nj);

}  // namespace vigie::geo
