#pragma once
/// One map of the city grid as a single-band float32 GeoTIFF that QGIS and GDAL open in the grid's CRS.
#include <filesystem>
#include <span>
#include <string>

namespace vigie::grid {
class CityGrid;
}

namespace vigie::store {

/// Collective. Gathers the owned values (owned-box order, one per owned cell) on rank 0 by global index, so
/// every decomposition writes the same pixels, and rank 0 writes `path` as a north-up float32 GeoTIFF: row 0
/// is the grid's northern row (j = ny - 1), ModelPixelScale (cell, cell, 0), ModelTiepoint (0, 0, 0, x0,
/// y0 + ny * cell, 0), GeoKeys GTModelType = projected, GTRasterType = PixelIsArea, ProjectedCSType = the
/// grid's EPSG code. Cells outside the grid's mask hold `nodata`, which is also stored in the GDAL_NODATA
/// tag; `description` becomes the ImageDescription tag. The file is written under a temporary name and
/// renamed, so a crash never leaves a truncated map under the real name. Throws Error(Usage) on every rank
/// for a lattice grid (EPSG 0), Error(Internal) if `owned` does not match the owned box, Error(Io) on every
/// rank if the file cannot be written.
void writeGeoTiff(const grid::CityGrid& grid, const std::filesystem::path& path,
                  std::span<const double> owned, const std::string& description, double nodata);

}  // namespace vigie::store
