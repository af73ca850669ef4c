#include "verify/Pooling.hpp"

#include <sstream>
#include <string>

#include "core/Error.hpp"

namespace vigie::verify {

namespace {

using core::Error;
using core::ExitCode;

double ratioOrZero(std::int64_t num, std::int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

}  // namespace

WindowScores scoreWindow(std::span<const double> forecast, std::span<const std::int64_t> observed,
                         std::span<const std::uint8_t> mask, std::span<const double> coverages,
                         double epsilon, int reliability_bins) {
  WindowScores w;
  w.at = scoreAtCoverages(forecast, observed, mask, coverages);
  w.ll = poissonLogLik(forecast, observed, mask, epsilon);
  w.brier = brierScore(forecast, observed, mask);
  w.reliability = reliability(forecast, observed, mask, reliability_bins);
  for (const auto m : mask) w.active_cells += m != 0 ? 1 : 0;
  return w;
}

PooledScores pool(const std::vector<WindowScores>& windows) {
  PooledScores p;
  p.windows = static_cast<std::int64_t>(windows.size());
  if (windows.empty()) return p;

  const std::size_t n_cov = windows.front().at.size();
  const std::size_t n_bins = windows.front().reliability.size();
  p.at.resize(n_cov);
  p.reliability.resize(n_bins);
  std::vector<double> sum_p(n_bins, 0.0);
  std::vector<double> sum_freq(n_bins, 0.0);
  double brier_weighted = 0.0;

  for (std::size_t w = 0; w < windows.size(); ++w) {
    const WindowScores& ws = windows[w];
    if (ws.at.size() != n_cov || ws.reliability.size() != n_bins) {
      throw Error(ExitCode::Internal, "pool: window " + std::to_string(w) + " has " +
                                          std::to_string(ws.at.size()) + " coverages and " +
                                          std::to_string(ws.reliability.size()) +
                                          " reliability bins, window 0 has " + std::to_string(n_cov) +
                                          " and " + std::to_string(n_bins));
    }
    for (std::size_t c = 0; c < n_cov; ++c) {
      const CoverageScore& s = ws.at[c];
      CoverageScore& t = p.at[c];
      if (w == 0) {
        t.coverage = s.coverage;
      } else if (s.coverage != t.coverage) {
        throw Error(ExitCode::Internal, "pool: window " + std::to_string(w) + " coverage " +
                                            std::to_string(s.coverage) + " differs from window 0's " +
                                            std::to_string(t.coverage));
      }
      t.cells_flagged += s.cells_flagged;
      t.events_caught += s.events_caught;
      t.events_total += s.events_total;
      t.events_best += s.events_best;
      t.active_cells += s.active_cells;
    }
    p.ll.total += ws.ll.total;
    p.ll.events += ws.ll.events;
    p.active_cells += ws.active_cells;
    brier_weighted += ws.brier * static_cast<double>(ws.active_cells);
    for (std::size_t b = 0; b < n_bins; ++b) {
      const ReliabilityBin& r = ws.reliability[b];
      if (w == 0) {
        p.reliability[b].p_lo = r.p_lo;
        p.reliability[b].p_hi = r.p_hi;
      }
      p.reliability[b].cells += r.cells;
      sum_p[b] += r.mean_forecast_p * static_cast<double>(r.cells);
      sum_freq[b] += r.observed_frequency * static_cast<double>(r.cells);
    }
  }

  for (CoverageScore& t : p.at) {
    t.hit_rate = ratioOrZero(t.events_caught, t.events_total);
    // Area fraction = sum n_flag / sum A: the flagged share of all cell-windows, which is n_flag / A when
    // the mask is the same in every window.
    t.pai = t.cells_flagged > 0
                ? t.hit_rate * static_cast<double>(t.active_cells) / static_cast<double>(t.cells_flagged)
                : 0.0;
    t.pei_star = ratioOrZero(t.events_caught, t.events_best);
  }
  if (p.active_cells > 0) p.brier = brier_weighted / static_cast<double>(p.active_cells);
  for (std::size_t b = 0; b < n_bins; ++b) {
    const auto cells = static_cast<double>(p.reliability[b].cells);
    if (cells > 0) {
      p.reliability[b].mean_forecast_p = sum_p[b] / cells;
      p.reliability[b].observed_frequency = sum_freq[b] / cells;
    }
  }
  return p;
}

std::string percentKey(double percent) {
  std::ostringstream os;
  os << percent;
  return os.str();
}

nlohmann::json pooledScoresJson(const PooledScores& p, const std::vector<double>& coverages_percent) {
  if (p.at.size() != coverages_percent.size() && p.windows > 0)
    throw Error(ExitCode::Internal, "pooledScoresJson: " + std::to_string(p.at.size()) +
                                        " coverages scored, " + std::to_string(coverages_percent.size()) +
                                        " named");
  nlohmann::json hr = nlohmann::json::object();
  nlohmann::json pai = nlohmann::json::object();
  nlohmann::json pei = nlohmann::json::object();
  for (std::size_t k = 0; k < coverages_percent.size(); ++k) {
    const auto key = percentKey(coverages_percent[k]);
    // No window pooled: every score is 0, as pool() defines it.
    const CoverageScore c = k < p.at.size() ? p.at[k] : CoverageScore{};
    hr[key] = c.hit_rate;
    pai[key] = c.pai;
    pei[key] = c.pei_star;
  }
  nlohmann::json rel = nlohmann::json::array();
  for (const auto& r : p.reliability) {
    rel.push_back({{"p_lo", r.p_lo},
                   {"p_hi", r.p_hi},
                   {"cells", r.cells},
                   {"mean_forecast_p", r.mean_forecast_p},
                   {"observed_frequency", r.observed_frequency}});
  }
  return {{"hit_rate", hr},    {"pai", pai},
          {"pei_star", pei},   {"log_likelihood_per_event", p.ll.per_event()},
          {"brier", p.brier},  {"events", p.ll.events},
          {"reliability", rel}};
}

}  // namespace vigie::verify
