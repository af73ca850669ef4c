#include "ingest/Covariates.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <set>
#include <span>
#include <sstream>
#include <string>

#include "audit/AuditLog.hpp"
#include "core/Collective.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/TimeBinning.hpp"
#include "ingest/Weather.hpp"
#include "store/FieldFile.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;

const std::string kWeather = "covariates/weather";
const std::string kCalendar = "covariates/calendar";
const std::string kStatic = "covariates/static";

// Runs `work` where `active` is true; a failure on any rank is thrown on every rank (core::runAgreed).
template <class F>
void agreed(MPI_Comm comm, bool active, F&& work) {
  core::runAgreed(comm, active, std::function<void()>(std::forward<F>(work)));
}

template <class T>
MPI_Datatype mpiType();
template <>
MPI_Datatype mpiType<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype mpiType<std::int32_t>() {
  return MPI_INT32_T;
}
template <>
MPI_Datatype mpiType<std::uint8_t>() {
  return MPI_UINT8_T;
}

// Broadcasts a vector whose size every rank already knows (nt).
template <class T>
void bcastVector(MPI_Comm comm, std::vector<T>& v, std::size_t n) {
  v.resize(n);
  VIGIE_CHECK_MPI(MPI_Bcast(v.data(), static_cast<int>(n), mpiType<T>(), 0, comm));
}

bool validLayerName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string radiusText(double r) {
  std::ostringstream os;
  os.precision(17);
  os << r;
  return os.str();
}

}  // namespace

void Covariates::declareOptions(core::OptionSet& options) {
  options.add(
      "covariates.weather", core::OptionType::Path, "",
      "Météo-France DPClim daily CSV (columns DATE, RR, TN, TX, TM, FFM, FXI, ORAG, BROU) aggregated to "
      "the time bins; empty = no weather covariates");
  options.add("covariates.holidays", core::OptionType::String, "none",
              "public-holiday rules: FR (France), CA-BC (British Columbia statutory holidays) or none");
  options.add(
      "covariates.school_holidays", core::OptionType::Path, "",
      "school-holiday table (CSV: a coverage_start,coverage_end line, then start,end,label rows); empty = "
      "school holidays unknown (flagged missing)");
  options.add("covariates.layers", core::OptionType::List, "",
              "static layers as name=path pairs (GeoJSON points, lines or polygons), e.g. "
              "beaches=layers/beaches.geojson; each gives <name>_distance_m and <name>_density on the grid");
  options.add("covariates.density_radius_m", core::OptionType::Double, "500",
              "radius of the static layers' density fields (features per km^2 within it), metres");
}

CovariateSpec Covariates::fromConfig(const core::Config& config) {
  CovariateSpec spec;
  spec.weather = config.getPath("covariates.weather");
  spec.holidays = parseHolidayRule(config.getString("covariates.holidays"));
  spec.school_holidays = config.getPath("covariates.school_holidays");
  spec.density_radius_m = config.getDouble("covariates.density_radius_m");
  if (!(spec.density_radius_m > 0) || !std::isfinite(spec.density_radius_m)) {
    throw Error(ExitCode::Usage, "covariates.density_radius_m must be a positive number of metres", true);
  }
  const auto items = config.getList("covariates.layers");
  const auto resolved = config.getPathList("covariates.layers");
  std::set<std::string> seen;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const auto eq = items[k].find('=');
    if (eq == std::string::npos) {
      throw Error(ExitCode::Usage, "covariates.layers: '" + items[k] + "' is not name=path", true);
    }
    LayerSpec layer;
    layer.name = items[k].substr(0, eq);
    while (!layer.name.empty() && layer.name.back() == ' ') layer.name.pop_back();
    std::string path = items[k].substr(eq + 1);
    path.erase(0, path.find_first_not_of(' '));
    if (!validLayerName(layer.name)) {
      throw Error(ExitCode::Usage,
                  "covariates.layers: layer name '" + layer.name +
                      "' must be a lowercase identifier (a-z, 0-9, _; starting with a letter)",
                  true);
    }
    if (path.empty())
      throw Error(ExitCode::Usage, "covariates.layers: layer '" + layer.name + "' has no path", true);
    if (!seen.insert(layer.name).second) {
      throw Error(ExitCode::Usage, "covariates.layers: layer '" + layer.name + "' is given twice", true);
    }
    // Config resolves list items as whole paths; the item "name=rel" resolved against the config file's
    // folder tells whether the value came from the file (resolve against its folder) or the command line
    // (cwd).
    const std::filesystem::path rel(path);
    if (rel.is_absolute()) {
      layer.path = rel.lexically_normal();
    } else {
      const auto from_file = (config.file().parent_path() / items[k]).lexically_normal();
      const auto base =
          resolved[k] == from_file ? config.file().parent_path() : std::filesystem::current_path();
      layer.path = (base / rel).lexically_normal();
    }
    spec.layers.push_back(std::move(layer));
  }
  return spec;
}

