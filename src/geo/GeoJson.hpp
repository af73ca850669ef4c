#pragma once
/// Reading GeoJSON feature collections (points, lines, polygons) and reprojecting them.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::geo {

/// A closed ring of vertices in order; the closing vertex is not repeated (closure is implicit).
struct Ring {
  std::vector<double> x;
  std::vector<double> y;
};

/// A polygon: one outer ring and zero or more holes; inside means inside an odd number of its rings.
struct Polygon {
  Ring outer;
  std::vector<Ring> holes;
};

/// One GeoJSON feature. Only the member matching geometry_type is filled: polygons for Polygon/MultiPolygon,
/// points for Point/MultiPoint, lines for LineString/MultiLineString. A null geometry gives an empty type.
struct Feature {
  std::string geometry_type;
  std::vector<Polygon> polygons;
  std::vector<std::pair<double, double>> points;
  std::vector<std::vector<std::pair<double, double>>> lines;
  nlohmann::json properties;
};

/// A feature collection with the EPSG code its coordinates are in (4326, lon/lat, unless a legacy "crs" said
/// otherwise).
struct GeoJsonFile {
  int epsg = 4326;
  std::vector<Feature> features;
};

/// Not collective. Reads a GeoJSON FeatureCollection. Coordinates are (x, y) = (lon, lat) per RFC 7946 unless
/// a legacy "crs" member names another EPSG code ("urn:ogc:def:crs:EPSG::NNNN", "EPSG:NNNN"; OGC CRS84 is
/// 4326). Throws core::Error(ExitCode::InputData, "<file>: <reason>") for an unreadable or malformed file,
/// with the line for JSON syntax errors and the feature index for structural ones. GeometryCollection is
/// rejected.
GeoJsonFile readGeoJson(const std::filesystem::path& path);

/// Not collective. Reprojects every coordinate of `file` in place to `to_epsg` and sets file.epsg.
/// Throws core::Error as Projection does.
void transform(GeoJsonFile& file, int to_epsg);

}  // namespace vigie::geo
