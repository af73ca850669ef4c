#include "verify/Backtest.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "core/Timer.hpp"
#include "ingest/TimeBinning.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"
#include "verify/BlockBootstrap.hpp"
#include "verify/OffsetBand.hpp"
#include "verify/Pooling.hpp"

namespace vigie::verify {

using core::Error;
using core::ExitCode;

namespace {

/// Planes read per HDF5 call: bounds the temporary buffer to a few MB whatever the store's length.
constexpr int kPlanesPerRead = 64;

bool isIsoDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (k == 4 || k == 7) continue;
    if (s[k] < '0' || s[k] > '9') return false;
  }
  return true;
}

/// Doubles per (window, model) record of the gathered scores; integers travel bit-cast, so nothing is
/// rounded on the way to rank 0.
std::size_t recordSize(std::size_t coverages, int reliability_bins) {
  return coverages * 9 + 4 + static_cast<std::size_t>(reliability_bins) * 5;
}

double packInt(std::int64_t v) {
  return std::bit_cast<double>(v);
}
std::int64_t unpackInt(double v) {
  return std::bit_cast<std::int64_t>(v);
}

void encode(const WindowScores& s, std::vector<double>& out) {
  for (const auto& c : s.at) {
    out.insert(out.end(),
               {c.coverage, packInt(c.cells_flagged), packInt(c.events_caught), packInt(c.events_total),
                packInt(c.events_best), packInt(c.active_cells), c.hit_rate, c.pai, c.pei_star});
  }
  out.insert(out.end(), {s.ll.total, packInt(s.ll.events), s.brier, packInt(s.active_cells)});
  for (const auto& r : s.reliability) {
    out.insert(out.end(), {r.p_lo, r.p_hi, packInt(r.cells), r.mean_forecast_p, r.observed_frequency});
  }
}

WindowScores decode(const double* p, std::size_t coverages, int reliability_bins) {
  WindowScores s;
  for (std::size_t k = 0; k < coverages; ++k, p += 9) {
    CoverageScore c;
    c.coverage = p[0];
    c.cells_flagged = unpackInt(p[1]);
    c.events_caught = unpackInt(p[2]);
    c.events_total = unpackInt(p[3]);
    c.events_best = unpackInt(p[4]);
    c.active_cells = unpackInt(p[5]);
    c.hit_rate = p[6];
    c.pai = p[7];
    c.pei_star = p[8];
    s.at.push_back(c);
  }
  s.ll.total = p[0];
  s.ll.events = unpackInt(p[1]);
  s.brier = p[2];
  s.active_cells = unpackInt(p[3]);
  p += 4;
  for (int b = 0; b < reliability_bins; ++b, p += 5) {
    s.reliability.push_back(ReliabilityBin{p[0], p[1], unpackInt(p[2]), p[3], p[4]});
  }
  return s;
}

void requireFinite(const nlohmann::json& j, const std::string& where) {
  if (j.is_number_float() && !std::isfinite(j.get<double>()))
    throw Error(ExitCode::Numerical, "backtest: non-finite value at " + where, true);
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) requireFinite(v, where + "/" + k);
  } else if (j.is_array()) {
    for (std::size_t k = 0; k < j.size(); ++k) requireFinite(j[k], where + "/" + std::to_string(k));
  }
}

nlohmann::json intervalJson(const BootstrapInterval& b) {
  return nlohmann::json::array({b.lo, b.hi});
}

}  // namespace

ObservedSeries ObservedSeries::read(MPI_Comm comm, const std::filesystem::path& obs_h5,
                                    const std::vector<std::string>& categories) {
  return read(comm, obs_h5, categories, nullptr);
}

ObservedSeries ObservedSeries::read(MPI_Comm comm, const std::filesystem::path& obs_h5,
                                    const std::vector<std::string>& categories,
                                    const std::function<void(const ObservedSeries&)>& each) {
  core::ScopedTimer timer("backtest read");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(obs_h5, ec))
    throw Error(ExitCode::InputData, obs_h5.string() + ": no observation store (run vigie ingest first)",
                true);
  const auto file = store::FieldFile::open(comm, obs_h5);
  ObservedSeries s;
  const auto g = file.geometry();
  s.nx = g.nx;
  s.ny = g.ny;
  const auto stored = core::splitList(file.stringAttribute("categories"));
  s.categories = categories.empty() ? stored : categories;
  for (const auto& c : s.categories) {
    if (std::find(stored.begin(), stored.end(), c) == stored.end())
      throw Error(ExitCode::Usage,
                  obs_h5.string() + ": backtest.categories names '" + c + "', which the store does not hold",
                  true);
  }
  s.bin = file.stringAttribute("bin");
  const ingest::TimeBinning binning(ingest::parseBinUnit(s.bin, obs_h5.string() + " attribute bin"),
                                    ingest::TimeZone(file.stringAttribute("timezone")));
  const std::int64_t first_bin = file.intAttribute("first_bin");
  s.bin_start = file.read1d<std::int64_t>("/time/bin_start");
  s.missing = file.read1d<std::uint8_t>("/time/missing");
  s.bin_start_iso = file.readStrings1d("/time/bin_start_iso");
  const auto nt = static_cast<std::int64_t>(s.missing.size());
  if (static_cast<std::int64_t>(s.bin_start.size()) != nt ||
      static_cast<std::int64_t>(s.bin_start_iso.size()) != nt)
    throw Error(ExitCode::InputData, obs_h5.string() + ": /time datasets differ in length", true);
  // The end of the last bin is the start of the next one, which only the binning knows (months differ).
  s.bin_start.push_back(binning.binStartUtc(first_bin + nt));
  const store::Box whole{0, 0, s.nx, s.ny};
  s.mask = file.read2d<std::uint8_t>("/mask", whole);
  const auto plane = static_cast<std::size_t>(s.nx) * static_cast<std::size_t>(s.ny);
  s.counts.assign(static_cast<std::size_t>(nt) * plane, 0);
  ObservedSeries one;
  if (each) {
    one = s;
    one.counts.clear();
  }
  for (const auto& c : s.categories) {
    if (each) {
      one.categories = {c};
      one.counts.assign(s.counts.size(), 0);
    }
    for (std::int64_t t0 = 0; t0 < nt; t0 += kPlanesPerRead) {
      const int n = static_cast<int>(std::min<std::int64_t>(kPlanesPerRead, nt - t0));
      const auto slab = file.readSlab3d<std::int32_t>("/counts/" + c, static_cast<int>(t0), n, whole);
      auto* dst = s.counts.data() + static_cast<std::size_t>(t0) * plane;
      for (std::size_t k = 0; k < slab.size(); ++k) dst[k] += slab[k];
      if (each)
        std::copy(slab.begin(), slab.end(),
                  one.counts.begin() + static_cast<std::ptrdiff_t>(t0) * static_cast<std::ptrdiff_t>(plane));
    }
    if (each) each(one);
  }
  return s;
}

