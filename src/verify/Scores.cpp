#include "verify/Scores.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "core/Error.hpp"

namespace vigie::verify {

namespace {

using core::Error;
using core::ExitCode;

// Rejects what would make a score meaningless or the ranking ill-defined (a NaN breaks std::sort's strict
// weak ordering); returns the number of active cells.
std::int64_t checkWindow(const char* where, std::span<const double> forecast,
                         std::span<const std::int64_t> observed, std::span<const std::uint8_t> mask) {
  if (forecast.size() != observed.size() || forecast.size() != mask.size()) {
    throw Error(ExitCode::Internal,
                std::string(where) + ": forecast, observed and mask have different sizes (" +
                    std::to_string(forecast.size()) + ", " + std::to_string(observed.size()) + ", " +
                    std::to_string(mask.size()) + ")");
  }
  std::int64_t active = 0;
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] == 0) continue;
    ++active;
    if (!std::isfinite(forecast[k]) || forecast[k] < 0.0) {
      throw Error(ExitCode::Numerical, std::string(where) + ": forecast of cell " + std::to_string(k) +
                                           " is " + std::to_string(forecast[k]) +
                                           " (must be finite and >= 0)");
    }
    if (observed[k] < 0) {
      throw Error(ExitCode::InputData, std::string(where) + ": observed count of cell " + std::to_string(k) +
                                           " is negative (" + std::to_string(observed[k]) + ")");
    }
  }
  if (active == 0) throw Error(ExitCode::InputData, std::string(where) + ": the mask has no active cell");
  return active;
}

void checkCoverage(double coverage) {
  if (!(coverage > 0.0 && coverage <= 1.0)) {
    throw Error(ExitCode::Usage,
                "scoreAtCoverages: coverage " + std::to_string(coverage) + " is outside (0, 1]");
  }
}

double probabilityOfAny(double lambda) {
  return -std::expm1(-lambda);
}

}  // namespace

std::int64_t flaggedCellCount(double coverage, std::int64_t active_cells) {
  checkCoverage(coverage);
  const auto rounded =
      static_cast<std::int64_t>(std::floor(coverage * static_cast<double>(active_cells) + 0.5 + 1e-9));
  return std::clamp<std::int64_t>(rounded, 1, std::max<std::int64_t>(active_cells, 1));
}

CoverageScore scoreAtCoverage(std::span<const double> forecast, std::span<const std::int64_t> observed,
                              std::span<const std::uint8_t> mask, double coverage) {
  const double coverages[1] = {coverage};
  return scoreAtCoverages(forecast, observed, mask, coverages).front();
}

std::vector<CoverageScore> scoreAtCoverages(std::span<const double> forecast,
                                            std::span<const std::int64_t> observed,
                                            std::span<const std::uint8_t> mask,
                                            std::span<const double> coverages) {
  const std::int64_t active = checkWindow("scoreAtCoverages", forecast, observed, mask);
  for (const double c : coverages) checkCoverage(c);

  std::vector<std::int64_t> ranked;
  ranked.reserve(static_cast<std::size_t>(active));
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] != 0) ranked.push_back(static_cast<std::int64_t>(k));
  }
  // Indices are pushed in ascending order, but the tie rule is spelled out in the comparator rather than
  // left to stable_sort, so the ranking is defined by the data alone.
  std::sort(ranked.begin(), ranked.end(), [&](std::int64_t a, std::int64_t b) {
    const double fa = forecast[static_cast<std::size_t>(a)];
    const double fb = forecast[static_cast<std::size_t>(b)];
    return fa > fb || (fa == fb && a < b);
  });

  // caught[m] = events in the first m ranked cells; best[m] = events in the m cells with the most events.
  std::vector<std::int64_t> caught(ranked.size() + 1, 0);
  std::vector<std::int64_t> counts(ranked.size());
  for (std::size_t m = 0; m < ranked.size(); ++m) {
    caught[m + 1] = caught[m] + observed[static_cast<std::size_t>(ranked[m])];
    counts[m] = observed[static_cast<std::size_t>(ranked[m])];
  }
  std::sort(counts.begin(), counts.end(), std::greater<>());
  std::vector<std::int64_t> best(counts.size() + 1, 0);
  for (std::size_t m = 0; m < counts.size(); ++m) best[m + 1] = best[m] + counts[m];

  const std::int64_t total = caught.back();
  std::vector<CoverageScore> scores;
  scores.reserve(coverages.size());
  for (const double c : coverages) {
    CoverageScore s;
    s.coverage = c;
    s.active_cells = active;
    s.cells_flagged = flaggedCellCount(c, active);
    s.events_caught = caught[static_cast<std::size_t>(s.cells_flagged)];
    s.events_total = total;
    s.events_best = best[static_cast<std::size_t>(s.cells_flagged)];
    if (total > 0) {
      s.hit_rate = static_cast<double>(s.events_caught) / static_cast<double>(total);
      s.pai = s.hit_rate * static_cast<double>(active) / static_cast<double>(s.cells_flagged);
    }
    if (s.events_best > 0) {
      s.pei_star = static_cast<double>(s.events_caught) / static_cast<double>(s.events_best);
    }
    scores.push_back(s);
  }
  return scores;
}

