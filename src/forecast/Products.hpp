#pragma once
/// The planner-facing products of `vigie forecast`, computed only from the forecast.json document
/// (docs: the forecast.json schema, schema_version 1): summary.md in French or English, hotspots.geojson
/// for GIS tools, and the per-area tables risk_by_area.csv and risk_by_area_hour.csv.
/// Missing or null members never throw: the texts say what is not available and the tables leave the
/// field empty.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::forecast {

/// Not collective (rank 0). Writes into `dir` (created if needed; each file through a temporary file and a
/// rename): summary.md (in doc["lang"], English when absent), hotspots.geojson, and risk_by_area.csv and
/// risk_by_area_hour.csv only when doc["areas"] is not null. Returns the file names written, in that order.
/// Throws Error(Usage) for a lang other than "fr" or "en", Error(Io) when a file cannot be written.
std::vector<std::string> writeForecastProducts(const nlohmann::json& doc, const std::filesystem::path& dir);

/// Not collective. The file names writeForecastProducts writes for `doc`.
[[nodiscard]] std::vector<std::string> forecastProductNames(const nlohmann::json& doc);

/// Not collective. The one-minute summary for planners, in Markdown (UTF-8): headline with its 80% interval,
/// where, when, what drives it, the backtest's skill (with a plain warning when the model is not clearly
/// better than the best simple baseline), inputs, privacy, method and files. `lang` is "fr" or "en";
/// anything else throws Error(Usage).
[[nodiscard]] std::string summaryMarkdown(const nlohmann::json& doc, const std::string& lang);

/// Not collective. RFC 7946 FeatureCollection with a top-level "schema_version": 1: one Polygon feature per
/// hotspot of every horizon (geometry: the closed cell_lonlat ring, counterclockwise; null when the document
/// has no valid ring) with properties rank, horizon, expected, p_any, p10, p90, area, factors (array), x, y,
/// i, j.
[[nodiscard]] std::string hotspotsGeoJson(const nlohmann::json& doc);

/// Not collective. CSV (RFC 4180 quoting) with header area,cells,horizon,expected,p10,p50,p90 and one row per
/// area x horizon (areas in document order, horizons in doc["horizons"] order). Only the header when
/// doc["areas"] is null.
[[nodiscard]] std::string areasCsv(const nlohmann::json& doc);

/// Not collective. CSV with header area,hour,expected: the main horizon's expected events of each area in
/// each local hour of day 0..23 (by_hour). Only the header when doc["areas"] is null.
[[nodiscard]] std::string areasHourCsv(const nlohmann::json& doc);

}  // namespace vigie::forecast
