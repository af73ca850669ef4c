#include "verify/BlockBootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/Error.hpp"
#include "core/Rng.hpp"

namespace vigie::verify {

namespace {

using core::Error;
using core::ExitCode;

// How a resample's two sums become the statistic. The ratio of PAIs has no finite value when the baseline
// caught nothing but the model did: that case is +/-infinity so it sorts to the end it belongs to.
enum class Statistic { Ratio, PerEvent };

double statistic(Statistic kind, double num, double den) {
  if (kind == Statistic::PerEvent) return den > 0.0 ? num / den : num;
  if (den != 0.0) return num / den;
  if (num == 0.0) return 1.0;
  return num > 0.0 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

void checkOptions(const char* where, const BootstrapOptions& o) {
  if (o.replicates < 1 || o.block_length < 0 || !(o.level > 0.0 && o.level < 1.0) || o.min_windows < 1) {
    throw Error(ExitCode::Usage, std::string(where) + ": invalid options (replicates " +
                                     std::to_string(o.replicates) + ", block_length " +
                                     std::to_string(o.block_length) + ", level " + std::to_string(o.level) +
                                     ", min_windows " + std::to_string(o.min_windows) + ")");
  }
}

// Moving-block bootstrap of sum(num)/sum(den) over paired windows.
BootstrapInterval resample(const char* where, Statistic kind, std::span<const double> num,
                           std::span<const double> den, const BootstrapOptions& o) {
  checkOptions(where, o);
  if (num.size() != den.size()) {
    throw Error(ExitCode::Internal, std::string(where) + ": " + std::to_string(num.size()) + " and " +
                                        std::to_string(den.size()) + " paired values");
  }
  const auto n = static_cast<std::int64_t>(num.size());
  BootstrapInterval out;
  double sum_num = 0.0;
  double sum_den = 0.0;
  for (std::int64_t w = 0; w < n; ++w) {
    sum_num += num[static_cast<std::size_t>(w)];
    sum_den += den[static_cast<std::size_t>(w)];
  }
  out.estimate = statistic(kind, sum_num, sum_den);
  if (!std::isfinite(out.estimate)) {
    out.defined = false;
    out.estimate = 0.0;
  }
  out.lo = out.estimate;
  out.hi = out.estimate;
  const std::int64_t auto_length = std::max<std::int64_t>(1, std::llround(std::cbrt(static_cast<double>(n))));
  const std::int64_t length =
      std::min<std::int64_t>(o.block_length > 0 ? o.block_length : auto_length, std::max<std::int64_t>(n, 1));
  out.block_length = static_cast<int>(length);
  if (n < o.min_windows || !out.defined) return out;

  // Blocks start anywhere in [0, n - L] (not wrapped around), ceil(n / L) blocks are joined and cut to n.
  const std::int64_t starts = n - length + 1;
  std::vector<double> stats(static_cast<std::size_t>(o.replicates));
  for (int r = 0; r < o.replicates; ++r) {
    core::RandomStream rng(o.seed, static_cast<std::uint64_t>(r), 0);
    double s_num = 0.0;
    double s_den = 0.0;
    std::int64_t taken = 0;
    while (taken < n) {
      const std::int64_t start =
          std::min(starts - 1, static_cast<std::int64_t>(rng.uniform() * static_cast<double>(starts)));
      for (std::int64_t t = 0; t < length && taken < n; ++t, ++taken) {
        s_num += num[static_cast<std::size_t>(start + t)];
        s_den += den[static_cast<std::size_t>(start + t)];
      }
    }
    stats[static_cast<std::size_t>(r)] = statistic(kind, s_num, s_den);
  }
  std::sort(stats.begin(), stats.end());
  out.replicates = o.replicates;

  // Percentile interval with the (R + 1) rule: for R = 999 at 95%, the 25th and 975th smallest values.
  const double alpha = (1.0 - o.level) / 2.0;
  const double r1 = static_cast<double>(o.replicates) + 1.0;
  const auto k_lo =
      std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(alpha * r1)), 1, o.replicates);
  const auto k_hi =
      std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil((1.0 - alpha) * r1)), 1, o.replicates);
  const double lo = stats[static_cast<std::size_t>(k_lo - 1)];
  const double hi = stats[static_cast<std::size_t>(k_hi - 1)];
  if (!std::isfinite(lo) || !std::isfinite(hi)) return out;  // unbounded interval: reported as n/a
  out.lo = lo;
  out.hi = hi;
  out.available = true;
  return out;
}