double LogLik::per_event() const {
  return events > 0 ? total / static_cast<double>(events) : total;
}

LogLik poissonLogLik(std::span<const double> forecast, std::span<const std::int64_t> observed,
                     std::span<const std::uint8_t> mask, double epsilon) {
  checkWindow("poissonLogLik", forecast, observed, mask);
  if (!(epsilon > 0.0) || !std::isfinite(epsilon)) {
    throw Error(ExitCode::Usage,
                "poissonLogLik: epsilon " + std::to_string(epsilon) + " must be finite and > 0");
  }
  LogLik ll;
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] == 0) continue;
    const double lambda = std::max(forecast[k], epsilon);
    const auto c = static_cast<double>(observed[k]);
    // c = 0 contributes -lambda exactly; skipping log() there keeps a cell with a tiny lambda exact.
    ll.total += observed[k] == 0 ? -lambda : c * std::log(lambda) - lambda - std::lgamma(c + 1.0);
    ll.events += observed[k];
  }
  return ll;
}

double brierScore(std::span<const double> forecast, std::span<const std::int64_t> observed,
                  std::span<const std::uint8_t> mask) {
  const std::int64_t active = checkWindow("brierScore", forecast, observed, mask);
  double sum = 0.0;
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] == 0) continue;
    const double d = probabilityOfAny(forecast[k]) - (observed[k] > 0 ? 1.0 : 0.0);
    sum += d * d;
  }
  return sum / static_cast<double>(active);
}

std::vector<ReliabilityBin> reliability(std::span<const double> forecast,
                                        std::span<const std::int64_t> observed,
                                        std::span<const std::uint8_t> mask, int bins) {
  checkWindow("reliability", forecast, observed, mask);
  if (bins < 1)
    throw Error(ExitCode::Usage, "reliability: bins = " + std::to_string(bins) + " (must be >= 1)");
  std::vector<ReliabilityBin> table(static_cast<std::size_t>(bins));
  std::vector<double> sum_p(table.size(), 0.0);
  std::vector<std::int64_t> hits(table.size(), 0);
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] == 0) continue;
    const double p = probabilityOfAny(forecast[k]);
    // p < 1 for any finite forecast, except that 1 - exp(-lambda) rounds to 1 for lambda > ~37: clamp.
    const auto b = std::min<std::size_t>(static_cast<std::size_t>(p * bins), table.size() - 1);
    ++table[b].cells;
    sum_p[b] += p;
    if (observed[k] > 0) ++hits[b];
  }
  for (std::size_t b = 0; b < table.size(); ++b) {
    table[b].p_lo = static_cast<double>(b) / bins;
    table[b].p_hi = static_cast<double>(b + 1) / bins;
    if (table[b].cells > 0) {
      table[b].mean_forecast_p = sum_p[b] / static_cast<double>(table[b].cells);
      table[b].observed_frequency = static_cast<double>(hits[b]) / static_cast<double>(table[b].cells);
    }
  }
  return table;
}

}  // namespace vigie::verify