BacktestSettings BacktestSettings::fromConfig(const core::Config& config, const std::string& case_name) {
  BacktestSettings s;
  s.case_name = case_name;
  s.start = config.getString("backtest.start");
  s.end = config.getString("backtest.end");
  if (!isIsoDate(s.start))
    throw Error(ExitCode::Usage, "backtest.start must be an ISO date YYYY-MM-DD", true);
  if (!isIsoDate(s.end)) throw Error(ExitCode::Usage, "backtest.end must be an ISO date YYYY-MM-DD", true);
  if (s.end < s.start) throw Error(ExitCode::Usage, "backtest.end is before backtest.start", true);
  const auto h = config.getInt("backtest.horizon_bins");
  if (h < 1 || h > 100000) throw Error(ExitCode::Usage, "backtest.horizon_bins must be in 1..100000", true);
  s.horizon_bins = static_cast<int>(h);
  s.categories = config.getList("backtest.categories");
  s.coverages_percent.clear();
  for (const auto& text : config.getList("backtest.coverages")) {
    std::size_t used = 0;
    double v = 0.0;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !(v > 0.0) || v > 100.0)
      throw Error(ExitCode::Usage, "backtest.coverages: '" + text + "' is not a percentage in (0, 100]",
                  true);
    s.coverages_percent.push_back(v);
  }
  if (std::find(s.coverages_percent.begin(), s.coverages_percent.end(), 5.0) == s.coverages_percent.end())
    throw Error(ExitCode::Usage, "backtest.coverages must include 5 (best_baseline and skill use PAI@5%)",
                true);
  s.epsilon = config.getDouble("backtest.epsilon");
  if (!(s.epsilon > 0.0) || !std::isfinite(s.epsilon))
    throw Error(ExitCode::Usage, "backtest.epsilon must be a positive number", true);
  const auto r = config.getInt("backtest.bootstrap_replicates");
  if (r < 1 || r > 1000000)
    throw Error(ExitCode::Usage, "backtest.bootstrap_replicates must be in 1..1000000", true);
  s.replicates = static_cast<int>(r);
  s.seed = config.getUInt("run.seed");
  s.per_category = config.getBool("backtest.per_category");
  for (const auto& m : config.getList("models.enabled")) {
    if (std::find(s.models.begin(), s.models.end(), m) != s.models.end())
      throw Error(ExitCode::Usage, "models.enabled lists '" + m + "' twice", true);
    s.models.push_back(m);
  }
  s.enabled_models = s.models.size();
  for (const auto& b : Backtest::baselines()) {
    if (std::find(s.models.begin(), s.models.end(), b) == s.models.end()) s.models.push_back(b);
  }
  const auto k = config.getInt("backtest.refit_every");
  if (k < 1 || k > 100000) throw Error(ExitCode::Usage, "backtest.refit_every must be in 1..100000", true);
  s.refit_every = static_cast<int>(k);
  s.tune = config.getBool("backtest.tune");
  const auto tw = config.getInt("backtest.tune_windows");
  if (tw < 1 || tw > 10000) throw Error(ExitCode::Usage, "backtest.tune_windows must be in 1..10000", true);
  s.tune_windows = static_cast<int>(tw);
  const auto tb = config.getInt("backtest.tune_budget");
  if (tb < 1 || tb > 1000) throw Error(ExitCode::Usage, "backtest.tune_budget must be in 1..1000", true);
  s.tune_budget = static_cast<int>(tb);
  s.model_overrides.assign(s.models.size(), {});
  return s;
}

const std::vector<std::string>& Backtest::baselines() {
  static const std::vector<std::string> names{"naive", "history", "kde", "prospective"};
  return names;
}

void Backtest::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("backtest.start", OptionType::String, "2018-01-01",
           "ISO date: the first window starts at the first bin starting on or after it")
      .add("backtest.end", OptionType::String, "2018-12-31",
           "ISO date: the last window starts at a bin starting on or before it")
      .add("backtest.horizon_bins", OptionType::Int, "1",
           "bins per window (the forecast horizon); windows follow each other without overlap")
      .add("backtest.categories", OptionType::List, "",
           "categories whose events are forecast and scored, summed (empty: every category)")
      .add("backtest.coverages", OptionType::List, "1,5,10",
           "area coverages in percent of the active cells for hit rate, PAI and PEI* (must include 5)")
      .add("backtest.epsilon", OptionType::Double, "1e-9",
           "floor of the forecast in the Poisson log-likelihood, events per cell per window")
      .add("backtest.bootstrap_replicates", OptionType::Int, "999",
           "block-bootstrap replicates of the skill intervals (seeded by run.seed)")
      .add("backtest.per_category", OptionType::Bool, "true",
           "also score every model fitted on each category alone (backtest.json per_category; costs one "
           "more replay per category and model)")
      .add("backtest.plots", OptionType::Bool, "true",
           "draw the PNG plots of backtest.md with scripts/backtest_plots.py (/usr/bin/python3 and "
           "matplotlib); a failure is reported as a warning, the JSON and Markdown are written anyway")
      .add("backtest.refit_every", OptionType::Int, "1",
           "models with fitted parameters (sepp) refit every this many windows, warm-started from the first "
           "window's fit, and update their state with the events in between")
      .add("backtest.tune", OptionType::Bool, "true",
           "tune every model's hyper-parameters (naive.bins, kde.bandwidth_m, ...) on the windows before "
           "backtest.start, by the same procedure and budget for every model")
      .add("backtest.tune_windows", OptionType::Int, "8",
           "complete windows just before the first backtest window that score the tuning candidates")
      .add("backtest.tune_budget", OptionType::Int, "12",
           "most tuning candidates evaluated per model (every model gets the same budget)");
}

std::vector<std::int64_t> Backtest::windowStarts(const ObservedSeries& series,
                                                 const BacktestSettings& settings) {
  std::vector<std::int64_t> starts;
  const std::int64_t nt = series.bins();
  std::int64_t b = 0;
  // The local date of a bin's start is the first 10 characters of its ISO start.
  while (b < nt && series.bin_start_iso[static_cast<std::size_t>(b)].substr(0, 10) < settings.start) ++b;
  for (; b < nt && series.bin_start_iso[static_cast<std::size_t>(b)].substr(0, 10) <= settings.end;
       b += settings.horizon_bins) {
    if (b + settings.horizon_bins > nt) break;
    bool complete = true;
    for (std::int64_t k = b; k < b + settings.horizon_bins; ++k) {
      if (series.missing[static_cast<std::size_t>(k)] != 0) complete = false;
    }
    // A window the sources do not cover has no observed counts to score against.
    if (complete) starts.push_back(b);
  }
  return starts;
}

void Backtest::replay(const grid::CityGrid& grid, const core::Config& config, std::uint64_t seed,
                      const std::string& model_name, const ObservedSeries& series,
                      const std::vector<std::int64_t>& starts, int horizon_bins,
                      const std::function<void(std::size_t, std::span<const double>)>& sink) {
  replay(grid, config, seed, model_name, series, starts, 0, starts.size(), horizon_bins, 1, sink);
}

void Backtest::replay(const grid::CityGrid& grid, const core::Config& config, std::uint64_t seed,
                      const std::string& model_name, const ObservedSeries& series,
                      const std::vector<std::int64_t>& starts, std::size_t first, std::size_t last,
                      int horizon_bins, int refit_every,
                      const std::function<void(std::size_t, std::span<const double>)>& sink) {
  if (first > last || last > starts.size() || refit_every < 1)
    throw Error(ExitCode::Internal, "Backtest::replay: bad window range or refit interval");
  const auto plane = static_cast<std::size_t>(series.nx) * static_cast<std::size_t>(series.ny);
  const auto& box = grid.ownedBox();
  if (box.i0 != 0 || box.j0 != 0 || box.ni != series.nx || box.nj != series.ny)
    throw Error(ExitCode::Internal, "Backtest::replay needs a grid that holds the whole series on one rank");
  const models::ModelContext context{grid, config, seed};
  const auto model = models::ModelRegistry::instance().create(model_name, context);
  const auto& mask = grid.ownedMask();
  // Days since the first bin's start: the same expression for a bin's end and the next bin's start, so
  // advance(t0, t1) always starts at the model's time.
  const auto day = [&](std::int64_t b) {
    return static_cast<double>(series.bin_start[static_cast<std::size_t>(b)] - series.bin_start[0]) / 86400.0;
  };
  std::vector<double> counts(plane, 0.0);
  std::vector<double> forecast(plane, 0.0);
  // Fitted models: the anchor (cold fit at window 0) and the refit windows this range needs, in order.
  const bool fitted = model->isFitted();
  std::vector<std::size_t> visit;
  if (fitted && first < last) {
    visit.push_back(0);
    const std::size_t before = first / static_cast<std::size_t>(refit_every) * refit_every;
    if (before != 0) visit.push_back(before);
  }
  for (std::size_t k = first; k < last; ++k) {
    if (visit.empty() || visit.back() < k) visit.push_back(k);
  }
  std::vector<double> anchor;
  std::int64_t b = 0;
  for (const std::size_t k : visit) {
    const std::int64_t s = starts[k];
    if (s < b || s + horizon_bins > series.bins())
      throw Error(ExitCode::Internal, "Backtest::replay: window starts out of order or beyond the series");
    for (; b < s; ++b) {
      const double t0 = day(b);
      const double t1 = day(b + 1);
      if (series.missing[static_cast<std::size_t>(b)] == 0) {
        const auto* c = series.counts.data() + static_cast<std::size_t>(b) * plane;
        std::copy(c, c + plane, counts.begin());
        model->observe(t0, t1, counts);
      }
      model->advance(t0, t1);
    }
    if (fitted) {
      if (k == 0) {
        model->fit({});
        anchor = model->fittedParameters();
      } else if (k % static_cast<std::size_t>(refit_every) == 0) {
        model->fit(anchor);
      }
    }
    if (k < first) continue;
    std::fill(forecast.begin(), forecast.end(), 0.0);
    model->expectedEvents(forecast, day(s + horizon_bins) - day(s));
    for (std::size_t c = 0; c < plane; ++c) forecast[c] = mask[c] != 0 ? forecast[c] : 0.0;
    sink(k, forecast);
  }
}

