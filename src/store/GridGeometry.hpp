#pragma once
/// The grid description shared by every field file: a box of owned cells and the lattice's geometry.
#include <string>

namespace vigie::store {

/// One rank's owned cells: columns [i0, i0+ni), rows [j0, j0+nj); local index (j-j0)*ni + (i-i0).
/// An empty box (ni or nj zero) is valid: that rank still takes part in collective I/O.
struct Box {
  int i0 = 0;
  int j0 = 0;
  int ni = 0;
  int nj = 0;
  /// Number of cells in the box.
  [[nodiscard]] long long cells() const { return static_cast<long long>(ni) * nj; }
};

/// A regular lattice of nx columns (x increases with the column index) by ny rows (row 0 is the southern
/// edge).
struct GridGeometry {
  int epsg = 0;       ///< EPSG code of the projected CRS; 0 for a non-geographic lattice
  double x0 = 0;      ///< x of the south-west corner of cell (0, 0)
  double y0 = 0;      ///< y of the south-west corner of cell (0, 0)
  double cell_m = 1;  ///< cell edge length
  int nx = 0;
  int ny = 0;
  std::string boundary;  ///< the boundary condition's name, recorded for readers
};

}  // namespace vigie::store
