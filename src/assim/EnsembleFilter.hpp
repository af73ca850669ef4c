#pragma once
/// Ensemble analysis of a cycle's counts into a model's log-intensity field: a local ensemble transform
/// Kalman filter (LETKF, Hunt, Kostelich and Szunyogh 2007) on x = log(intensity) per cell, with the counts
/// variance-stabilised by the Anscombe transform. Each cell's analysis is independent and uses only the
/// observations within the localisation radius, so it runs over the grid decomposition; the neighbourhoods
/// come from a halo exchange whose width matches the radius. See docs/models.md, "Ensemble assimilation".
#include <span>
#include <vector>

namespace vigie::grid {
class CityGrid;
}

namespace vigie::assim {

/// Settings of one analysis.
struct FilterSettings {
  /// Distance (metres, or lattice units) at which the Gaspari-Cohn taper reaches zero; > 0.
  double localisation_radius = 500.0;
  /// Multiplicative inflation of the prior covariance (>= 1; 1 = none).
  double inflation = 1.0;
  /// Exposure of one cycle: the expected count of a cell is exp(x) * cycle_length (> 0).
  double cycle_length = 1.0;
  /// Observation error variance of the Anscombe-transformed counts (1 for Poisson counts).
  double obs_error_variance = 1.0;
};

/// What an analysis did (the same on every rank).
struct AnalysisSummary {
  int halo_width = 0;  ///< cells of halo the localisation needed
  bool whole_grid_gather =
      false;                   ///< true when the halo was wider than a rank's box (whole-grid gather used)
  long long observations = 0;  ///< active cells whose counts were assimilated
};

/// Anscombe transform of a count: 2 sqrt(n + 3/8).
[[nodiscard]] double anscombe(double count) noexcept;
/// Gaspari-Cohn fifth-order taper at distance `d` for a cut-off radius `radius` (1 at 0, 0 from `radius`).
[[nodiscard]] double gaspariCohn(double d, double radius) noexcept;

/// Collective. Analyses `ensemble` ([member][owned cell], owned-box order, K >= 2 members) in place with the
/// cycle's owned counts (`counts`, owned-box order). Observations are the counts of the active cells (mask);
/// the analysis updates the active cells and leaves the others untouched. Each cell's result depends only on
/// the values in its neighbourhood, computed in a fixed order, so the analysed fields are identical at any
/// rank count. Throws Error(Internal) for mismatched sizes, Error(Usage) for invalid settings and
/// Error(Numerical) for non-finite input.
AnalysisSummary analyse(const grid::CityGrid& grid, std::vector<std::vector<double>>& ensemble,
                        std::span<const double> counts, const FilterSettings& settings);

}  // namespace vigie::assim