std::vector<DaySpan> Covariates::daySpans(const TimeBinning& bins, std::int64_t b0, int nt) {
  std::vector<DaySpan> spans(static_cast<std::size_t>(std::max(nt, 0)));
  const auto floorDay = [](std::int64_t s) { return s >= 0 ? s / 86400 : (s - 86399) / 86400; };
  const bool hourly = bins.unit() == BinUnit::Hour;
  for (int k = 0; k < nt; ++k) {
    const std::int64_t start = bins.binStartCivil(b0 + k);
    DaySpan& s = spans[static_cast<std::size_t>(k)];
    s.first_day = floorDay(start);
    if (hourly) {
      s.end_day = s.first_day + 1;
      s.hour = static_cast<int>((start - s.first_day * 86400) / 3600);
    } else {
      // Day, week and month bins start at local midnight: the next bin's start is this one's end.
      s.end_day = floorDay(bins.binStartCivil(b0 + k + 1));
    }
  }
  return spans;
}

void Covariates::write(store::FieldFile& file, const grid::CityGrid& grid, const TimeBinning& bins,
                       std::int64_t b0, int nt, const CovariateSpec& spec) {
  const MPI_Comm comm = grid.comm();
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  const auto n = static_cast<std::size_t>(std::max(nt, 0));
  const bool have_weather = !spec.weather.empty();
  const auto& names = Weather::names();

  // Time series: small, read and computed once on rank 0, broadcast.
  WeatherSeries weather;
  CalendarColumns cal;
  std::string weather_sha;
  std::string school_sha;
  agreed(comm, rank == 0, [&] {
    const auto spans = daySpans(bins, b0, nt);
    if (have_weather) {
      weather = Weather::read(spec.weather).aggregate(spans);
      weather_sha = audit::sha256File(spec.weather);
    }
    SchoolHolidays school;
    if (!spec.school_holidays.empty()) {
      school = SchoolHolidays::read(spec.school_holidays);
      school_sha = audit::sha256File(spec.school_holidays);
    }
    cal = Calendar(spec.holidays, std::move(school)).columns(spans);
  });
  if (have_weather) {
    weather.values.resize(names.size());
    for (auto& v : weather.values) bcastVector(comm, v, n);
    bcastVector(comm, weather.missing, n);
    weather.missing_by_var.resize(names.size());
    for (auto& v : weather.missing_by_var) bcastVector(comm, v, n);
    weather_sha.resize(64);
    VIGIE_CHECK_MPI(MPI_Bcast(weather_sha.data(), 64, MPI_CHAR, 0, comm));
  }
  for (auto* v : {&cal.weekday, &cal.hour_of_day, &cal.days, &cal.public_holiday, &cal.school_holiday}) {
    bcastVector(comm, *v, n);
  }
  bcastVector(comm, cal.school_holiday_missing, n);
  int school_sha_len = static_cast<int>(school_sha.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&school_sha_len, 1, MPI_INT, 0, comm));
  school_sha.resize(static_cast<std::size_t>(school_sha_len));
  VIGIE_CHECK_MPI(MPI_Bcast(school_sha.data(), school_sha_len, MPI_CHAR, 0, comm));

  if (have_weather) {
    for (std::size_t v = 0; v < names.size(); ++v) {
      file.write1d<double>(
          kWeather + "/" + names[v], std::span<const double>(weather.values[v]),
          {Weather::units()[v], "daily weather aggregated over the bin (" + names[v] + ")", 0.0});
      file.write1d<std::uint8_t>(kWeather + "/" + names[v] + "_missing",
                                 std::span<const std::uint8_t>(weather.missing_by_var[v]),
                                 {"", "1 = a day of the bin is absent or lacks " + names[v], 0});
    }
    file.write1d<std::uint8_t>(
        kWeather + "/missing", std::span<const std::uint8_t>(weather.missing),
        {"", "1 = a day of the bin is absent or lacks a value; aggregates use the days present", 0});
    file.setObjectAttribute(kWeather, "source", spec.weather.filename().string());
    file.setObjectAttribute(kWeather, "source_sha256", weather_sha);
  } else if (!file.childNames(kWeather).empty()) {
    file.remove(kWeather);
  }

  const auto write32 = [&](const std::string& name, const std::vector<std::int32_t>& v,
                           const std::string& what) {
    file.write1d<std::int32_t>(kCalendar + "/" + name, std::span<const std::int32_t>(v), {"", what, 0});
  };
  const BinUnit unit = bins.unit();
  const bool single_day = unit == BinUnit::Hour || unit == BinUnit::Day;
  if (unit == BinUnit::Hour)
    write32("hour_of_day", cal.hour_of_day, "local hour of day of the bin's start, 0-23");
  if (single_day) {
    write32("weekday", cal.weekday, "local weekday, 0 = Monday ... 6 = Sunday");
  } else {
    write32("days", cal.days, "local days in the bin");
  }
  write32("public_holiday", cal.public_holiday,
          single_day ? "1 = public holiday" : "public-holiday days in the bin");
  write32("school_holiday", cal.school_holiday,
          single_day ? "1 = school holiday (0 where unknown: see school_holiday_missing)"
                     : "school-holiday days in the bin among the days the table covers");
  file.write1d<std::uint8_t>(kCalendar + "/school_holiday_missing",
                             std::span<const std::uint8_t>(cal.school_holiday_missing),
                             {"", "1 = the school-holiday table does not cover some day of the bin", 0});
  file.setObjectAttribute(kCalendar, "holidays", std::string(holidayRuleName(spec.holidays)));
  file.setObjectAttribute(
      kCalendar, "school_holidays",
      spec.school_holidays.empty() ? std::string("none") : spec.school_holidays.filename().string());
  if (!school_sha.empty()) file.setObjectAttribute(kCalendar, "school_holidays_sha256", school_sha);

  // Static layers: every rank reads the (small) layer files and rasterises its own box only.
  std::set<std::string> wanted;
  for (const auto& layer : spec.layers) {
    const std::string dist = kStatic + "/" + layer.name + "_distance_m";
    const std::string dens = kStatic + "/" + layer.name + "_density";
    wanted.insert(layer.name + "_distance_m");
    wanted.insert(layer.name + "_density");
    std::string key;
    geo::GeoJsonFile features;
    agreed(comm, true, [&] {
      key = "sha256:" + audit::sha256File(layer.path) + " radius_m:" + radiusText(spec.density_radius_m);
      features = StaticLayers::load(layer, grid.spec().epsg);
    });
    const bool current = file.hasField(dist) && file.hasField(dens) &&
                         file.objectStringAttribute(dist, "source_key") == key &&
                         file.objectStringAttribute(dens, "source_key") == key;
    if (current) continue;
    if (file.hasField(dist)) file.remove(dist);
    if (file.hasField(dens)) file.remove(dens);
    LayerFields fields;
    agreed(comm, true, [&] {
      fields = StaticLayers::rasterize(features, grid.geometry(), grid.ownedBox(), spec.density_radius_m);
    });
    file.write2d<double>(
        dist, grid.ownedBox(), std::span<const double>(fields.distance_m),
        {"m", "distance from the cell centre to the nearest " + layer.name + " feature", 0.0});
    file.write2d<double>(
        dens, grid.ownedBox(), std::span<const double>(fields.density),
        {"km^-2", layer.name + " features within density_radius_m of the cell centre per km^2", 0.0});
    for (const auto& name : {dist, dens}) {
      file.setObjectAttribute(name, "source_key", key);
      file.setObjectAttribute(name, "source", layer.path.filename().string());
      file.setObjectAttribute(name, "density_radius_m", spec.density_radius_m);
    }
  }
  for (const auto& name : file.childNames(kStatic)) {
    if (wanted.count(name) == 0) file.remove(kStatic + "/" + name);
  }
}

}  // namespace vigie::ingest