namespace {

/// Most steps of fitStack.
constexpr int kStackMaxSteps = 500;
/// Relative duality gap at which fitStack stops.
constexpr double kStackTolerance = 1e-12;

/// The stacking objective, its gradient and (when `hessian`) its Hessian at `w`, summed over the windows of
/// `d` but `skip` in window then cell order (so the same data give the same bits on any rank).
struct StackEval {
  double f = 0.0;
  std::vector<double> g;  ///< K
  std::vector<double> h;  ///< K x K, row-major; empty unless asked for
};

void evalStack(const StackData& d, std::span<const double> w, std::size_t skip, bool hessian, StackEval& e) {
  const std::size_t k_models = d.models;
  e.f = 0.0;
  e.g.assign(k_models, 0.0);
  e.h.assign(hessian ? k_models * k_models : 0, 0.0);
  for (std::size_t win = 0; win < d.windows(); ++win) {
    if (win == skip) continue;
    for (std::size_t c = d.offsets[win]; c < d.offsets[win + 1]; ++c) {
      const double* lambda = d.lambda.data() + c * k_models;
      double b = 0.0;
      for (std::size_t k = 0; k < k_models; ++k) b += w[k] * lambda[k];
      const double n = d.counts[c];
      e.f += n * std::log(b);
      const double r = n / b;
      for (std::size_t k = 0; k < k_models; ++k) e.g[k] += r * lambda[k];
      if (hessian) {
        const double s = r / b;
        for (std::size_t j = 0; j < k_models; ++j) {
          for (std::size_t k = j; k < k_models; ++k) e.h[j * k_models + k] -= s * lambda[j] * lambda[k];
        }
      }
    }
    const double* total = d.totals.data() + win * k_models;
    for (std::size_t k = 0; k < k_models; ++k) {
      e.f -= w[k] * total[k];
      e.g[k] -= total[k];
    }
  }
  if (hessian) {
    for (std::size_t j = 0; j < k_models; ++j) {
      for (std::size_t k = 0; k < j; ++k) e.h[j * k_models + k] = e.h[k * k_models + j];
    }
  }
}

double dot(std::span<const double> a, std::span<const double> b) {
  double s = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}

/// Newton direction on the free weights (sum of the direction 0): the free weight with the largest value
/// is eliminated, and the reduced negative Hessian solved by Cholesky. False when fewer than 2 weights are
/// free or the reduced Hessian is not safely negative definite (two models alike at every cell with events).
bool newtonDirection(const StackEval& e, const std::vector<bool>& free, std::span<const double> w,
                     std::vector<double>& dir) {
  const std::size_t k_models = w.size();
  std::vector<std::size_t> f;
  std::size_t ref = k_models;
  for (std::size_t k = 0; k < k_models; ++k) {
    if (!free[k]) continue;
    if (ref == k_models || w[k] > w[ref]) ref = k;
    f.push_back(k);
  }
  if (f.size() < 2) return false;
  std::vector<std::size_t> rest;
  for (const auto k : f) {
    if (k != ref) rest.push_back(k);
  }
  const std::size_t m = rest.size();
  const auto h = [&](std::size_t a, std::size_t b) { return e.h[a * k_models + b]; };
  // A = -(Z^T H Z), Z's columns e_a - e_ref; right-hand side the reduced gradient.
  std::vector<double> a(m * m);
  std::vector<double> y(m);
  double largest = 0.0;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      a[i * m + j] = -(h(rest[i], rest[j]) - h(rest[i], ref) - h(ref, rest[j]) + h(ref, ref));
    }
    largest = std::max(largest, a[i * m + i]);
    y[i] = e.g[rest[i]] - e.g[ref];
  }
  if (!(largest > 0.0) || !std::isfinite(largest)) return false;
  // In-place Cholesky A = L L^T (lower triangle).
  for (std::size_t j = 0; j < m; ++j) {
    double d = a[j * m + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
    if (!(d > 1e-14 * largest)) return false;
    const double l = std::sqrt(d);
    a[j * m + j] = l;
    for (std::size_t i = j + 1; i < m; ++i) {
      double s = a[i * m + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * m + k] * a[j * m + k];
      a[i * m + j] = s / l;
    }
  }
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t k = 0; k < i; ++k) y[i] -= a[i * m + k] * y[k];
    y[i] /= a[i * m + i];
  }
  for (std::size_t i = m; i-- > 0;) {
    for (std::size_t k = i + 1; k < m; ++k) y[i] -= a[k * m + i] * y[k];
    y[i] /= a[i * m + i];
  }
  std::fill(dir.begin(), dir.end(), 0.0);
  double sum = 0.0;
  for (std::size_t i = 0; i < m; ++i) {
    if (!std::isfinite(y[i])) return false;
    dir[rest[i]] = y[i];
    sum += y[i];
  }
  dir[ref] = -sum;
  return true;
}

/// Step along `dir` in (0, a_hi]: a_hi when the directional derivative is still >= 0 there, else a point of
/// [0, a_hi] where it is >= 0 (so the objective has not decreased, the objective being concave) and at most
/// half its value at 0, found by Illinois regula falsi. 0 when no such point is representable.
double lineSearch(const StackData& d, std::span<const double> w, std::span<const double> dir,
                  std::size_t skip, double slope0, double a_hi, StackEval& trial) {
  std::vector<double> x(w.size());
  const auto slope = [&](double a) {
    for (std::size_t k = 0; k < w.size(); ++k) x[k] = std::max(0.0, w[k] + a * dir[k]);
    evalStack(d, x, skip, false, trial);
    return dot(trial.g, dir);
  };
  double d_hi = slope(a_hi);
  if (d_hi >= 0.0) return a_hi;
  double lo = 0.0;
  double d_lo = slope0;
  double hi = a_hi;
  int side = 0;
  for (int it = 0; it < 100; ++it) {
    double a = lo - d_lo * (hi - lo) / (d_hi - d_lo);
    if (!(a > lo && a < hi)) a = 0.5 * (lo + hi);
    if (!(a > lo && a < hi)) break;
    const double da = slope(a);
    if (da >= 0.0) {
      lo = a;
      d_lo = da;
      if (da <= 0.5 * slope0) break;
      if (side == 1) d_hi *= 0.5;
      side = 1;
    } else {
      hi = a;
      d_hi = da;
      if (side == -1) d_lo *= 0.5;
      side = -1;
    }
  }
  return lo;
}

}  // namespace

void StackData::addWindow(const std::vector<std::span<const double>>& forecasts,
                          std::span<const std::int64_t> observed, std::span<const std::uint8_t> mask,
                          double epsilon) {
  if (forecasts.size() != models || models == 0)
    throw Error(ExitCode::Internal, "StackData::addWindow: " + std::to_string(forecasts.size()) +
                                        " forecasts for " + std::to_string(models) + " models");
  for (const auto& f : forecasts) {
    if (f.size() != mask.size() || observed.size() != mask.size())
      throw Error(ExitCode::Internal, "StackData::addWindow: forecast, counts and mask differ in size");
  }
  const std::size_t first_total = totals.size();
  totals.resize(first_total + models, 0.0);
  for (std::size_t c = 0; c < mask.size(); ++c) {
    if (mask[c] == 0) continue;
    for (std::size_t k = 0; k < models; ++k) totals[first_total + k] += forecasts[k][c];
    if (observed[c] <= 0) continue;
    counts.push_back(static_cast<double>(observed[c]));
    for (std::size_t k = 0; k < models; ++k) lambda.push_back(std::max(forecasts[k][c], epsilon));
  }
  offsets.push_back(counts.size());
}

double Backtest::stackObjective(const StackData& data, std::span<const double> weights, std::size_t skip) {
  if (weights.size() != data.models)
    throw Error(ExitCode::Internal, "Backtest::stackObjective: weights and models differ in number");
  StackEval e;
  evalStack(data, weights, skip, false, e);
  return e.f;
}

