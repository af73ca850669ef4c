// Unit tests of vigie::geo: PROJ transformations, GeoJSON reading and polygon rasterisation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/Error.hpp"
#include "geo/GeoJson.hpp"
#include "geo/Projection.hpp"
#include "geo/Rasterize.hpp"

namespace {

using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::geo::Polygon;
using vigie::geo::Projection;
using vigie::geo::Ring;

const std::filesystem::path kMarseille = std::filesystem::path(VIGIE_SOURCE_DIR) / "inputs" / "marseille";

// A scratch file removed at the end of the test.
class ScratchFile {
 public:
  ScratchFile(const std::string& name, const std::string& content)
      : m_path(std::filesystem::temp_directory_path() /
               ("vigie_test_geo_" + std::to_string(::getpid()) + "_" + name)) {
    std::ofstream(m_path) << content;
  }
  ~ScratchFile() { std::filesystem::remove(m_path); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// The message and code of the Error thrown by f; fails the test if none is thrown.
template <class F>
std::pair<ExitCode, std::string> errorOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  ADD_FAILURE() << "no vigie::core::Error thrown";
  return {ExitCode::Ok, ""};
}

// Index of cell (i, j) in a row-major mask of row length ni.
std::size_t at(int i, int j, int ni) {
  return static_cast<std::size_t>(j) * static_cast<std::size_t>(ni) + static_cast<std::size_t>(i);
}

Ring rect(double xa, double ya, double xb, double yb) {
  return Ring{{xa, xb, xb, xa}, {ya, ya, yb, yb}};
}

// The cells (i, j) of an ni x nj mask that are set, as i + 100 j, in increasing order.
std::vector<int> setCells(const std::vector<std::uint8_t>& mask, int ni, int nj, int i0 = 0, int j0 = 0) {
  std::vector<int> cells;
  for (int j = 0; j < nj; ++j)
    for (int i = 0; i < ni; ++i)
      if (mask[at(i, j, ni)] != 0) cells.push_back((i + i0) + 100 * (j + j0));
  return cells;
}

// ---------------------------------------------------------------------------------------------- Projection

TEST(Projection, ReferencePointOfLambert93) {
  // Lambert-93's false origin: the central meridian 3 E and latitude 46.5 N map to (700 km, 6600 km).
  const Projection proj(4326, 2154);
  const auto [x, y] = proj.forward(3.0, 46.5);
  EXPECT_NEAR(x, 700000.0, 1e-3);
  EXPECT_NEAR(y, 6600000.0, 1e-3);
  const auto [lon, lat] = proj.inverse(700000.0, 6600000.0);
  EXPECT_NEAR(lon, 3.0, 1e-9);
  EXPECT_NEAR(lat, 46.5, 1e-9);
}

TEST(Projection, RoundTripAcrossMarseilleWithinOneMillimetre) {
  const Projection proj(4326, 2154);
  const Projection back(2154, 4326);
  int checked = 0;
  for (double lon = 5.20; lon <= 5.56; lon += 0.04) {
    for (double lat = 43.16; lat <= 43.40; lat += 0.03) {
      const auto [x, y] = proj.forward(lon, lat);
      // Marseille lies around x = 890 km, y = 6245 km in Lambert-93: a swapped axis order would miss by far.
      EXPECT_GT(x, 870000.0);
      EXPECT_LT(x, 920000.0);
      EXPECT_GT(y, 6220000.0);
      EXPECT_LT(y, 6270000.0);
      const auto [lon2, lat2] = back.forward(x, y);
      const auto [x2, y2] = proj.forward(lon2, lat2);
      EXPECT_LT(std::hypot(x2 - x, y2 - y), 1e-3) << "at lon " << lon << " lat " << lat;
      const auto [lon3, lat3] = proj.inverse(x, y);
      const auto [x3, y3] = proj.forward(lon3, lat3);
      EXPECT_LT(std::hypot(x3 - x, y3 - y), 1e-3) << "at lon " << lon << " lat " << lat;
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(Projection, BatchMatchesSinglePoints) {
  const Projection proj(4326, 2154);
  std::vector<double> xs = {5.37, 5.40, 5.25, 3.0};
  std::vector<double> ys = {43.29, 43.27, 43.36, 46.5};
  const auto lon = xs;
  const auto lat = ys;
  proj.forward(xs, ys);
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const auto [x, y] = proj.forward(lon[k], lat[k]);
    EXPECT_NEAR(xs[k], x, 1e-6);
    EXPECT_NEAR(ys[k], y, 1e-6);
  }
  proj.inverse(xs, ys);
  for (std::size_t k = 0; k < xs.size(); ++k) {
    EXPECT_NEAR(xs[k], lon[k], 1e-9);
    EXPECT_NEAR(ys[k], lat[k], 1e-9);
  }
  std::vector<double> too_short = {1.0};
  EXPECT_THROW(proj.forward(xs, too_short), Error);
}

TEST(Projection, MovedObjectStillTransforms) {
  Projection a(4326, 2154);
  Projection b(std::move(a));
  EXPECT_NEAR(b.forward(3.0, 46.5).first, 700000.0, 1e-3);
  Projection c(2154, 4326);
  c = std::move(b);
  EXPECT_EQ(c.fromEpsg(), 4326);
  EXPECT_EQ(c.toEpsg(), 2154);
  EXPECT_NEAR(c.forward(3.0, 46.5).second, 6600000.0, 1e-3);
}

TEST(Projection, InvalidEpsgThrowsUsageNamingTheCode) {
  const auto [code, message] = errorOf([] { Projection p(4326, 999999); });
  EXPECT_EQ(code, ExitCode::Usage);
  EXPECT_NE(message.find("EPSG:999999"), std::string::npos) << message;
  EXPECT_NE(message.find("EPSG:4326"), std::string::npos) << message;
  EXPECT_TRUE(Projection::isValidEpsg(2154));
  EXPECT_TRUE(Projection::isValidEpsg(4326));
  EXPECT_FALSE(Projection::isValidEpsg(999999));
  EXPECT_FALSE(Projection::isValidEpsg(0));
  EXPECT_FALSE(Projection::isValidEpsg(-4326));
}

TEST(Projection, UntransformablePointThrowsInputData) {
  const Projection proj(4326, 2154);
  const auto [code, message] = errorOf([&] { (void)proj.forward(5.0, 100.0); });
  EXPECT_EQ(code, ExitCode::InputData);
  EXPECT_NE(message.find("EPSG:2154"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------- GeoJSON

TEST(GeoJson, ReadsTheMarseilleCommuneOutline) {
  const auto file = vigie::geo::readGeoJson(kMarseille / "commune_outline.geojson");
  EXPECT_EQ(file.epsg, 4326);
  ASSERT_EQ(file.features.size(), 1U);
  const auto& f = file.features[0];
  EXPECT_EQ(f.geometry_type, "MultiPolygon");
  EXPECT_EQ(f.properties.at("nom"), "Marseille");
  EXPECT_EQ(f.polygons.size(), 85U);
  std::size_t vertices = 0;
  for (const Polygon& p : f.polygons) {
    EXPECT_EQ(p.outer.x.size(), p.outer.y.size());
    vertices += p.outer.x.size();
    for (const Ring& h : p.holes) vertices += h.x.size();
  }
  // 23,129 positions in the file, less the 85 repeated closing vertices.
  EXPECT_EQ(vertices, 23129U - 85U);
  for (const Polygon& p : f.polygons) {
    for (std::size_t k = 0; k < p.outer.x.size(); ++k) {
      ASSERT_GT(p.outer.x[k], 5.1);
      ASSERT_LT(p.outer.x[k], 5.6);
      ASSERT_GT(p.outer.y[k], 43.1);
      ASSERT_LT(p.outer.y[k], 43.4);
    }
  }
}

TEST(GeoJson, ReadsLandmarksAndArrondissements) {
  const auto landmarks = vigie::geo::readGeoJson(kMarseille / "landmarks.geojson");
  ASSERT_EQ(landmarks.features.size(), 113U);
  for (const auto& f : landmarks.features) {
    EXPECT_EQ(f.geometry_type, "Point");
    EXPECT_EQ(f.points.size(), 1U);
    EXPECT_TRUE(f.polygons.empty());
  }
  EXPECT_EQ(landmarks.features[0].properties.at("name"), "Notre-Dame de la Garde");
  const auto arr = vigie::geo::readGeoJson(kMarseille / "arrondissements.geojson");
  EXPECT_EQ(arr.features.size(), 16U);
}

TEST(GeoJson, ReadsLinesAndLegacyCrs) {
  const ScratchFile f("crs.geojson", R"({"type": "FeatureCollection",
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
    "features": [
      {"type": "Feature", "properties": {"id": 1},
       "geometry": {"type": "MultiPoint", "coordinates": [[700000, 6600000], [890000, 6245000, 12.5]]}},
      {"type": "Feature", "properties": null,
       "geometry": {"type": "MultiLineString", "coordinates": [[[700000, 6600000], [701000, 6600000]]]}},
      {"type": "Feature", "properties": {},
       "geometry": {"type": "Polygon", "coordinates": [
         [[700000, 6600000], [700100, 6600000], [700100, 6600100], [700000, 6600100], [700000, 6600000]],
         [[700040, 6600040], [700060, 6600040], [700060, 6600060], [700040, 6600040]]]}},
      {"type": "Feature", "properties": {}, "geometry": null}
    ]})");
  auto file = vigie::geo::readGeoJson(f.path());
  EXPECT_EQ(file.epsg, 2154);
  ASSERT_EQ(file.features.size(), 4U);
  EXPECT_EQ(file.features[0].points.size(), 2U);
  ASSERT_EQ(file.features[1].lines.size(), 1U);
  EXPECT_EQ(file.features[1].lines[0].size(), 2U);
  ASSERT_EQ(file.features[2].polygons.size(), 1U);
  EXPECT_EQ(file.features[2].polygons[0].outer.x.size(), 4U);
  ASSERT_EQ(file.features[2].polygons[0].holes.size(), 1U);
  EXPECT_EQ(file.features[2].polygons[0].holes[0].x.size(), 3U);
  EXPECT_TRUE(file.features[3].geometry_type.empty());

  vigie::geo::transform(file, 4326);
  EXPECT_EQ(file.epsg, 4326);
  EXPECT_NEAR(file.features[0].points[0].first, 3.0, 1e-9);
  EXPECT_NEAR(file.features[0].points[0].second, 46.5, 1e-9);
  EXPECT_NEAR(file.features[2].polygons[0].outer.y[0], 46.5, 1e-9);
  vigie::geo::transform(file, 2154);
  EXPECT_NEAR(file.features[1].lines[0][1].first, 701000.0, 1e-3);
  EXPECT_NEAR(file.features[2].polygons[0].holes[0].x[1], 700060.0, 1e-3);

  const ScratchFile short_epsg("crs2.geojson",
                               R"({"type": "FeatureCollection", "crs": {"type": "name", "properties":
                                   {"name": "EPSG:3857"}}, "features": []})");
  EXPECT_EQ(vigie::geo::readGeoJson(short_epsg.path()).epsg, 3857);
  const ScratchFile crs84("crs3.geojson",
                          R"({"type": "FeatureCollection", "crs": {"type": "name", "properties":
                              {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": []})");
  EXPECT_EQ(vigie::geo::readGeoJson(crs84.path()).epsg, 4326);
}

TEST(GeoJson, MalformedJsonNamesTheFileAndLine) {
  const ScratchFile f("bad.geojson", "{\n  \"type\": \"FeatureCollection\",\n  \"features\": [ oops ]\n}\n");
  const auto [code, message] = errorOf([&] { (void)vigie::geo::readGeoJson(f.path()); });
  EXPECT_EQ(code, ExitCode::InputData);
  EXPECT_NE(message.find(f.path().string()), std::string::npos) << message;
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
}

TEST(GeoJson, StructuralErrorsNameTheFileAndFeature) {
  const ScratchFile ring("ring.geojson", R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [5.3, 43.3]}},
    {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}}
  ]})");
  auto [code, message] = errorOf([&] { (void)vigie::geo::readGeoJson(ring.path()); });
  EXPECT_EQ(code, ExitCode::InputData);
  EXPECT_NE(message.find(ring.path().string()), std::string::npos) << message;
  EXPECT_NE(message.find("feature 1"), std::string::npos) << message;

