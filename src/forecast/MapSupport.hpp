#pragma once
/// What the forecast and the scenario engines share to turn member maps into published products: calendar
/// steps, percentiles, the privacy rule, the areas table, the outline, JSON hygiene and a string gather.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::core {
class Config;
}
namespace vigie::grid {
class CityGrid;
}
namespace vigie::ingest {
class TimeZone;
}

namespace vigie::forecast {

/// One step of a horizon or of a scenario window.
struct Step {
  std::int64_t utc0 = 0;
  std::int64_t utc1 = 0;
  double from = 0.0;  ///< days since the forecast start
  double to = 0.0;
  std::string iso;  ///< local start
  int hour = -1;    ///< local hour of day of an hour step
};

/// Not collective. Local calendar steps of `unit` (hour, day, week, month) from `first_utc`: the first ends
/// at the next boundary of the unit, the others last one unit; at most `max_steps`, the last cut at
/// `end_utc`. from/to are days after `ref_utc`; `hour` is the local hour of an hour step.
std::vector<Step> calendarSteps(const std::string& unit, const ingest::TimeZone& zone, std::int64_t first_utc,
                                int max_steps, std::int64_t end_utc, std::int64_t ref_utc);

/// Not collective. The p-quantile (0..1, linear interpolation) of sorted values (0 when empty).
double percentile(const std::vector<double>& sorted, double p);
/// Not collective. {"expected": expected, "p10", "p50", "p90"} of the samples.
nlohmann::json band(double expected, std::vector<double> samples);
/// Not collective. A number in its shortest exact text ("35", "0.5").
std::string formatNumber(double v);
/// Replaces every non-finite number of a document by null (the JSON outputs hold finite numbers only).
void finite(nlohmann::json& j);
/// Collective. Gathers one string per rank on rank 0 (rank order); empty elsewhere.
std::vector<std::string> gatherStrings(MPI_Comm comm, const std::string& mine);
/// Not collective. The study area's outline (grid.mask) in the grid's CRS (outer rings), or null.
nlohmann::json outlineJson(const grid::CityGrid& grid);

/// Areas of forecast.areas: names and the area of every cell of the whole grid (-1: none).
struct Areas {
  std::filesystem::path file;
  std::string property;
  std::vector<std::string> names;
  std::vector<std::int32_t> of_cell;  ///< [ny * nx]
};

/// Not collective. The areas of forecast.areas (forecast.area_name_property names them) on the whole grid;
/// empty when forecast.areas is not set. Error(InputData) naming the file for a feature without the name.
Areas readAreas(const grid::CityGrid& grid, const core::Config& config);

/// Not collective. Cells (whole grid) whose neighbourhood (disc of radius_m around the centre) holds at least
/// min_count observed events: what published maps may show (privacy.min_count, privacy.radius_m).
std::vector<std::uint8_t> publishedCells(const grid::CityGrid& grid, const std::vector<std::uint8_t>& mask,
                                         const std::vector<std::int64_t>& counts, std::int64_t min_count,
                                         double radius_m);

}  // namespace vigie::forecast
