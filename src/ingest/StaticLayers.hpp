#pragma once
/// Static spatial covariates: for each GeoJSON layer (points, lines or polygons), the distance from every
/// cell centre to the nearest feature and the density of features within a radius.
#include <filesystem>
#include <string>
#include <vector>

#include "geo/GeoJson.hpp"
#include "store/GridGeometry.hpp"

namespace vigie::ingest {

/// One layer of `covariates.layers`: its name (a lowercase identifier) and GeoJSON file.
struct LayerSpec {
  std::string name;
  std::filesystem::path path;
};

/// A layer rasterised on a box of the grid, box order (j-j0)*ni + (i-i0).
struct LayerFields {
  /// Metres from the cell centre to the nearest point, line segment or polygon edge; 0 inside a polygon.
  std::vector<double> distance_m;
  /// Features within the radius of the cell centre per km^2: each point (of a Point or MultiPoint) counts 1,
  /// each line or polygon feature counts 1 if any part of it is within the radius (or the centre is inside).
  std::vector<double> density;
};

/// Reading layers and rasterising them as distance and density fields.
class StaticLayers {
 public:
  /// Not collective. Reads the layer's GeoJSON and reprojects it to `grid_epsg`. Throws
  /// core::Error(InputData) naming the file if it cannot be read or has no usable feature.
  static geo::GeoJsonFile load(const LayerSpec& layer, int grid_epsg);

  /// Not collective. Distance and density at the centres of the cells of `box`; the layer must be in the
  /// grid's CRS, the radius in the same units (metres; the density is per km^2 of metres). The value of a
  /// cell depends only on its centre, so any decomposition gives the same field. Throws core::Error(Usage) if
  /// radius_m <= 0 and core::Error(InputData) if the layer has no feature.
  static LayerFields rasterize(const geo::GeoJsonFile& layer, const store::GridGeometry& grid,
                               const store::Box& box, double radius_m);
};

}  // namespace vigie::ingest