void checkSameWindows(const char* where, const std::vector<WindowScores>& model,
                      const std::vector<WindowScores>& baseline) {
  if (model.size() != baseline.size()) {
    throw Error(ExitCode::Internal, std::string(where) + ": model has " + std::to_string(model.size()) +
                                        " windows, baseline " + std::to_string(baseline.size()));
  }
}

}  // namespace

BootstrapInterval bootstrapRatioOfSums(std::span<const double> numerator, std::span<const double> denominator,
                                       const BootstrapOptions& options) {
  return resample("bootstrapRatioOfSums", Statistic::Ratio, numerator, denominator, options);
}

BootstrapInterval bootstrapDifferencePerEvent(std::span<const double> model, std::span<const double> baseline,
                                              std::span<const std::int64_t> events,
                                              const BootstrapOptions& options) {
  if (model.size() != baseline.size() || model.size() != events.size()) {
    throw Error(ExitCode::Internal, "bootstrapDifferencePerEvent: " + std::to_string(model.size()) + ", " +
                                        std::to_string(baseline.size()) + " and " +
                                        std::to_string(events.size()) + " paired values");
  }
  std::vector<double> diff(model.size());
  std::vector<double> ev(model.size());
  for (std::size_t w = 0; w < model.size(); ++w) {
    diff[w] = model[w] - baseline[w];
    ev[w] = static_cast<double>(events[w]);
  }
  return resample("bootstrapDifferencePerEvent", Statistic::PerEvent, diff, ev, options);
}

BootstrapInterval paiRatio(const std::vector<WindowScores>& model, const std::vector<WindowScores>& baseline,
                           std::size_t coverage_index, const BootstrapOptions& options) {
  checkSameWindows("paiRatio", model, baseline);
  std::vector<double> num(model.size());
  std::vector<double> den(model.size());
  for (std::size_t w = 0; w < model.size(); ++w) {
    if (coverage_index >= model[w].at.size() || coverage_index >= baseline[w].at.size()) {
      throw Error(ExitCode::Internal, "paiRatio: window " + std::to_string(w) + " has no coverage index " +
                                          std::to_string(coverage_index));
    }
    const CoverageScore& m = model[w].at[coverage_index];
    const CoverageScore& b = baseline[w].at[coverage_index];
    // PAI = (n / N) * A / n_flag; with the same window (N, A, n_flag) for both, the ratio of pooled PAIs is
    // the ratio of events caught.
    if (m.events_total != b.events_total || m.cells_flagged != b.cells_flagged) {
      throw Error(ExitCode::Internal, "paiRatio: window " + std::to_string(w) +
                                          " differs between model and baseline (events or flagged cells)");
    }
    num[w] = static_cast<double>(m.events_caught);
    den[w] = static_cast<double>(b.events_caught);
  }
  return bootstrapRatioOfSums(num, den, options);
}

BootstrapInterval logLikDifference(const std::vector<WindowScores>& model,
                                   const std::vector<WindowScores>& baseline,
                                   const BootstrapOptions& options) {
  checkSameWindows("logLikDifference", model, baseline);
  std::vector<double> m(model.size());
  std::vector<double> b(model.size());
  std::vector<std::int64_t> events(model.size());
  for (std::size_t w = 0; w < model.size(); ++w) {
    if (model[w].ll.events != baseline[w].ll.events) {
      throw Error(ExitCode::Internal, "logLikDifference: window " + std::to_string(w) + " has " +
                                          std::to_string(model[w].ll.events) + " events for the model, " +
                                          std::to_string(baseline[w].ll.events) + " for the baseline");
    }
    m[w] = model[w].ll.total;
    b[w] = baseline[w].ll.total;
    events[w] = model[w].ll.events;
  }
  return bootstrapDifferencePerEvent(m, b, events, options);
}

}  // namespace vigie::verify
