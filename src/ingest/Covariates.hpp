#pragma once
/// Covariates stored beside the counts in obs.h5: daily weather and calendar aligned to the time bins, and
/// static spatial layers (distance to and density of features) on the grid.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "ingest/Calendar.hpp"
#include "ingest/StaticLayers.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core

namespace vigie::grid {
class CityGrid;
}

namespace vigie::store {
class FieldFile;
}

namespace vigie::ingest {

class TimeBinning;

/// What the [covariates] section asks for.
struct CovariateSpec {
  std::filesystem::path weather;  ///< Météo-France daily CSV; empty = no weather covariates
  HolidayRule holidays = HolidayRule::None;
  std::filesystem::path school_holidays;  ///< school-holiday table; empty = school holidays unknown
  std::vector<LayerSpec> layers;          ///< static layers, in config order
  double density_radius_m = 500.0;        ///< radius of the density fields
};

/// Writes the /covariates group of the observation store.
class Covariates {
 public:
  /// Declares covariates.weather, covariates.holidays, covariates.school_holidays, covariates.layers and
  /// covariates.density_radius_m.
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Reads and checks the [covariates] section; throws core::Error(Usage) naming the key.
  static CovariateSpec fromConfig(const core::Config& config);

  /// Collective. Writes /covariates/weather/<var> float64 [nt] and /covariates/weather/missing uint8 [nt]
  /// (when a weather file is given), /covariates/calendar/<name> [nt] and
  /// /covariates/static/<layer>_distance_m and <layer>_density float64 [ny][nx] into an open, writable obs.h5
  /// for the bins [b0, b0+nt). Time series are rewritten whole (so a grown time axis is covered); a static
  /// layer is recomputed only if its file or the radius changed; covariates no longer configured are removed.
  /// Input errors are agreed across ranks and thrown on every rank as core::Error(InputData or Usage) naming
  /// the file.
  static void write(store::FieldFile& file, const grid::CityGrid& grid, const TimeBinning& bins,
                    std::int64_t b0, int nt, const CovariateSpec& spec);

  /// Not collective. The local days of each bin [b0, b0+nt) as weather and calendar use them.
  static std::vector<DaySpan> daySpans(const TimeBinning& bins, std::int64_t b0, int nt);
};

}  // namespace vigie::ingest