StackFit Backtest::fitStack(const StackData& data, std::size_t skip) {
  const std::size_t k_models = data.models;
  if (k_models == 0 || data.offsets.empty() || data.totals.size() != data.windows() * k_models ||
      data.counts.size() != data.offsets.back() || data.lambda.size() != data.counts.size() * k_models)
    throw Error(ExitCode::Internal, "Backtest::fitStack: inconsistent stacking data");
  double events = 0.0;
  std::vector<double> sums(k_models, 0.0);
  for (std::size_t win = 0; win < data.windows(); ++win) {
    if (win == skip) continue;
    for (std::size_t c = data.offsets[win]; c < data.offsets[win + 1]; ++c) events += data.counts[c];
    for (std::size_t k = 0; k < k_models; ++k) sums[k] += data.totals[win * k_models + k];
  }
  const double tolerance = kStackTolerance * (1.0 + events + *std::max_element(sums.begin(), sums.end()));

  StackFit fit;
  auto& w = fit.weights;
  w.assign(k_models, 1.0 / static_cast<double>(k_models));
  std::vector<bool> free(k_models, true);
  std::vector<double> dir(k_models, 0.0);
  StackEval e;
  StackEval trial;
  for (int step = 0;; ++step) {
    evalStack(data, w, skip, true, e);
    const double mean = dot(w, e.g);
    const auto best = static_cast<std::size_t>(std::max_element(e.g.begin(), e.g.end()) - e.g.begin());
    fit.objective = e.f;
    fit.gap = std::max(0.0, e.g[best] - mean);
    fit.iterations = step;
    if (fit.gap <= tolerance) {
      fit.converged = true;
      break;
    }
    if (step == kStackMaxSteps) break;
    // A weight at 0 whose gradient beats the weighted mean may grow: let Newton move it.
    for (std::size_t k = 0; k < k_models; ++k) {
      if (!free[k] && e.g[k] > mean) free[k] = true;
    }
    const auto frankWolfe = [&] {
      for (std::size_t k = 0; k < k_models; ++k) dir[k] = (k == best ? 1.0 : 0.0) - w[k];
    };
    const auto bound = [&](std::size_t& blocker) {
      double a = std::numeric_limits<double>::infinity();
      blocker = k_models;
      for (std::size_t k = 0; k < k_models; ++k) {
        if (dir[k] < 0.0 && w[k] / -dir[k] < a) {
          a = w[k] / -dir[k];
          blocker = k;
        }
      }
      return a;
    };
    std::size_t blocker = k_models;
    bool newton = newtonDirection(e, free, w, dir);
    double slope = newton ? dot(e.g, dir) : 0.0;
    double a_max = newton ? bound(blocker) : 0.0;
    double a = 0.0;
    if (newton && slope > 0.0 && a_max > 0.0)
      a = lineSearch(data, w, dir, skip, slope, std::min(1.0, a_max), trial);
    if (!(a > 0.0)) {
      newton = false;
      frankWolfe();
      slope = dot(e.g, dir);
      a_max = bound(blocker);
      if (slope > 0.0) a = lineSearch(data, w, dir, skip, slope, std::min(1.0, a_max), trial);
    }
    // No representable step increases the objective: stop with the gap reached.
    if (!(a > 0.0)) break;
    for (std::size_t k = 0; k < k_models; ++k) w[k] = std::max(0.0, w[k] + a * dir[k]);
    if (a == a_max && blocker < k_models) w[blocker] = 0.0;
    if (!newton && a == 1.0) {
      for (std::size_t k = 0; k < k_models; ++k) w[k] = k == best ? 1.0 : 0.0;
    }
    double sum = 0.0;
    for (const double v : w) sum += v;
    for (std::size_t k = 0; k < k_models; ++k) {
      w[k] /= sum;
      free[k] = w[k] > 0.0;
    }
  }
  return fit;
}

namespace {

/// What scoreAll keeps of this rank's windows for stacking.
struct Kept {
  std::vector<std::size_t> models;                          ///< indices into settings.models to keep
  std::size_t first = 0;                                    ///< global index of this rank's first window
  std::vector<std::uint8_t> mask;                           ///< the grid's mask (whole grid)
  std::vector<std::vector<std::int64_t>> observed;          ///< [own window][cell] events
  std::vector<std::vector<std::vector<double>>> forecasts;  ///< [kept model][own window][cell]
};

/// Collective over `comm`. Replays and scores every model on this rank's share of `starts` and gathers the
/// scores on every rank as scores[model][window]. With `keep`, also keeps this rank's observed counts and
/// the forecasts of the models keep->models (whole grid per window: memory of kept models x own windows x
/// cells doubles).
std::vector<std::vector<WindowScores>> scoreAll(MPI_Comm comm, const grid::GridSpec& spec,
                                                const core::Config& config, const BacktestSettings& settings,
                                                const ObservedSeries& series,
                                                const std::vector<std::int64_t>& starts,
                                                Kept* keep = nullptr) {
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
  if (spec.nx != series.nx || spec.ny != series.ny)
    throw Error(ExitCode::InputData, "backtest: the observation store was made for another grid", true);

  const auto n_windows = static_cast<std::int64_t>(starts.size());
  const auto n_models = settings.models.size();
  const std::int64_t w0 = rank * n_windows / size;
  const std::int64_t w1 = (rank + 1) * n_windows / size;
  std::vector<std::int64_t> mine(starts.begin() + w0, starts.begin() + w1);

  std::vector<double> coverages;
  for (const double p : settings.coverages_percent) coverages.push_back(p / 100.0);
  const auto rec = recordSize(coverages.size(), settings.reliability_bins);
  const auto plane = static_cast<std::size_t>(series.nx) * static_cast<std::size_t>(series.ny);

  // Every rank holds the whole grid on its own: windows, not cells, are what is distributed. The mask comes
  // from the store, so a GeoJSON outline is not rasterised again.
  grid::GridSpec self_spec = spec;
  self_spec.mask_file.clear();
  self_spec.px = 0;
  self_spec.py = 0;
  grid::CityGrid grid(MPI_COMM_SELF, self_spec);
  grid.setMask(series.mask);
  const auto& mask = grid.ownedMask();

  std::vector<std::vector<std::int64_t>> observed(mine.size(), std::vector<std::int64_t>(plane, 0));
  for (std::size_t k = 0; k < mine.size(); ++k) {
    for (std::int64_t b = mine[k]; b < mine[k] + settings.horizon_bins; ++b) {
      const auto* c = series.counts.data() + static_cast<std::size_t>(b) * plane;
      for (std::size_t cell = 0; cell < plane; ++cell) observed[k][cell] += c[cell];
    }
  }
  std::vector<double> local(mine.size() * n_models * rec, 0.0);
  std::vector<std::size_t> slot(n_models, n_models);
  if (keep != nullptr) {
    keep->first = static_cast<std::size_t>(w0);
    keep->forecasts.assign(keep->models.size(), {});
    for (std::size_t j = 0; j < keep->models.size(); ++j) {
      slot.at(keep->models[j]) = j;
      keep->forecasts[j].resize(mine.size());
    }
  }
  for (std::size_t m = 0; m < n_models; ++m) {
    const auto model_config = m < settings.model_overrides.size() && !settings.model_overrides[m].empty()
                                  ? config.withOverrides(settings.model_overrides[m])
                                  : config;
    Backtest::replay(grid, model_config, settings.seed, settings.models[m], series, starts,
                     static_cast<std::size_t>(w0), static_cast<std::size_t>(w1), settings.horizon_bins,
                     settings.refit_every, [&](std::size_t g, std::span<const double> forecast) {
                       const auto k = g - static_cast<std::size_t>(w0);
                       const auto s = scoreWindow(forecast, observed[k], mask, coverages, settings.epsilon,
                                                  settings.reliability_bins);
                       std::vector<double> packed;
                       encode(s, packed);
                       std::copy(packed.begin(), packed.end(),
                                 local.begin() + static_cast<std::ptrdiff_t>((k * n_models + m) * rec));
                       if (slot[m] < n_models)
                         keep->forecasts[slot[m]][k].assign(forecast.begin(), forecast.end());
                     });
  }
  if (keep != nullptr) {
    keep->observed = std::move(observed);
    keep->mask.assign(mask.begin(), mask.end());
  }

  std::vector<int> counts(static_cast<std::size_t>(size));
  std::vector<int> displs(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    const std::int64_t a = r * n_windows / size;
    const std::int64_t b = (r + 1) * n_windows / size;
    counts[static_cast<std::size_t>(r)] =
        static_cast<int>((b - a) * static_cast<std::int64_t>(n_models * rec));
    displs[static_cast<std::size_t>(r)] = static_cast<int>(a * static_cast<std::int64_t>(n_models * rec));
  }
  // Every rank gets every score (a few hundred doubles per window and model), so every rank can pick the
  // best baseline that stacking needs.
  std::vector<double> all(static_cast<std::size_t>(n_windows) * n_models * rec);
  VIGIE_CHECK_MPI(MPI_Allgatherv(local.data(), static_cast<int>(local.size()), MPI_DOUBLE, all.data(),
                                 counts.data(), displs.data(), MPI_DOUBLE, comm));

  std::vector<std::vector<WindowScores>> scores(n_models);
  for (std::int64_t w = 0; w < n_windows; ++w) {
    for (std::size_t m = 0; m < n_models; ++m) {
      scores[m].push_back(decode(all.data() + (static_cast<std::size_t>(w) * n_models + m) * rec,
                                 coverages.size(), settings.reliability_bins));
    }
  }
  return scores;
}

/// The best baseline: highest pooled PAI@5% (coverage index k5); ties go to the first in baselines() order.
std::size_t bestBaseline(const BacktestSettings& settings, const std::vector<PooledScores>& pooled,
                         std::size_t k5) {
  const auto n_models = settings.models.size();
  std::size_t best = n_models;
  for (const auto& b : Backtest::baselines()) {
    const auto m = static_cast<std::size_t>(std::find(settings.models.begin(), settings.models.end(), b) -
                                            settings.models.begin());
    if (m == n_models) continue;
    if (best == n_models || pooled[m].at[k5].pai > pooled[best].at[k5].pai) best = m;
  }
  return best;
}

/// Indices into settings.models of the models stacking may use, known before any score: models.enabled
/// when it lists 2 or more, else every model (models.enabled and the baselines: the best baseline is
/// only known once every window is scored).
std::vector<std::size_t> stackCandidates(const BacktestSettings& settings) {
  const auto enabled = std::min(settings.enabled_models, settings.models.size());
  std::vector<std::size_t> out;
  for (std::size_t m = 0; m < (enabled >= 2 ? enabled : settings.models.size()); ++m) out.push_back(m);
  return out;
}

/// The stacked models: models.enabled, plus the best baseline when models.enabled has fewer than 2.
std::vector<std::size_t> stackedModels(const BacktestSettings& settings, std::size_t best) {
  const auto enabled = std::min(settings.enabled_models, settings.models.size());
  std::vector<std::size_t> out;
  for (std::size_t m = 0; m < enabled; ++m) out.push_back(m);
  if (enabled < 2 && best < settings.models.size() && std::find(out.begin(), out.end(), best) == out.end())
    out.push_back(best);
  return out;
}

/// Collective over `comm`. Every rank's windows of `mine` (contiguous, in rank order) on every rank.
StackData allgatherStack(MPI_Comm comm, const StackData& mine) {
  const std::size_t k_models = mine.models;
  std::vector<double> packed;
  for (std::size_t w = 0; w < mine.windows(); ++w) {
    const auto first = mine.offsets[w];
    const auto last = mine.offsets[w + 1];
    packed.push_back(packInt(static_cast<std::int64_t>(last - first)));
    packed.insert(packed.end(), mine.totals.begin() + static_cast<std::ptrdiff_t>(w * k_models),
                  mine.totals.begin() + static_cast<std::ptrdiff_t>((w + 1) * k_models));
    for (std::size_t c = first; c < last; ++c) {
      packed.push_back(mine.counts[c]);
      packed.insert(packed.end(), mine.lambda.begin() + static_cast<std::ptrdiff_t>(c * k_models),
                    mine.lambda.begin() + static_cast<std::ptrdiff_t>((c + 1) * k_models));
    }
  }
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
  auto n = static_cast<long long>(packed.size());
  std::vector<long long> sizes(static_cast<std::size_t>(size));
  VIGIE_CHECK_MPI(MPI_Allgather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, comm));
  std::vector<int> counts(sizes.size());
  std::vector<int> displs(sizes.size());
  long long total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    if (total + sizes[r] > std::numeric_limits<int>::max())
      throw Error(ExitCode::Internal, "backtest stacking: more than 2^31 values to gather", true);
    counts[r] = static_cast<int>(sizes[r]);
    displs[r] = static_cast<int>(total);
    total += sizes[r];
  }
  std::vector<double> all(static_cast<std::size_t>(total));
  VIGIE_CHECK_MPI(MPI_Allgatherv(packed.data(), static_cast<int>(packed.size()), MPI_DOUBLE, all.data(),
                                 counts.data(), displs.data(), MPI_DOUBLE, comm));
  StackData out;
  out.models = k_models;
  std::size_t p = 0;
  while (p < all.size()) {
    const auto cells = static_cast<std::size_t>(unpackInt(all[p++]));
    out.totals.insert(out.totals.end(), all.begin() + static_cast<std::ptrdiff_t>(p),
                      all.begin() + static_cast<std::ptrdiff_t>(p + k_models));
    p += k_models;
    for (std::size_t c = 0; c < cells; ++c) {
      out.counts.push_back(all[p++]);
      out.lambda.insert(out.lambda.end(), all.begin() + static_cast<std::ptrdiff_t>(p),
                        all.begin() + static_cast<std::ptrdiff_t>(p + k_models));
      p += k_models;
    }
    out.offsets.push_back(out.counts.size());
  }
  return out;
}

