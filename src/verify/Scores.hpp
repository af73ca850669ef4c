#pragma once
/// Scores of one forecast window: hit rate, PAI and PEI* at area coverages, Poisson log-likelihood,
/// Brier score and reliability of P(at least one event). Equations, rounding and tie rules: docs/scores.md.
///
/// Every function here is pure, serial and deterministic (Not collective). It works on global arrays of one
/// window indexed by the global cell index j*nx+i: `forecast` = expected events per cell in the window
/// (finite, >= 0), `observed` = events per cell in the window (>= 0), `mask` = study area (cells with 0 are
/// ignored everywhere, whatever their forecast or count). The three spans must have the same length and the
/// mask at least one active cell; otherwise vigie::core::Error is thrown.
#include <cstdint>
#include <span>
#include <vector>

namespace vigie::verify {

/// Hit rate, PAI and PEI* of the cells flagged at one area coverage.
struct CoverageScore {
  double coverage = 0.0;           ///< requested fraction of the active area, in (0, 1]
  std::int64_t cells_flagged = 0;  ///< n_flag = max(1, round-half-up(coverage * active cells))
  std::int64_t events_caught = 0;  ///< n: events in the flagged cells
  std::int64_t events_total = 0;   ///< N: events in all active cells
  std::int64_t events_best = 0;    ///< n*: events in the n_flag active cells with the most events
  std::int64_t active_cells = 0;   ///< A: number of cells with mask != 0
  double hit_rate = 0.0;           ///< n / N, 0 when N = 0
  double pai = 0.0;                ///< hit_rate / (n_flag / A), 0 when N = 0
  double pei_star = 0.0;           ///< n / n*, 0 when n* = 0
};

/// Scores the n_flag cells with the largest forecast (ties: smaller global index first). Not collective.
CoverageScore scoreAtCoverage(std::span<const double> forecast, std::span<const std::int64_t> observed,
                              std::span<const std::uint8_t> mask, double coverage);

/// scoreAtCoverage for several coverages with one ranking of the cells; results in the order given.
/// Not collective.
std::vector<CoverageScore> scoreAtCoverages(std::span<const double> forecast,
                                            std::span<const std::int64_t> observed,
                                            std::span<const std::uint8_t> mask,
                                            std::span<const double> coverages);

/// Poisson log-likelihood of the window's counts, kept as a total so windows can be pooled.
struct LogLik {
  double total = 0.0;       ///< sum over active cells of c log(lambda) - lambda - lgamma(c + 1)
  std::int64_t events = 0;  ///< N: events in active cells
  /// total / events; equals total when events = 0 (then total = -sum lambda), so it is always finite.
  [[nodiscard]] double per_event() const;
};

/// Poisson log-likelihood with lambda = max(forecast, epsilon), epsilon > 0, so it is finite even where the
/// forecast is 0 and an event occurred. Not collective.
LogLik poissonLogLik(std::span<const double> forecast, std::span<const std::int64_t> observed,
                     std::span<const std::uint8_t> mask, double epsilon);

/// Mean over active cells of (p - o)^2 with p = 1 - exp(-forecast) and o = 1 if the cell had an event.
/// Not collective.
double brierScore(std::span<const double> forecast, std::span<const std::int64_t> observed,
                  std::span<const std::uint8_t> mask);

/// One bin of the reliability (calibration) table of p = P(at least one event) = 1 - exp(-forecast).
struct ReliabilityBin {
  double p_lo = 0.0;                ///< lower edge (included)
  double p_hi = 0.0;                ///< upper edge (excluded, except 1 for the last bin)
  std::int64_t cells = 0;           ///< active cells whose p falls in the bin
  double mean_forecast_p = 0.0;     ///< mean p of those cells, 0 when cells = 0
  double observed_frequency = 0.0;  ///< share of those cells with at least one event, 0 when cells = 0
};

/// Reliability table with `bins` equal-width bins of p over [0, 1] (bins >= 1). Not collective.
std::vector<ReliabilityBin> reliability(std::span<const double> forecast,
                                        std::span<const std::int64_t> observed,
                                        std::span<const std::uint8_t> mask, int bins);

/// n_flag for a coverage and a number of active cells: max(1, floor(coverage * active + 0.5 + 1e-9)).
/// The 1e-9 lets decimal coverages round as written (0.35 * 10 is 3.4999999999999996 in binary). Not
/// collective.
std::int64_t flaggedCellCount(double coverage, std::int64_t active_cells);

}  // namespace vigie::verify
