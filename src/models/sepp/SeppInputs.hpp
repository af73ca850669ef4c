#pragma once
/// What the sepp model reads from the observation store besides the counts: the time axis and the
/// covariates z(c, t) of lambda = mu(c) exp(beta . z(c, t)) + excitation, resolved from the names of
/// `sepp.covariates` (docs/models.md lists them).
#include <filesystem>
#include <string>
#include <vector>

#include "models/Model.hpp"
#include "models/sepp/SeppFit.hpp"

namespace vigie::grid {
class CityGrid;
}

namespace vigie::models::sepp {

/// The store's time axis and the resolved covariates on a grid's owned cells.
struct SeppInputs {
  std::vector<double> edges;                ///< nt + 1 bin edges, days since the first bin's start
  std::vector<std::uint8_t> missing;        ///< nt flags, 1 = the sources do not cover the bin
  std::string bin;                          ///< the store's bin unit (hour, day, week, month)
  std::vector<std::string> bin_start_iso;   ///< nt local ISO bin starts
  std::vector<std::string> temporal_names;  ///< temporal covariates, in config order
  std::vector<double> temporal;             ///< nt * Kt values, index t * Kt + k
  std::vector<std::string> spatial_names;   ///< spatial covariates, in config order
  std::vector<double> spatial;              ///< owned * Ks values, index c * Ks + q (owned-box order)
  /// Per covariate (temporal then spatial): what a unit of it means, for the factor table.
  std::vector<std::string> meaning;

  /// How a temporal covariate is made from the store's raw values, so a future piece gets the same units.
  enum class TemporalKind { Weekend, Holiday, RainDay, Weather };
  struct TemporalRule {
    TemporalKind kind = TemporalKind::Weather;
    std::string raw;    ///< raw value it is made from (weekday, public_holiday, rain_mm, tmax_c, ...)
    double mean = 0.0;  ///< standardisation of a weather variable over the store's bins
    double sd = 1.0;
  };
  std::vector<TemporalRule> temporal_rules;  ///< one per temporal covariate
  bool daily = false;                        ///< the store's bins are hours or days

  /// Not collective. The temporal covariate row of a piece of the future (Model.hpp FuturePiece), in the
  /// units of the store's rows: a holiday count becomes the share of the piece's days in stores of week or
  /// month bins, rain the mm per day (or, in hour and day stores, the share of rain days), a weather variable
  /// is standardised with the store's mean and sd; an unknown value (missing) is 0, as in the store.
  [[nodiscard]] std::vector<double> futureRow(const FuturePiece& piece) const;

  /// Collective over the grid's communicator. Reads /time and the covariates named in `names` from
  /// `obs_h5`:
  ///   weekend                     1 on Saturdays and Sundays (hour and day bins only);
  ///   public_holiday, school_holiday   1 on such a day (hour and day bins); in longer bins the share of
  ///                               the bin's days;
  ///   rain_day                    1 on a day with at least 1 mm of rain (hour and day bins); in longer
  ///                               bins the bin's rain in mm divided by its days (mm per day);
  ///   a weather variable (rain_mm, tmax_c, ...)   standardised over the bins where it is known (0 where
  ///                               it is missing);
  ///   a static layer (beaches_density, nightlife_distance_m, ...)   standardised over the active cells.
  /// Throws Error(Usage) naming sepp.covariates for a name the store cannot provide.
  static SeppInputs read(const grid::CityGrid& grid, const std::filesystem::path& obs_h5,
                         const std::vector<std::string>& names);

  /// Collective. The fit's data for bins [b0, b1) of the store: the counts of `categories` (empty: all)
  /// summed on the owned cells, with this object's covariates.
  [[nodiscard]] SeppData data(const grid::CityGrid& grid, const std::filesystem::path& obs_h5,
                              const std::vector<std::string>& categories, std::int64_t b0,
                              std::int64_t b1) const;

  /// Not collective. The store bin starting at `day` (days since the first bin), or -1.
  [[nodiscard]] std::int64_t binAt(double day) const;
};

}  // namespace vigie::models::sepp