/// Stacking's results on rank 0 (fit and models on every rank).
struct Stacking {
  std::vector<std::size_t> models;               ///< indices into settings.models
  StackFit fit;                                  ///< weights fitted on every window
  std::vector<WindowScores> blend;               ///< per window: the blend with fit's weights
  std::vector<WindowScores> loo;                 ///< per window: the blend with the other windows' weights
  std::vector<std::vector<double>> loo_weights;  ///< per window
  bool converged = true;                         ///< every fit reached its tolerance
};

/// Collective over `comm`. Fits the stacking weights on every window and, for each of this rank's windows,
/// on the other windows; scores both blends with scoreWindow and gathers them on rank 0 in window order.
Stacking stack(MPI_Comm comm, const BacktestSettings& settings, std::vector<std::size_t> models,
               const Kept& kept, std::int64_t n_windows) {
  core::ScopedTimer timer("backtest stacking");
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
  Stacking out;
  out.models = std::move(models);
  const std::size_t k_models = out.models.size();
  std::vector<std::size_t> slot;
  for (const auto m : out.models) {
    const auto it = std::find(kept.models.begin(), kept.models.end(), m);
    if (it == kept.models.end())
      throw Error(ExitCode::Internal, "backtest stacking: a stacked model's forecasts were not kept");
    slot.push_back(static_cast<std::size_t>(it - kept.models.begin()));
  }
  const std::size_t own = kept.observed.size();
  StackData local;
  local.models = k_models;
  for (std::size_t k = 0; k < own; ++k) {
    std::vector<std::span<const double>> forecasts;
    for (const auto j : slot) forecasts.emplace_back(kept.forecasts[j][k]);
    local.addWindow(forecasts, kept.observed[k], kept.mask, settings.epsilon);
  }
  const auto data = allgatherStack(comm, local);
  if (static_cast<std::int64_t>(data.windows()) != n_windows)
    throw Error(ExitCode::Internal, "backtest stacking: gathered windows differ from the backtest's", true);
  out.fit = Backtest::fitStack(data);

  std::vector<double> coverages;
  for (const double p : settings.coverages_percent) coverages.push_back(p / 100.0);
  const auto rec = recordSize(coverages.size(), settings.reliability_bins);
  const auto rec2 = 2 * rec + k_models;
  std::vector<double> local_records;
  std::vector<double> blend(kept.mask.size());
  int converged = out.fit.converged ? 1 : 0;
  for (std::size_t k = 0; k < own; ++k) {
    const auto loo = Backtest::fitStack(data, kept.first + k);
    if (!loo.converged) converged = 0;
    const std::vector<double>& fitted = out.fit.weights;
    for (const auto* weights : {&fitted, &loo.weights}) {
      std::fill(blend.begin(), blend.end(), 0.0);
      for (std::size_t j = 0; j < k_models; ++j) {
        const auto& f = kept.forecasts[slot[j]][k];
        for (std::size_t c = 0; c < blend.size(); ++c) blend[c] += (*weights)[j] * f[c];
      }
      encode(scoreWindow(blend, kept.observed[k], kept.mask, coverages, settings.epsilon,
                         settings.reliability_bins),
             local_records);
    }
    local_records.insert(local_records.end(), loo.weights.begin(), loo.weights.end());
  }
  std::vector<int> counts(static_cast<std::size_t>(size));
  std::vector<int> displs(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    const std::int64_t a = r * n_windows / size;
    const std::int64_t b = (r + 1) * n_windows / size;
    counts[static_cast<std::size_t>(r)] = static_cast<int>((b - a) * static_cast<std::int64_t>(rec2));
    displs[static_cast<std::size_t>(r)] = static_cast<int>(a * static_cast<std::int64_t>(rec2));
  }
  if (counts[static_cast<std::size_t>(rank)] != static_cast<int>(local_records.size()))
    throw Error(ExitCode::Internal, "backtest stacking: this rank's windows differ from scoreAll's", true);
  std::vector<double> all(rank == 0 ? static_cast<std::size_t>(n_windows) * rec2 : 0);
  VIGIE_CHECK_MPI(MPI_Gatherv(local_records.data(), static_cast<int>(local_records.size()), MPI_DOUBLE,
                              all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0, comm));
  int all_converged = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&converged, &all_converged, 1, MPI_INT, MPI_MIN, comm));
  out.converged = all_converged != 0;
  if (rank == 0) {
    for (std::int64_t w = 0; w < n_windows; ++w) {
      const double* p = all.data() + static_cast<std::size_t>(w) * rec2;
      out.blend.push_back(decode(p, coverages.size(), settings.reliability_bins));
      out.loo.push_back(decode(p + rec, coverages.size(), settings.reliability_bins));
      out.loo_weights.emplace_back(p + 2 * rec, p + 2 * rec + k_models);
    }
  }
  return out;
}

