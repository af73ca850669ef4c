#include "geo/GeoJson.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/Error.hpp"
#include "geo/Projection.hpp"

namespace vigie::geo {

using core::Error;
using core::ExitCode;
using nlohmann::json;

namespace {

// A structural problem inside the document; readGeoJson prefixes it with the file and feature.
struct FormatError {
  std::string reason;
};

std::pair<double, double> readPosition(const json& pos) {
  if (!pos.is_array() || pos.size() < 2)
    throw FormatError{"a position must be an array of at least 2 numbers"};
  if (!pos[0].is_number() || !pos[1].is_number()) throw FormatError{"a position holds a non-number"};
  const double x = pos[0].get<double>();
  const double y = pos[1].get<double>();
  if (!std::isfinite(x) || !std::isfinite(y)) throw FormatError{"a position holds a non-finite number"};
  // A third (altitude) element is allowed by RFC 7946 and ignored: the grid is two-dimensional.
  return {x, y};
}

std::vector<std::pair<double, double>> readPositions(const json& arr, const char* what) {
  if (!arr.is_array()) throw FormatError{std::string(what) + " must be an array of positions"};
  std::vector<std::pair<double, double>> out;
  out.reserve(arr.size());
  for (const json& pos : arr) out.push_back(readPosition(pos));
  return out;
}

const json& requireArray(const json& value, const char* what) {
  if (!value.is_array()) throw FormatError{std::string(what) + " must be an array"};
  return value;
}

Ring readRing(const json& arr) {
  auto pts = readPositions(arr, "a linear ring");
  // RFC 7946 asks for closed rings; files that forget the closing vertex are accepted since closure is
  // implicit in Ring anyway.
  if (pts.size() >= 2 && pts.front() == pts.back()) pts.pop_back();
  if (pts.size() < 3) throw FormatError{"a linear ring has fewer than 3 distinct vertices"};
  Ring ring;
  ring.x.reserve(pts.size());
  ring.y.reserve(pts.size());
  for (const auto& [x, y] : pts) {
    ring.x.push_back(x);
    ring.y.push_back(y);
  }
  return ring;
}

Polygon readPolygon(const json& rings) {
  requireArray(rings, "Polygon coordinates");
  if (rings.empty()) throw FormatError{"a Polygon has no ring"};
  Polygon poly;
  poly.outer = readRing(rings[0]);
  for (std::size_t r = 1; r < rings.size(); ++r) poly.holes.push_back(readRing(rings[r]));
  return poly;
}

void readGeometry(const json& geom, Feature& feature) {
  if (geom.is_null()) return;
  if (!geom.is_object()) throw FormatError{"\"geometry\" must be an object or null"};
  const auto type_it = geom.find("type");
  if (type_it == geom.end() || !type_it->is_string()) throw FormatError{"a geometry has no \"type\" string"};
  const std::string type = type_it->get<std::string>();
  if (type == "GeometryCollection") throw FormatError{"GeometryCollection is not supported"};
  const auto coords_it = geom.find("coordinates");
  if (coords_it == geom.end()) throw FormatError{type + " has no \"coordinates\""};
  const json& coords = *coords_it;
  feature.geometry_type = type;
  if (type == "Point") {
    feature.points.push_back(readPosition(coords));
  } else if (type == "MultiPoint") {
    feature.points = readPositions(coords, "MultiPoint coordinates");
  } else if (type == "LineString") {
    feature.lines.push_back(readPositions(coords, "LineString coordinates"));
  } else if (type == "MultiLineString") {
    for (const json& line : requireArray(coords, "MultiLineString coordinates"))
      feature.lines.push_back(readPositions(line, "a MultiLineString member"));
  } else if (type == "Polygon") {
    feature.polygons.push_back(readPolygon(coords));
  } else if (type == "MultiPolygon") {
    for (const json& poly : requireArray(coords, "MultiPolygon coordinates"))
      feature.polygons.push_back(readPolygon(poly));
  } else {
    throw FormatError{"unknown geometry type \"" + type + "\""};
  }
}

// The EPSG code named by a legacy (GeoJSON 2008) "crs" member.
int readCrs(const json& crs) {
  const json* name = nullptr;
  if (crs.is_object()) {
    const auto props = crs.find("properties");
    if (props != crs.end() && props->is_object()) {
      const auto it = props->find("name");
      if (it != props->end() && it->is_string()) name = &*it;
    }
  }
  if (name == nullptr)
    throw FormatError{R"("crs" is not a named CRS ({"type":"name","properties":{"name":...}}))"};
  const std::string text = name->get<std::string>();
  if (text == "urn:ogc:def:crs:OGC:1.3:CRS84" || text == "urn:ogc:def:crs:OGC::CRS84" ||
      text == "OGC:CRS84") {
    return 4326;
  }
  std::string digits;
  const std::string urn_prefix = "urn:ogc:def:crs:EPSG:";
  if (text.rfind(urn_prefix, 0) == 0) {
    // The URN may carry a version between the two colons ("EPSG:6.6:4326"); the code is the last field.
    digits = text.substr(text.rfind(':') + 1);
  } else if (text.rfind("EPSG:", 0) == 0) {
    digits = text.substr(5);
  }
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw FormatError{R"(unsupported "crs" name ")" + text +
                      R"(" (expected urn:ogc:def:crs:EPSG::NNNN or EPSG:NNNN))"};
  }
  return std::stoi(digits);
}

