#pragma once
/// Scores of one window gathered in one struct, and their pooling over the windows of a backtest.
/// Pooling sums counts before dividing (a ratio of sums, not a mean of ratios), so a window with few
/// events weighs little. Equations: docs/scores.md.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "verify/Scores.hpp"

namespace vigie::verify {

/// Every score of one forecast window.
struct WindowScores {
  std::vector<CoverageScore> at;            ///< one entry per coverage, same coverages in every window
  LogLik ll;                                ///< Poisson log-likelihood total and event count
  double brier = 0.0;                       ///< Brier score (mean over active cells)
  std::int64_t active_cells = 0;            ///< cells with mask != 0
  std::vector<ReliabilityBin> reliability;  ///< may be empty; if not, same bin count in every window
};

/// Scores pooled over windows.
struct PooledScores {
  /// Per coverage: counts summed over windows; hit_rate = sum n / sum N, pai = hit_rate / (sum n_flag /
  /// sum A), pei_star = sum n / sum n* (each 0 when its denominator is 0).
  std::vector<CoverageScore> at;
  LogLik ll;                                ///< totals and events summed; ll.per_event() pools per event
  double brier = 0.0;                       ///< mean of the windows' Brier scores weighted by active cells
  std::int64_t active_cells = 0;            ///< sum of active cells over windows
  std::int64_t windows = 0;                 ///< number of windows pooled
  std::vector<ReliabilityBin> reliability;  ///< cells summed, means weighted by cells (empty if any input is)
};

/// Computes every score of one window (coverages, log-likelihood floor epsilon, reliability bins).
/// Not collective.
WindowScores scoreWindow(std::span<const double> forecast, std::span<const std::int64_t> observed,
                         std::span<const std::uint8_t> mask, std::span<const double> coverages,
                         double epsilon, int reliability_bins);

/// Pools windows; throws vigie::core::Error if windows differ in coverages or reliability bins.
/// An empty list gives zero windows and zero scores. Not collective.
PooledScores pool(const std::vector<WindowScores>& windows);

/// "1", "5", "10", "2.5": the JSON key of a coverage given in percent. Not collective.
std::string percentKey(double percent);

/// The JSON of pooled scores, as in backtest.json's "models" and score.json: {"hit_rate": {KEY: x},
/// "pai": {...}, "pei_star": {...}, "log_likelihood_per_event": x, "brier": x, "events": N, "reliability":
/// [{"p_lo", "p_hi", "cells", "mean_forecast_p", "observed_frequency"}]}, keys from `coverages_percent`
/// (the coverages of `p.at`, in percent, same order). Not collective.
nlohmann::json pooledScoresJson(const PooledScores& p, const std::vector<double>& coverages_percent);

}  // namespace vigie::verify