/// backtest.json's "stacking" (rank 0).
nlohmann::json stackingJson(const Stacking& st, const BacktestSettings& settings,
                            const std::vector<PooledScores>& pooled) {
  nlohmann::json j;
  j["models"] = nlohmann::json::array();
  j["weights"] = nlohmann::json::object();
  j["log_likelihood_per_event"] = nlohmann::json::object();
  j["log_likelihood_per_event"]["blend"] = pool(st.blend).ll.per_event();
  for (std::size_t k = 0; k < st.models.size(); ++k) {
    const auto& name = settings.models[st.models[k]];
    j["models"].push_back(name);
    j["weights"][name] = st.fit.weights[k];
    j["log_likelihood_per_event"][name] = pooled[st.models[k]].ll.per_event();
  }
  j["method"] =
      "weights >= 0 summing to 1 maximise the Poisson log-likelihood of the blend sum_k w_k forecast_k "
      "summed over every scored window (each forecast floored at epsilon where events occurred; active-set "
      "Newton steps to a duality gap of 1e-12 (1 + events + largest model total)); blend_loo scores each "
      "window with weights fitted the same way on the other windows";
  j["objective"] = st.fit.objective;
  j["duality_gap"] = st.fit.gap;
  j["converged"] = st.converged;
  j["blend_loo"] = pooledScoresJson(pool(st.loo), settings.coverages_percent);
  j["weights_per_window_loo"] = nlohmann::json::array();
  for (const auto& w : st.loo_weights) {
    nlohmann::json entry = nlohmann::json::object();
    for (std::size_t k = 0; k < st.models.size(); ++k) entry[settings.models[st.models[k]]] = w[k];
    j["weights_per_window_loo"].push_back(entry);
  }
  return j;
}

/// Collective over `comm`. Rank 0's `text` (a JSON document) parsed on every rank.
nlohmann::json broadcastJson(MPI_Comm comm, std::string text) {
  auto n = static_cast<long long>(text.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, comm));
  text.resize(static_cast<std::size_t>(n));
  VIGIE_CHECK_MPI(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, comm));
  return nlohmann::json::parse(text);
}

}  // namespace

nlohmann::json Backtest::run(MPI_Comm comm, const grid::GridSpec& spec, const core::Config& config,
                             const BacktestSettings& settings, const ObservedSeries& series) {
  core::ScopedTimer timer("backtest");
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  const auto starts = windowStarts(series, settings);
  const auto n_windows = static_cast<std::int64_t>(starts.size());
  const auto n_models = settings.models.size();
  Kept kept;
  kept.models = stackCandidates(settings);
  const auto scores = scoreAll(comm, spec, config, settings, series, starts, &kept);
  const auto k5 = static_cast<std::size_t>(
      std::find(settings.coverages_percent.begin(), settings.coverages_percent.end(), 5.0) -
      settings.coverages_percent.begin());
  // Every rank pools (the same scores in the same order): stacking needs the best baseline everywhere.
  std::vector<PooledScores> pooled;
  for (const auto& s : scores) pooled.push_back(pool(s));
  const std::size_t best = bestBaseline(settings, pooled, k5);
  if (best == n_models) throw Error(ExitCode::Internal, "backtest: no baseline among the models", true);
  const auto stacking = stack(comm, settings, stackedModels(settings, best), kept, n_windows);
  kept = Kept{};
  std::string text;
  if (rank == 0) {
    nlohmann::json doc;
    doc["schema_version"] = 1;
    doc["case"] = settings.case_name;
    doc["windows"] = n_windows;
    doc["bin"] = series.bin;
    doc["categories"] = series.categories;
    doc["start"] = settings.start;
    doc["end"] = settings.end;
    doc["horizon_bins"] = settings.horizon_bins;
    doc["coverages_percent"] = settings.coverages_percent;
    doc["epsilon"] = settings.epsilon;
    doc["bootstrap_replicates"] = settings.replicates;
    doc["seed"] = settings.seed;
    doc["refit_every"] = settings.refit_every;
    doc["refit_policy"] =
        "every model observes each bin of the store in time order and updates its state online; models "
        "with fitted parameters are fitted cold at the first window and refit every " +
        std::to_string(settings.refit_every) +
        " window(s), warm-started from the first window's fit; a window's forecast is taken before any of "
        "its bins is observed";
    nlohmann::json tuned = nlohmann::json::object();
    for (std::size_t m = 0; m < n_models && m < settings.model_overrides.size(); ++m) {
      for (const auto& [key, value] : settings.model_overrides[m]) tuned[settings.models[m]][key] = value;
    }
    doc["tuned_parameters"] = tuned;
    doc["baselines"] = baselines();
    doc["models"] = nlohmann::json::object();
    for (std::size_t m = 0; m < n_models; ++m)
      doc["models"][settings.models[m]] = pooledScoresJson(pooled[m], settings.coverages_percent);
    doc["best_baseline"] = n_windows > 0 ? settings.models[best] : std::string();
    const BootstrapOptions options{settings.replicates, 0, settings.seed, 0.95, 10};
    doc["skill"] = nlohmann::json::object();
    for (std::size_t m = 0; m < n_models; ++m) {
      const auto ratio = paiRatio(scores[m], scores[best], k5, options);
      const auto dll = logLikDifference(scores[m], scores[best], options);
      doc["skill"][settings.models[m]] = {
          {"pai5_ratio", ratio.estimate},        {"pai5_ratio_ci95", intervalJson(ratio)},
          {"pai5_ratio_defined", ratio.defined}, {"dloglik", dll.estimate},
          {"dloglik_ci95", intervalJson(dll)},   {"available", ratio.available && dll.available},
          {"block_length", ratio.block_length}};
    }
    nlohmann::json per_window = nlohmann::json::array();
    for (std::int64_t w = 0; w < n_windows; ++w) {
      const auto b = static_cast<std::size_t>(starts[static_cast<std::size_t>(w)]);
      nlohmann::json entry;
      entry["start"] = series.bin_start_iso[b];
      entry["days"] =
          static_cast<double>(series.bin_start[b + static_cast<std::size_t>(settings.horizon_bins)] -
                              series.bin_start[b]) /
          86400.0;
      entry["events"] = scores[0][static_cast<std::size_t>(w)].ll.events;
      entry["models"] = nlohmann::json::object();
      for (std::size_t m = 0; m < n_models; ++m) {
        const auto& s = scores[m][static_cast<std::size_t>(w)];
        entry["models"][settings.models[m]] = {
            {"pai5", s.at[k5].pai}, {"hit_rate5", s.at[k5].hit_rate}, {"loglik", s.ll.total}};
      }
      per_window.push_back(entry);
    }
    doc["per_window"] = per_window;
    doc["stacking"] = stackingJson(stacking, settings, pooled);
    requireFinite(doc, "");
    text = doc.dump();
  }
  // Every rank returns the same document, so callers need not know which rank computed it.
  return broadcastJson(comm, std::move(text));
}