  const ScratchFile coll("coll.geojson", R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {}, "geometry": {"type": "GeometryCollection", "geometries": []}}]})");
  std::tie(code, message) = errorOf([&] { (void)vigie::geo::readGeoJson(coll.path()); });
  EXPECT_EQ(code, ExitCode::InputData);
  EXPECT_NE(message.find("GeometryCollection"), std::string::npos) << message;

  const ScratchFile notfc("notfc.geojson", R"({"type": "Feature", "geometry": null})");
  std::tie(code, message) = errorOf([&] { (void)vigie::geo::readGeoJson(notfc.path()); });
  EXPECT_NE(message.find("FeatureCollection"), std::string::npos) << message;

  const ScratchFile badcrs("badcrs.geojson",
                           R"({"type": "FeatureCollection", "crs": {"type": "name", "properties":
                               {"name": "urn:ogc:def:crs:EPSG::99999999"}}, "features": []})");
  std::tie(code, message) = errorOf([&] { (void)vigie::geo::readGeoJson(badcrs.path()); });
  EXPECT_EQ(code, ExitCode::InputData);
  EXPECT_NE(message.find("EPSG:99999999"), std::string::npos) << message;

  const std::filesystem::path missing = kMarseille / "no_such_file.geojson";
  std::tie(code, message) = errorOf([&] { (void)vigie::geo::readGeoJson(missing); });
  EXPECT_EQ(code, ExitCode::InputData);
  EXPECT_NE(message.find("no_such_file.geojson"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------- Rasterize

TEST(Rasterize, SquareAlignedWithCells) {
  // Cells of 1 from the origin: centres at 0.5, 1.5, ...; the square [1,4]^2 holds columns and rows 1..3.
  const std::vector<Polygon> polys = {Polygon{rect(1, 1, 4, 4), {}}};
  const auto mask = vigie::geo::rasterizePolygons(polys, 0, 0, 1, 0, 0, 6, 6);
  ASSERT_EQ(mask.size(), 36U);
  std::vector<int> expected;
  for (int j = 1; j <= 3; ++j)
    for (int i = 1; i <= 3; ++i) expected.push_back(i + 100 * j);
  EXPECT_EQ(setCells(mask, 6, 6), expected);
}

TEST(Rasterize, SquareWithHole) {
  const std::vector<Polygon> polys = {Polygon{rect(1, 1, 4, 4), {rect(2, 2, 3, 3)}}};
  const auto mask = vigie::geo::rasterizePolygons(polys, 0, 0, 1, 0, 0, 6, 6);
  EXPECT_EQ(setCells(mask, 6, 6), (std::vector<int>{101, 102, 103, 201, 203, 301, 302, 303}));
}

TEST(Rasterize, UnalignedRectangleOffsetOriginAndBox) {
  // Origin (10, 20), cells of 2: centre of (i, j) at (11 + 2i, 21 + 2j). The rectangle x in [12.4, 16.9],
  // y in [22.5, 27.0] holds centres x = 13, 15 (i = 1, 2) and y = 23, 25 (j = 1, 2).
  const std::vector<Polygon> polys = {Polygon{rect(12.4, 22.5, 16.9, 27.0), {}}};
  const auto full = vigie::geo::rasterizePolygons(polys, 10, 20, 2, 0, 0, 5, 5);
  EXPECT_EQ(setCells(full, 5, 5), (std::vector<int>{101, 102, 201, 202}));
  // The box i in [2, 5), j in [1, 3) sees only column 2 of it, at local index (j-1)*3 + (i-2).
  const auto box = vigie::geo::rasterizePolygons(polys, 10, 20, 2, 2, 1, 3, 2);
  EXPECT_EQ(box, (std::vector<std::uint8_t>{1, 0, 0, 1, 0, 0}));
  // A box partly outside the grid and away from the polygon is all zeros, of the box's size.
  const auto outside = vigie::geo::rasterizePolygons(polys, 10, 20, 2, -3, -3, 4, 2);
  EXPECT_EQ(outside, std::vector<std::uint8_t>(8, 0));
}

TEST(Rasterize, OverlappingPolygonsGiveTheUnionWhateverTheOrientation) {
  Ring clockwise = rect(2, 0, 5, 3);
  std::reverse(clockwise.x.begin(), clockwise.x.end());
  std::reverse(clockwise.y.begin(), clockwise.y.end());
  const std::vector<Polygon> polys = {Polygon{rect(0, 0, 3, 3), {}}, Polygon{clockwise, {}}};
  const auto mask = vigie::geo::rasterizePolygons(polys, 0, 0, 1, 0, 0, 6, 3);
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(mask[at(i, j, 6)], i < 5 ? 1 : 0) << i << "," << j;
}

TEST(Rasterize, TriangleMatchesPointInPolygon) {
  // Right triangle (0,0), (10,0), (0,10): a centre (x, y) is inside iff x + y < 10.
  const std::vector<Polygon> polys = {Polygon{Ring{{0, 10, 0}, {0, 0, 10}}, {}}};
  const auto mask = vigie::geo::rasterizePolygons(polys, 0, 0, 1, 0, 0, 12, 12);
  for (int j = 0; j < 12; ++j) {
    for (int i = 0; i < 12; ++i) {
      const bool inside = (i + 0.5) + (j + 0.5) < 10.0;
      EXPECT_EQ(mask[at(i, j, 12)], inside ? 1 : 0) << i << "," << j;
    }
  }
}

TEST(Rasterize, RejectsBadArguments) {
  const std::vector<Polygon> polys = {Polygon{rect(1, 1, 4, 4), {}}};
  EXPECT_THROW((void)vigie::geo::rasterizePolygons(polys, 0, 0, 0, 0, 0, 6, 6), Error);
  EXPECT_THROW((void)vigie::geo::rasterizePolygons(polys, 0, 0, 1, 0, 0, -1, 6), Error);
  EXPECT_TRUE(vigie::geo::rasterizePolygons(polys, 0, 0, 1, 0, 0, 0, 6).empty());
}

// The Marseille case grid (Lambert-93, 100 m): see inputs/marseille/README.md.
constexpr double kX0 = 881100.0;
constexpr double kY0 = 6232800.0;
constexpr int kNx = 246;
constexpr int kNy = 251;

std::vector<Polygon> marseilleLambert93() {
  auto file = vigie::geo::readGeoJson(kMarseille / "commune_outline.geojson");
  vigie::geo::transform(file, 2154);
  EXPECT_EQ(file.epsg, 2154);
  return file.features.at(0).polygons;
}

TEST(Rasterize, MarseilleCommuneAreaAt100m) {
  const auto polys = marseilleLambert93();
  const auto mask = vigie::geo::rasterizePolygons(polys, kX0, kY0, 100.0, 0, 0, kNx, kNy);
  const long cells = std::accumulate(mask.begin(), mask.end(), 0L);
  const double area_km2 = static_cast<double>(cells) * 0.01;
  EXPECT_NEAR(area_km2, 238.1, 0.02 * 238.1) << cells << " cells";
  // The 1-cell margin of the grid stays outside the commune.
  for (int i = 0; i < kNx; ++i) {
    EXPECT_EQ(mask[at(i, 0, kNx)], 0);
    EXPECT_EQ(mask[at(i, kNy - 1, kNx)], 0);
  }
  for (int j = 0; j < kNy; ++j) {
    EXPECT_EQ(mask[at(0, j, kNx)], 0);
    EXPECT_EQ(mask[at(kNx - 1, j, kNx)], 0);
  }
  // Notre-Dame de la Garde, a landmark in the city, falls in a marked cell.
  const Projection proj(4326, 2154);
  const auto [x, y] = proj.forward(5.371242, 43.2839455);
  const int i = static_cast<int>(std::floor((x - kX0) / 100.0));
  const int j = static_cast<int>(std::floor((y - kY0) / 100.0));
  EXPECT_EQ(mask[at(i, j, kNx)], 1);
}

TEST(Rasterize, DecompositionDoesNotChangeTheMask) {
  const auto polys = marseilleLambert93();
  const auto full = vigie::geo::rasterizePolygons(polys, kX0, kY0, 100.0, 0, 0, kNx, kNy);
  // Four uneven boxes, as a 2 x 2 process grid would own them.
  const int isplit = 97;
  const int jsplit = 131;
  std::vector<std::uint8_t> stitched(full.size(), 7);
  for (const auto& [bi0, bni] : {std::pair{0, isplit}, std::pair{isplit, kNx - isplit}}) {
    for (const auto& [bj0, bnj] : {std::pair{0, jsplit}, std::pair{jsplit, kNy - jsplit}}) {
      const auto box = vigie::geo::rasterizePolygons(polys, kX0, kY0, 100.0, bi0, bj0, bni, bnj);
      ASSERT_EQ(box.size(), at(0, bnj, bni));
      for (int j = 0; j < bnj; ++j)
        for (int i = 0; i < bni; ++i) stitched[at(bi0 + i, bj0 + j, kNx)] = box[at(i, j, bni)];
    }
  }
  EXPECT_EQ(stitched, full);
  EXPECT_GT(std::accumulate(full.begin(), full.end(), 0L), 20000L);
}

}  // namespace