// 1-based line of a byte offset, for parse errors: nlohmann reports the count of bytes read.
std::size_t lineOfByte(const std::string& text, std::size_t byte) {
  const std::size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
}

}  // namespace

GeoJsonFile readGeoJson(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ExitCode::InputData, file + ": cannot open the file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ExitCode::InputData, file + ": read error");

  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string reason = e.what();
    // nlohmann's text starts with "[json.exception.parse_error.101] parse error at line L, column C: ";
    // keep only the part after the position, since the line is given in our own form.
    const auto colon = reason.find(": ");
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    throw Error(ExitCode::InputData,
                file + ": line " + std::to_string(lineOfByte(text, e.byte)) + ": invalid JSON: " + reason);
  }

  GeoJsonFile result;
  std::size_t index = 0;
  try {
    if (!doc.is_object()) throw FormatError{"the document is not a JSON object"};
    const auto type_it = doc.find("type");
    if (type_it == doc.end() || *type_it != "FeatureCollection") {
      throw FormatError{R"(the top-level "type" is not "FeatureCollection")"};
    }
    if (const auto crs = doc.find("crs"); crs != doc.end() && !crs->is_null()) result.epsg = readCrs(*crs);
    const auto features = doc.find("features");
    if (features == doc.end() || !features->is_array())
      throw FormatError{"\"features\" is missing or not an array"};
    result.features.reserve(features->size());
    for (const json& f : *features) {
      if (!f.is_object() || f.value("type", std::string()) != "Feature") {
        throw FormatError{"feature " + std::to_string(index) + ": not an object of type \"Feature\""};
      }
      Feature feature;
      try {
        const auto geom = f.find("geometry");
        if (geom == f.end()) throw FormatError{"no \"geometry\" member"};
        readGeometry(*geom, feature);
      } catch (const FormatError& e) {
        throw FormatError{"feature " + std::to_string(index) + ": " + e.reason};
      }
      if (const auto props = f.find("properties"); props != f.end()) feature.properties = *props;
      result.features.push_back(std::move(feature));
      ++index;
    }
  } catch (const FormatError& e) {
    throw Error(ExitCode::InputData, file + ": " + e.reason);
  } catch (const json::exception& e) {
    // A member of the wrong JSON type that the checks above did not anticipate.
    throw Error(ExitCode::InputData, file + ": feature " + std::to_string(index) + ": " + e.what());
  }
  if (result.epsg != 4326 && !Projection::isValidEpsg(result.epsg)) {
    throw Error(ExitCode::InputData,
                file + ": \"crs\" names EPSG:" + std::to_string(result.epsg) + ", which PROJ does not know");
  }
  return result;
}

void transform(GeoJsonFile& file, int to_epsg) {
  if (file.epsg == to_epsg) return;
  const Projection proj(file.epsg, to_epsg);
  // Pairs are stored interleaved; copy them to two arrays so PROJ transforms each line in one call.
  auto transformPairs = [&proj](std::vector<std::pair<double, double>>& pts) {
    std::vector<double> xs(pts.size());
    std::vector<double> ys(pts.size());
    for (std::size_t k = 0; k < pts.size(); ++k) std::tie(xs[k], ys[k]) = pts[k];
    proj.forward(xs, ys);
    for (std::size_t k = 0; k < pts.size(); ++k) pts[k] = {xs[k], ys[k]};
  };
  for (Feature& f : file.features) {
    for (Polygon& poly : f.polygons) {
      proj.forward(poly.outer.x, poly.outer.y);
      for (Ring& hole : poly.holes) proj.forward(hole.x, hole.y);
    }
    transformPairs(f.points);
    for (auto& line : f.lines) transformPairs(line);
  }
  file.epsg = to_epsg;
}

}  // namespace vigie::geo