nlohmann::json Backtest::scoreCategory(MPI_Comm comm, const grid::GridSpec& spec, const core::Config& config,
                                       const BacktestSettings& settings, const ObservedSeries& one) {
  core::ScopedTimer timer("backtest per category");
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  const auto starts = windowStarts(one, settings);
  const auto scores = scoreAll(comm, spec, config, settings, one, starts);
  std::string text;
  if (rank == 0) {
    nlohmann::json doc;
    doc["models"] = nlohmann::json::object();
    std::int64_t events = 0;
    for (std::size_t m = 0; m < settings.models.size(); ++m) {
      const auto pooled = pool(scores[m]);
      events = pooled.ll.events;
      doc["models"][settings.models[m]] = pooledScoresJson(pooled, settings.coverages_percent);
    }
    doc["events"] = events;
    requireFinite(doc, "per_category/" + (one.categories.empty() ? std::string() : one.categories.front()));
    text = doc.dump();
  }
  return broadcastJson(comm, std::move(text));
}

namespace {

/// FNV-1a of a model's name: keys its tuning sample by name, not by its place in models.enabled.
std::uint64_t nameKey(const std::string& name) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

using Overrides = std::vector<std::pair<std::string, std::string>>;

/// The candidates of one model: the config's own values first, then the grid of the space (every
/// combination, in axis order) less the own values; cut to `budget` by a seeded sample kept in grid order.
std::vector<Overrides> candidates(const core::Config& config, const models::TuneSpace& space,
                                  const std::string& model, int budget, std::uint64_t seed) {
  Overrides own;
  for (const auto& axis : space) own.emplace_back(axis.key, config.getString(axis.key));
  std::vector<Overrides> grid{Overrides{}};
  for (const auto& axis : space) {
    std::vector<Overrides> next;
    for (const auto& g : grid) {
      for (const auto& v : axis.values) {
        auto o = g;
        o.emplace_back(axis.key, v);
        next.push_back(std::move(o));
      }
    }
    grid = std::move(next);
  }
  // Values compare as numbers where they are numbers, so "200" and "200.0" are the same candidate.
  const auto same = [](const Overrides& a, const Overrides& b) {
    for (std::size_t k = 0; k < a.size(); ++k) {
      char* end_a = nullptr;
      char* end_b = nullptr;
      const double x = std::strtod(a[k].second.c_str(), &end_a);
      const double y = std::strtod(b[k].second.c_str(), &end_b);
      const bool numbers = *end_a == '\0' && *end_b == '\0' && !a[k].second.empty() && !b[k].second.empty();
      if (numbers ? x != y : a[k].second != b[k].second) return false;
    }
    return true;
  };
  std::vector<Overrides> rest;
  for (auto& g : grid) {
    if (!same(g, own)) rest.push_back(std::move(g));
  }
  const auto keep = static_cast<std::size_t>(std::max(0, budget - 1));
  if (rest.size() > keep) {
    // Partial Fisher-Yates on indices with the stream (seed, name, 0), then back to grid order.
    std::vector<std::size_t> idx(rest.size());
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    core::RandomStream rng(seed, nameKey(model), 0);
    for (std::size_t k = 0; k < keep; ++k) {
      const auto span = idx.size() - k;
      const auto pick =
          k + std::min(span - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(span)));
      std::swap(idx[k], idx[pick]);
    }
    idx.resize(keep);
    std::sort(idx.begin(), idx.end());
    std::vector<Overrides> sample;
    for (const auto k : idx) sample.push_back(rest[k]);
    rest = std::move(sample);
  }
  std::vector<Overrides> out{own};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace

nlohmann::json Backtest::tune(MPI_Comm comm, const grid::GridSpec& spec, const core::Config& config,
                              BacktestSettings& settings, const ObservedSeries& series) {
  core::ScopedTimer timer("backtest tune");
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  settings.model_overrides.assign(settings.models.size(), {});
  nlohmann::json report;
  report["budget"] = settings.tune_budget;
  report["metric"] = "pooled PAI@5% on the tuning windows (ties: log-likelihood per event)";
  report["models"] = nlohmann::json::object();

  // Tuning windows: complete windows of the backtest's horizon, stepping back from the first backtest
  // window, each with at least one earlier bin to learn from.
  const auto starts = windowStarts(series, settings);
  std::vector<std::int64_t> tune_starts;
  if (!starts.empty()) {
    for (std::int64_t b = starts.front() - settings.horizon_bins;
         b > 0 && static_cast<int>(tune_starts.size()) < settings.tune_windows; b -= settings.horizon_bins) {
      bool complete = true;
      for (std::int64_t k = b; k < b + settings.horizon_bins; ++k) {
        if (series.missing[static_cast<std::size_t>(k)] != 0) complete = false;
      }
      if (complete) tune_starts.push_back(b);
    }
    std::reverse(tune_starts.begin(), tune_starts.end());
  }
  report["windows"] = tune_starts.size();
  if (!settings.tune) {
    report["summary"] = "off (backtest.tune = false): every model runs with the config's values.";
    return report;
  }
  if (tune_starts.size() < 2) {
    report["summary"] =
        "not possible: fewer than 2 complete windows before the first backtest window; every model runs "
        "with the config's values.";
    return report;
  }
  report["first_window"] = series.bin_start_iso[static_cast<std::size_t>(tune_starts.front())];
  report["last_window"] = series.bin_start_iso[static_cast<std::size_t>(tune_starts.back())];

  BacktestSettings trial = settings;
  trial.models.clear();
  trial.model_overrides.clear();
  std::vector<std::size_t> owner;
  const auto& registry = models::ModelRegistry::instance();
  for (std::size_t m = 0; m < settings.models.size(); ++m) {
    const auto& space = registry.tuneSpace(settings.models[m]);
    if (space.empty()) continue;
    for (auto& c : candidates(config, space, settings.models[m], settings.tune_budget, settings.seed)) {
      trial.models.push_back(settings.models[m]);
      trial.model_overrides.push_back(std::move(c));
      owner.push_back(m);
    }
  }
  const auto scores = scoreAll(comm, spec, config, trial, series, tune_starts);
  std::string text;
  if (rank == 0) {
    const auto k5 = static_cast<std::size_t>(
        std::find(settings.coverages_percent.begin(), settings.coverages_percent.end(), 5.0) -
        settings.coverages_percent.begin());
    std::vector<std::size_t> best(settings.models.size(), trial.models.size());
    std::vector<PooledScores> pooled;
    for (const auto& s : scores) pooled.push_back(pool(s));
    for (std::size_t c = 0; c < trial.models.size(); ++c) {
      auto& b = best[owner[c]];
      if (b == trial.models.size()) {
        b = c;
        continue;
      }
      const double pai = pooled[c].at[k5].pai;
      const double best_pai = pooled[b].at[k5].pai;
      if (pai > best_pai || (pai == best_pai && pooled[c].ll.per_event() > pooled[b].ll.per_event())) b = c;
    }
    for (std::size_t m = 0; m < settings.models.size(); ++m) {
      if (best[m] == trial.models.size()) continue;
      nlohmann::json entry;
      entry["candidates"] = nlohmann::json::array();
      for (std::size_t c = 0; c < trial.models.size(); ++c) {
        if (owner[c] != m) continue;
        nlohmann::json values = nlohmann::json::object();
        for (const auto& [key, value] : trial.model_overrides[c]) values[key] = value;
        entry["candidates"].push_back({{"values", values},
                                       {"pai5", pooled[c].at[k5].pai},
                                       {"log_likelihood_per_event", pooled[c].ll.per_event()}});
      }
      nlohmann::json chosen = nlohmann::json::object();
      for (const auto& [key, value] : trial.model_overrides[best[m]]) chosen[key] = value;
      entry["chosen"] = chosen;
      report["models"][settings.models[m]] = entry;
    }
    std::ostringstream summary;
    summary << "each model with hyper-parameters tried at most " << settings.tune_budget
            << " candidates (the config's values included), scored by pooled PAI@5% on the "
            << tune_starts.size() << " windows from " << report["first_window"].get<std::string>() << " to "
            << report["last_window"].get<std::string>()
            << " (before the backtest; each fitted on the events before it); the winner is used below.";
    report["summary"] = summary.str();
    requireFinite(report, "tuning");
    text = report.dump();
  }
  report = broadcastJson(comm, std::move(text));
  for (std::size_t m = 0; m < settings.models.size(); ++m) {
    const auto it = report["models"].find(settings.models[m]);
    if (it == report["models"].end()) continue;
    for (const auto& [key, value] : (*it)["chosen"].items())
      settings.model_overrides[m].emplace_back(key, value.get<std::string>());
  }
  return report;
}

std::string Backtest::markdown(const nlohmann::json& doc) {
  std::ostringstream md;
  md << std::setprecision(4);
  const auto percents = doc["coverages_percent"].get<std::vector<double>>();
  md << "# Backtest of " << doc["case"].get<std::string>() << "\n\n";
  md << "- Windows: " << doc["windows"].get<std::int64_t>() << " of " << doc["horizon_bins"].get<int>() << " "
     << doc["bin"].get<std::string>() << " bin(s), starting from " << doc["start"].get<std::string>()
     << " to " << doc["end"].get<std::string>() << " (windows with a bin the sources do not cover are "
     << "skipped).\n";
  md << "- Categories scored (summed): ";
  bool first = true;
  for (const auto& c : doc["categories"]) {
    md << (first ? "" : ", ") << c.get<std::string>();
    first = false;
  }
  md << ".\n";
  md << "- Refit policy: every model is updated online with each bin of events, in time order; models with "
        "fitted parameters are fitted at the first window and refit every k = "
     << doc.value("refit_every", 1)
     << " window(s), warm-started; a window's forecast is taken before any of its events is seen.\n";
  if (doc.contains("tuning")) {
    const auto& t = doc["tuning"];
    md << "- Tuning: " << t["summary"].get<std::string>() << "\n";
  }
  md << "- Log-likelihood floor epsilon = " << doc["epsilon"].get<double>()
     << " events per cell per window; intervals: moving-block bootstrap over windows, "
     << doc["bootstrap_replicates"].get<int>() << " replicates, seed " << doc["seed"].get<std::uint64_t>()
     << ", n/a below 10 windows.\n";
  const auto best = doc["best_baseline"].get<std::string>();
  md << "- Best baseline (highest pooled PAI@5%): **" << best << "**.\n\n";

  md << "## Pooled scores\n\n| model |";
  for (const double p : percents) md << " HR@" << percentKey(p) << "% |";
  for (const double p : percents) md << " PAI@" << percentKey(p) << "% |";
  for (const double p : percents) md << " PEI*@" << percentKey(p) << "% |";
  md << " LL/event | Brier |\n|---|";
  for (std::size_t k = 0; k < 3 * percents.size() + 2; ++k) md << "---:|";
  md << "\n";
  for (const auto& [name, m] : doc["models"].items()) {
    md << "| " << name << " |";
    for (const char* key : {"hit_rate", "pai", "pei_star"}) {
      for (const double p : percents) md << " " << m[key][percentKey(p)].get<double>() << " |";
    }
    md << " " << m["log_likelihood_per_event"].get<double>() << " | " << m["brier"].get<double>() << " |\n";
  }

  md << "\n## Skill against " << best << "\n\n";
  md << "| model | PAI@5% ratio | 95% interval | LL difference per event | 95% interval |\n"
        "|---|---:|---|---:|---|\n";
  bool inconclusive = false;
  bool unavailable = false;
  for (const auto& [name, s] : doc["skill"].items()) {
    const bool ok = s["available"].get<bool>();
    const auto r = s["pai5_ratio_ci95"];
    const auto d = s["dloglik_ci95"];
    md << "| " << name << " | " << s["pai5_ratio"].get<double>() << " | ";
    if (ok) {
      md << "[" << r[0].get<double>() << ", " << r[1].get<double>() << "]";
    } else {
      md << "n/a";
    }
    md << " | " << s["dloglik"].get<double>() << " | ";
    if (ok) {
      md << "[" << d[0].get<double>() << ", " << d[1].get<double>() << "]";
    } else {
      md << "n/a";
    }
    md << " |\n";
    if (!ok) unavailable = true;
    if (ok && name != best &&
        ((r[0].get<double>() <= 1.0 && r[1].get<double>() >= 1.0) ||
         (d[0].get<double>() <= 0.0 && d[1].get<double>() >= 0.0)))
      inconclusive = true;
  }
  md << "\n";
  if (unavailable)
    md << "Intervals marked n/a could not be computed (fewer than 10 windows, or a ratio undefined or "
          "unbounded): those comparisons are not evidence either way.\n\n";
  if (inconclusive)
    md << "Where an interval of the PAI ratio includes 1, or one of the log-likelihood difference includes "
          "0, these windows do not show that the model differs from "
       << best << ": it may predict no more than the obvious.\n\n";
  if (doc.contains("stacking")) {
    const auto& st = doc["stacking"];
    const auto& ll = st["log_likelihood_per_event"];
    const auto& loo = st["blend_loo"];
    md << "## Stacking\n\nA blend sum_k w_k forecast_k of ";
    std::string top;
    double top_ll = 0.0;
    bool first_model = true;
    for (const auto& m : st["models"]) {
      const auto name = m.get<std::string>();
      md << (first_model ? "" : ", ") << name;
      if (first_model || ll[name].get<double>() > top_ll) {
        top = name;
        top_ll = ll[name].get<double>();
      }
      first_model = false;
    }
    md << ", its weights (>= 0, summing to 1) maximising the Poisson log-likelihood over the scored "
          "windows. Fitted on every window, the weights flatter the blend; the honest score is "
          "leave-one-out: each window scored with weights fitted on the other windows"
       << (st["converged"].get<bool>() ? "" : " (some fits stopped before their tolerance)") << ".\n\n";
    md << "| forecast | weight | PAI@5% | LL/event |\n|---|---:|---:|---:|\n";
    for (const auto& m : st["models"]) {
      const auto name = m.get<std::string>();
      md << "| " << name << " | " << st["weights"][name].get<double>() << " | "
         << doc["models"][name]["pai"]["5"].get<double>() << " | " << ll[name].get<double>() << " |\n";
    }
    md << "| blend, weights fitted on every window | | | " << ll["blend"].get<double>() << " |\n";
    md << "| blend, leave-one-out weights | | " << loo["pai"]["5"].get<double>() << " | "
       << loo["log_likelihood_per_event"].get<double>() << " |\n\n";
    const double gain = loo["log_likelihood_per_event"].get<double>() - top_ll;
    md << "Leave-one-out, the blend's log-likelihood per event is " << std::showpos << gain << std::noshowpos
       << " against the best stacked model (" << top << ")"
       << (gain > 0.0 ? ": blending helps out of sample.\n\n"
                      : ": blending does not help out of sample.\n\n");
  }
  md << "## Reliability (pooled over windows)\n\n"
        "Cells of every window binned by their forecast p = P(at least one event) = 1 - exp(-forecast); "
        "each entry is mean forecast p / observed share of cells with an event (cells). A calibrated model "
        "has the two close; empty bins are left blank.\n\n| p bin |";
  for (const auto& [name, m] : doc["models"].items()) md << " " << name << " |";
  md << "\n|---|";
  for (std::size_t k = 0; k < doc["models"].size(); ++k) md << "---|";
  md << "\n";
  const nlohmann::json no_bins = nlohmann::json::array();
  const auto& edges = doc["models"].empty() ? no_bins : doc["models"].begin().value()["reliability"];
  const std::size_t n_bins = edges.size();
  for (std::size_t b = 0; b < n_bins; ++b) {
    const auto& edge = edges[b];
    md << "| [" << edge["p_lo"].get<double>() << ", " << edge["p_hi"].get<double>()
       << (b + 1 == n_bins ? "]" : ")") << " |";
    for (const auto& [name, m] : doc["models"].items()) {
      const auto& r = m["reliability"][b];
      if (r["cells"].get<std::int64_t>() == 0) {
        md << " |";
      } else {
        md << " " << r["mean_forecast_p"].get<double>() << " / " << r["observed_frequency"].get<double>()
           << " (" << r["cells"].get<std::int64_t>() << ") |";
      }
    }
    md << "\n";
  }
  md << "\n";

  if (doc.contains("per_category")) {
    md << "## Per category (each model fitted and scored on that category alone)\n\n"
          "PAI@5% / log-likelihood per event.\n\n| category | events |";
    for (const auto& [name, m] : doc["models"].items()) md << " " << name << " |";
    md << "\n|---|---:|";
    for (std::size_t k = 0; k < doc["models"].size(); ++k) md << "---|";
    md << "\n";
    for (const auto& [cat, c] : doc["per_category"].items()) {
      md << "| " << cat << " | " << c["events"].get<std::int64_t>() << " |";
      for (const auto& [name, m] : c["models"].items()) {
        md << " " << m["pai"]["5"].get<double>() << " / " << m["log_likelihood_per_event"].get<double>()
           << " |";
      }
      md << "\n";
    }
    md << "\n";
  }
  if (doc.contains("grid_offset_band")) md << OffsetBand::markdown(doc["grid_offset_band"]);
  md << "Per-window scores are in backtest.json (`per_window`).\n";
  return md.str();
}

}  // namespace vigie::verify
