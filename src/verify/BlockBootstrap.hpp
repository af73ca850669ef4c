#pragma once
/// Moving-block bootstrap over backtest windows for statistics that are ratios of pooled sums of paired
/// per-window values (model vs baseline on the same windows). Blocks keep the serial correlation of
/// neighbouring windows (Kunsch 1989); draws come from vigie::core::RandomStream(seed, replicate, 0), so the
/// interval depends only on the inputs and the seed. Equations and conventions: docs/scores.md.
#include <cstdint>
#include <span>
#include <vector>

#include "verify/Pooling.hpp"

namespace vigie::verify {

/// Settings of the block bootstrap.
struct BootstrapOptions {
  int replicates = 999;    ///< R resamples (>= 1)
  int block_length = 0;    ///< L windows per block; 0 picks max(1, round(n^(1/3))); capped at n
  std::uint64_t seed = 0;  ///< key of the random streams
  double level = 0.95;     ///< two-sided percentile interval level, in (0, 1)
  int min_windows = 10;    ///< below this many windows no interval is given (available = false)
};

/// A point estimate with its percentile interval.
struct BootstrapInterval {
  double estimate = 0.0;   ///< statistic on the windows as given
  double lo = 0.0;         ///< lower percentile; equals estimate when !available
  double hi = 0.0;         ///< upper percentile; equals estimate when !available
  bool available = false;  ///< false below min_windows, for an undefined estimate or an unbounded interval
  bool defined = true;     ///< false when the estimate is x/0 with x != 0 (then estimate = lo = hi = 0)
  int block_length = 0;    ///< L actually used
  int replicates = 0;      ///< R actually drawn (0 when no resampling was done)
};

/// Ratio of sums, sum numerator / sum denominator, over paired per-window values (for PAI@k% of a model
/// over a baseline: events caught by each). 0/0 counts as 1 (neither side caught anything). Not collective.
BootstrapInterval bootstrapRatioOfSums(std::span<const double> numerator, std::span<const double> denominator,
                                       const BootstrapOptions& options);

/// Difference of sums per event, (sum model - sum baseline) / sum events, over paired per-window values
/// (for the log-likelihood difference); with no events at all it is the plain difference of sums, like
/// LogLik::per_event. Not collective.
BootstrapInterval bootstrapDifferencePerEvent(std::span<const double> model, std::span<const double> baseline,
                                              std::span<const std::int64_t> events,
                                              const BootstrapOptions& options);

/// PAI ratio of a model over a baseline at coverage `coverage_index` of their WindowScores (same windows,
/// same order). Not collective.
BootstrapInterval paiRatio(const std::vector<WindowScores>& model, const std::vector<WindowScores>& baseline,
                           std::size_t coverage_index, const BootstrapOptions& options);

/// Log-likelihood difference per event, model minus baseline, over the same windows. Not collective.
BootstrapInterval logLikDifference(const std::vector<WindowScores>& model,
                                   const std::vector<WindowScores>& baseline,
                                   const BootstrapOptions& options);

}  // namespace vigie::verify
