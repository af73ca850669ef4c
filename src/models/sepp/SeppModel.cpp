#include "models/sepp/SeppModel.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "grid/CityGrid.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

void SeppModel::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("sepp.theta", OptionType::Double, "0.2",
           "sepp: initial branching ratio (expected offspring per event) of the EM fit, 0 <= theta < 1")
      .add("sepp.omega_per_day", OptionType::Double, "0.2",
           "sepp: initial trigger decay rate of the EM fit, 1/days (mean delay 1/omega)")
      .add("sepp.sigma_m", OptionType::Double, "100",
           "sepp: initial trigger displacement SD per axis of the EM fit, metres (0 with sepp.fix_sigma: the "
           "per-cell model of Mohler 2015)")
      .add(
          "sepp.trigger", OptionType::Bool, "true",
          "sepp: fit the self-excitation; false fixes theta = 0, leaving the covariate background alone (the "
          "choice for bins far longer than a trigger's days, e.g. monthly counts)")
      .add("sepp.fix_sigma", OptionType::Bool, "false",
           "sepp: keep sigma at sepp.sigma_m instead of fitting it")
      .add(
          "sepp.mu_bandwidth_m", OptionType::Double, "300",
          "sepp: Gaussian smoothing of the background mu(c), metres (0 = one free value per cell; very large "
          "= a constant background, so static-layer covariates carry the spatial variation)")
      .add("sepp.covariates", OptionType::List, "",
           "sepp: covariates z of mu exp(beta . z): weekend, public_holiday, school_holiday, rain_day, a "
           "weather variable (rain_mm, tmax_c, ...) or a static layer (beaches_density, ...); see "
           "docs/models.md")
      .add("sepp.training_days", OptionType::Double, "0",
           "sepp: fit on the bins of the last this many days only (0 = every bin observed)")
      .add("sepp.categories", OptionType::List, "",
           "vigie fit: categories whose events are summed and fitted (empty: every category of the store)")
      .add("sepp.fit_end", OptionType::String, "",
           "vigie fit: ISO date; fit on the bins starting before it, holding later data back (empty: every "
           "bin of the store)")
      .add("sepp.max_iter", OptionType::Int, "100", "sepp: most EM iterations per fit")
      .add("sepp.tol", OptionType::Double, "1e-7",
           "sepp: EM stops when the log-likelihood changes by less than tol times its size");
}

sepp::SeppFitOptions SeppModel::fitOptions(const core::Config& config, std::uint64_t seed) {
  sepp::SeppFitOptions o;
  o.initial.theta = config.getDouble("sepp.theta");
  o.initial.omega = config.getDouble("sepp.omega_per_day");
  o.initial.sigma_m = config.getDouble("sepp.sigma_m");
  o.fix_sigma = config.getBool("sepp.fix_sigma");
  if (!config.getBool("sepp.trigger")) {
    o.initial.theta = 0.0;
    o.fix_theta = true;
    o.fix_omega = true;
    o.fix_sigma = true;
  }
  o.mu_bandwidth_m = config.getDouble("sepp.mu_bandwidth_m");
  o.max_iter = static_cast<int>(config.getInt("sepp.max_iter"));
  o.tol = config.getDouble("sepp.tol");
  o.seed = seed;
  if (!(o.initial.theta >= 0.0 && o.initial.theta < 1.0))
    throw Error(ExitCode::Usage, "sepp.theta must be in [0, 1)", true);
  if (!(o.initial.omega > 0.0) || !std::isfinite(o.initial.omega))
    throw Error(ExitCode::Usage, "sepp.omega_per_day must be a positive number", true);
  if (!(o.initial.sigma_m >= 0.0) || !std::isfinite(o.initial.sigma_m))
    throw Error(ExitCode::Usage, "sepp.sigma_m must be a non-negative number", true);
  if (!(o.mu_bandwidth_m >= 0.0) || !std::isfinite(o.mu_bandwidth_m))
    throw Error(ExitCode::Usage, "sepp.mu_bandwidth_m must be a non-negative number", true);
  if (o.max_iter < 1 || o.max_iter > 100000)
    throw Error(ExitCode::Usage, "sepp.max_iter must be in 1..100000", true);
  if (!(o.tol > 0.0) || !std::isfinite(o.tol))
    throw Error(ExitCode::Usage, "sepp.tol must be positive", true);
  return o;
}

void SeppModel::loadInputs() {
  m_inputs = sepp::SeppInputs::read(*m_grid, m_obs, m_covariates);
  m_has_inputs = true;
  m_params.beta.assign(m_inputs.temporal_names.size() + m_inputs.spatial_names.size(), 0.0);
}

SeppModel::SeppModel(const ModelContext& context)
    : Model("sepp"), m_grid(&context.grid), m_options(fitOptions(context.config, context.seed)) {
  m_training_days = context.config.getDouble("sepp.training_days");
  if (!(m_training_days >= 0.0) || !std::isfinite(m_training_days))
    throw Error(ExitCode::Usage, "sepp.training_days must be a non-negative number", true);
  m_covariates = context.config.getList("sepp.covariates");
  if (!m_covariates.empty()) m_obs = context.config.getPath("output.dir") / "obs.h5";
  // The store may not exist yet (check-config on an empty folder): then the covariates are read at the first
  // fit, which needs the store anyway.
  if (!m_covariates.empty() && std::filesystem::exists(m_obs)) loadInputs();
  m_params = m_options.initial;
  m_params.beta.assign(m_inputs.temporal_names.size() + m_inputs.spatial_names.size(), 0.0);
  const auto& box = m_grid->ownedBox();
  const auto cells = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  m_mu.assign(cells, 0.0);
  m_state.assign(cells, 0.0);
  if (!m_has_inputs) m_inputs.spatial.clear();
  long long local = 0;
  for (const auto m : m_grid->ownedMask()) local += m != 0 ? 1 : 0;
  long long active = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &active, 1, MPI_LONG_LONG, MPI_SUM, m_grid->comm()));
  m_active = static_cast<double>(active);
}

std::vector<std::string> SeppModel::stateNames() const {
  std::vector<std::string> names{"excitation", "mu", "theta", "omega", "sigma"};
  for (std::size_t k = 0; k < m_params.beta.size(); ++k) names.push_back("beta_" + std::to_string(k));
  return names;
}

void SeppModel::getState(const std::string& state, std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  const auto fill = [&](double v) { std::fill(owned.begin(), owned.end(), v); };
  if (state == "excitation") {
    std::copy(m_state.begin(), m_state.end(), owned.begin());
  } else if (state == "mu") {
    std::copy(m_mu.begin(), m_mu.end(), owned.begin());
  } else if (state == "theta") {
    fill(m_params.theta);
  } else if (state == "omega") {
    fill(m_params.omega);
  } else if (state == "sigma") {
    fill(m_params.sigma_m);
  } else if (state.rfind("beta_", 0) == 0) {
    fill(m_params.beta.at(std::stoul(state.substr(5))));
  } else {
    throw Error(ExitCode::Internal, "sepp: unknown state " + state);
  }
}

void SeppModel::setState(const std::string& state, std::span<const double> owned) {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (state == "excitation") {
    m_state.assign(owned.begin(), owned.end());
  } else if (state == "mu") {
    m_mu.assign(owned.begin(), owned.end());
    m_fitted = true;
  } else if (state == "theta") {
    m_params.theta = uniformValue(name(), state, owned);
  } else if (state == "omega") {
    m_params.omega = uniformValue(name(), state, owned);
  } else if (state == "sigma") {
    m_params.sigma_m = uniformValue(name(), state, owned);
  } else if (state.rfind("beta_", 0) == 0) {
    m_params.beta.at(std::stoul(state.substr(5))) = uniformValue(name(), state, owned);
  } else {
    throw Error(ExitCode::Internal, "sepp: unknown state " + state);
  }
}

std::vector<double> SeppModel::temporalAt(double day) const {
  const auto kt = m_inputs.temporal_names.size();
  if (kt == 0) return {};
  const auto b = m_inputs.binAt(day);
  if (b < 0)
    throw Error(ExitCode::InputData, "sepp: model time " + std::to_string(day) +
                                         " days is not a bin start of the store's time axis");
  return {m_inputs.temporal.begin() + b * static_cast<std::int64_t>(kt),
          m_inputs.temporal.begin() + (b + 1) * static_cast<std::int64_t>(kt)};
}

void SeppModel::contributeIntensity(std::span<double> owned) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  const auto& mask = m_grid->ownedMask();
  if (!m_fitted) {
    const double rate = m_observed_days > 0.0 && m_active > 0 ? m_events / (m_observed_days * m_active) : 0.0;
    for (std::size_t c = 0; c < owned.size(); ++c) owned[c] += mask[c] != 0 ? rate : 0.0;
    return;
  }
  const auto z = temporalAt(time());
  const auto kt = z.size();
  const auto ks = m_inputs.spatial_names.size();
  for (std::size_t c = 0; c < owned.size(); ++c) {
    if (mask[c] == 0) continue;
    double dot = 0.0;
    for (std::size_t k = 0; k < kt; ++k) dot += m_params.beta[k] * z[k];
    for (std::size_t q = 0; q < ks; ++q) dot += m_params.beta[kt + q] * m_inputs.spatial[c * ks + q];
    owned[c] += m_mu[c] * std::exp(dot) + m_params.theta * m_params.omega * m_state[c];
  }
}

void SeppModel::expectedEvents(std::span<double> owned, double days) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (!m_fitted) {
    Model::expectedEvents(owned, days);
    return;
  }
  // The horizon in pieces of constant covariates: the store's bins from time() on.
  std::vector<sepp::SeppHorizonPiece> pieces;
  if (m_inputs.temporal_names.empty()) {
    pieces.push_back({days, {}});
  } else {
    double t = time();
    const double end = time() + days;
    while (t < end - 1e-9) {
      const auto b = m_inputs.binAt(t);
      if (b < 0 || b + 1 >= static_cast<std::int64_t>(m_inputs.edges.size()))
        throw Error(ExitCode::InputData, "sepp: the forecast window runs past the store's time axis");
      const double next = std::min(end, m_inputs.edges[static_cast<std::size_t>(b) + 1]);
      pieces.push_back({next - t, temporalAt(t)});
      t = m_inputs.edges[static_cast<std::size_t>(b) + 1];
    }
  }
  const auto forecast = sepp::forecastSepp(m_params, m_mu, m_inputs.spatial, m_state, pieces);
  const auto& mask = m_grid->ownedMask();
  for (std::size_t c = 0; c < owned.size(); ++c) owned[c] += mask[c] != 0 ? forecast[c] : 0.0;
}

void SeppModel::expectedEventsBetween(std::span<double> owned, double from, double to) const {
  checkOwnedSize(name(), *m_grid, owned.size());
  if (!(from >= 0.0 && to >= from))
    throw Error(ExitCode::Internal, "sepp: expectedEventsBetween needs 0 <= from <= to");
  if (!m_fitted) {
    Model::expectedEventsBetween(owned, from, to);
    return;
  }
  const auto kt = m_inputs.temporal_names.size();
  // sum over pieces of exp(beta_t . z) * length: the store's bins while they cover the time, then the future.
  double tfac = 0.0;
  double t = time() + from;
  const double end = time() + to;
  const double store_end = m_inputs.edges.empty() ? 0.0 : m_inputs.edges.back();
  if (kt == 0) {
    tfac = to - from;
  } else {
    while (t < end - 1e-12 && t < store_end - 1e-9) {
      const auto it = std::upper_bound(m_inputs.edges.begin(), m_inputs.edges.end(), t + 1e-9);
      const auto b = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, it - m_inputs.edges.begin() - 1));
      const double next = std::min(end, m_inputs.edges[b + 1]);
      double z = 0.0;
      for (std::size_t k = 0; k < kt; ++k) z += m_params.beta[k] * m_inputs.temporal[b * kt + k];
      tfac += std::exp(z) * (next - t);
      t = next;
    }
    if (t < end - 1e-12) {
      if (!m_future)
        throw Error(ExitCode::InputData,
                    "sepp: the forecast runs past the store's time axis and no future covariates were given");
      for (const auto& piece : m_future->pieces(t, end)) {
        const auto row = m_inputs.futureRow(piece);
        double z = 0.0;
        for (std::size_t k = 0; k < kt; ++k) z += m_params.beta[k] * row[k];
        tfac += std::exp(z) * (piece.t1 - piece.t0);
      }
    }
  }
  const double trig = m_params.theta * (std::exp(-m_params.omega * from) - std::exp(-m_params.omega * to));
  const auto ks = m_inputs.spatial_names.size();
  const auto& mask = m_grid->ownedMask();
  for (std::size_t c = 0; c < owned.size(); ++c) {
    if (mask[c] == 0) continue;
    double z = 0.0;
    for (std::size_t q = 0; q < ks; ++q) z += m_params.beta[kt + q] * m_inputs.spatial[c * ks + q];
    owned[c] += m_mu[c] * std::exp(z) * tfac + trig * m_state[c];
  }
}

std::vector<std::tuple<std::string, double, double>> SeppModel::temporalCovariates(double from,
                                                                                   double to) const {
  const auto kt = m_inputs.temporal_names.size();
  std::vector<double> sum(kt, 0.0);
  double length = 0.0;
  const auto add = [&](const std::vector<double>& row, double days) {
    for (std::size_t k = 0; k < kt && k < row.size(); ++k) sum[k] += row[k] * days;
    length += days;
  };
  double t = time() + from;
  const double end = time() + to;
  const double store_end = m_inputs.edges.empty() ? 0.0 : m_inputs.edges.back();
  while (kt > 0 && t < end - 1e-12 && t < store_end - 1e-9) {
    const auto it = std::upper_bound(m_inputs.edges.begin(), m_inputs.edges.end(), t + 1e-9);
    const auto b = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, it - m_inputs.edges.begin() - 1));
    const double next = std::min(end, m_inputs.edges[b + 1]);
    add({m_inputs.temporal.begin() + static_cast<std::ptrdiff_t>(b * kt),
         m_inputs.temporal.begin() + static_cast<std::ptrdiff_t>((b + 1) * kt)},
        next - t);
    t = next;
  }
  if (kt > 0 && t < end - 1e-12 && m_future) {
    for (const auto& piece : m_future->pieces(t, end)) add(m_inputs.futureRow(piece), piece.t1 - piece.t0);
  }
  std::vector<std::tuple<std::string, double, double>> out;
  for (std::size_t k = 0; k < kt; ++k)
    out.emplace_back(m_inputs.temporal_names[k], k < m_params.beta.size() ? m_params.beta[k] : 0.0,
                     length > 0.0 ? sum[k] / length : 0.0);
  return out;
}

namespace {

/// Gamma(shape, 1) by Marsaglia and Tsang (shape >= 1), from one stream.
double gammaDraw(core::RandomStream& rng, double shape) {
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = rng.normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = rng.uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

}  // namespace

void SeppModel::drawParameters(std::uint64_t seed, int member) {
  if (!m_fitted) return;
  m_params = m_point;
  m_mu = m_point_mu;
  if (member == 0 || m_fit_events <= 0.0) return;
  // Keyed by (seed, member): the same draw on every rank and whichever step asks for it.
  core::RandomStream rng(seed ^ 0x5E99DA7AULL, static_cast<std::uint64_t>(member), 0);
  const auto& se = m_last.beta_se;
  for (std::size_t k = 0; k < m_params.beta.size(); ++k) {
    const double z = rng.normal();
    if (k < se.size() && std::isfinite(se[k]) && se[k] > 0.0) m_params.beta[k] += se[k] * z;
  }
  const double g = gammaDraw(rng, std::max(1.0, m_fit_events)) / std::max(1.0, m_fit_events);
  for (auto& m : m_mu) m *= g;
}

std::vector<CellFactor> SeppModel::cellFactors(std::size_t c) const {
  std::vector<CellFactor> out;
  if (!m_fitted || c >= m_mu.size() || m_grid->ownedMask()[c] == 0) return out;
  const auto kt = m_inputs.temporal_names.size();
  const auto ks = m_inputs.spatial_names.size();
  const auto& beta = m_point.beta.empty() ? m_params.beta : m_point.beta;
  for (std::size_t q = 0; q < ks && kt + q < beta.size(); ++q) {
    const auto k = kt + q;
    out.push_back({m_inputs.spatial_names[q], std::exp(beta[k] * m_inputs.spatial[c * ks + q]),
                   k < m_inputs.meaning.size() ? m_inputs.meaning[k] : std::string()});
  }
  const auto& mu = m_point_mu.empty() ? m_mu : m_point_mu;
  if (m_mu_mean > 0.0 && mu[c] > 0.0)
    out.push_back({"past_incidents_here", mu[c] / m_mu_mean,
                   "the place's own background rate against the mean cell of the study area"});
  const auto& p = m_point_mu.empty() ? m_params : m_point;
  if (p.theta > 0.0 && m_state[c] > 0.0 && mu[c] > 0.0)
    out.push_back({"recent_events", 1.0 + p.theta * p.omega * m_state[c] / mu[c],
                   "excitation by recent nearby events against the background alone"});
  std::stable_sort(out.begin(), out.end(), [](const CellFactor& a, const CellFactor& b) {
    return std::abs(std::log(a.multiplier)) > std::abs(std::log(b.multiplier));
  });
  return out;
}

void SeppModel::doObserve(double t0, double t1, std::span<const double> owned_counts) {
  checkBin(name(), t0, t1);
  checkOwnedSize(name(), *m_grid, owned_counts.size());
  const auto masked = maskedCounts(*m_grid, owned_counts);
  Bin bin{t0, t1, true, {}};
  long long local = 0;
  for (std::size_t c = 0; c < masked.size(); ++c) {
    if (masked[c] <= 0.0) continue;
    if (masked[c] != std::floor(masked[c]) || masked[c] > 2e9)
      throw Error(ExitCode::InputData, "sepp: observed counts must be whole numbers of events");
    bin.counts.emplace_back(static_cast<std::uint32_t>(c), static_cast<std::int32_t>(masked[c]));
    local += static_cast<long long>(masked[c]);
  }
  long long total = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &total, 1, MPI_LONG_LONG, MPI_SUM, m_grid->comm()));
  m_events += static_cast<double>(total);
  m_observed_days += t1 - t0;
  sepp::advanceSeppState(*m_grid, m_params, m_state, t1 - t0, masked);
  m_bins.push_back(std::move(bin));
}

void SeppModel::doAdvance(double t0, double t1) {
  // An observed bin was already taken in (and the state moved to its end) by doObserve.
  if (!m_bins.empty() && m_bins.back().observed && m_bins.back().t0 == t0 && m_bins.back().t1 == t1) return;
  const double decay = std::exp(-m_params.omega * (t1 - t0));
  for (auto& s : m_state) s *= decay;
  m_bins.push_back(Bin{t0, t1, false, {}});
}

std::vector<double> SeppModel::fittedParameters() const {
  std::vector<double> p{m_params.theta, m_params.omega, m_params.sigma_m,
                        static_cast<double>(m_params.beta.size())};
  p.insert(p.end(), m_params.beta.begin(), m_params.beta.end());
  p.insert(p.end(), m_mu.begin(), m_mu.end());
  return p;
}

void SeppModel::doFit(std::span<const double> warm) {
  if (!m_covariates.empty() && !m_has_inputs) loadInputs();
  auto options = m_options;
  if (!warm.empty()) {
    if (warm.size() < 4) throw Error(ExitCode::Internal, "sepp: malformed warm start");
    const auto kb = static_cast<std::size_t>(warm[3]);
    if (warm.size() != 4 + kb + m_mu.size())
      throw Error(ExitCode::Internal, "sepp: warm start of another grid");
    options.initial.theta = warm[0];
    options.initial.omega = warm[1];
    options.initial.sigma_m = warm[2];
    options.initial.beta.assign(warm.begin() + 4, warm.begin() + 4 + static_cast<std::ptrdiff_t>(kb));
    // The background restarts from the counts: the warm one may be zero in cells where events have
    // appeared since, where the likelihood would then be undefined.
  }
  // The bins to fit on: every bin seen, or those of the last sepp.training_days.
  std::size_t first = 0;
  if (m_training_days > 0.0) {
    while (first < m_bins.size() && m_bins[first].t0 < time() - m_training_days - 1e-9) ++first;
  }
  if (first >= m_bins.size()) throw Error(ExitCode::InputData, "sepp: nothing observed to fit on", true);
  const auto cells = m_mu.size();
  const auto nt = m_bins.size() - first;
  long long local = 0;
  for (std::size_t t = first; t < m_bins.size(); ++t) {
    for (const auto& [c, n] : m_bins[t].counts) local += n;
  }
  long long events = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &events, 1, MPI_LONG_LONG, MPI_SUM, m_grid->comm()));
  if (events == 0) {
    // Nothing to fit (a category without events in the training bins): the forecast is zero everywhere.
    m_params = options.initial;
    m_params.beta.assign(m_inputs.temporal_names.size() + m_inputs.spatial_names.size(), 0.0);
    std::fill(m_mu.begin(), m_mu.end(), 0.0);
    std::fill(m_state.begin(), m_state.end(), 0.0);
    m_last = sepp::SeppFitResult{};
    m_fitted = true;
    m_point = m_params;
    m_point_mu = m_mu;
    m_fit_events = 0.0;
    m_mu_mean = 0.0;
    return;
  }
  sepp::SeppData data;
  data.missing.assign(nt, 0);
  data.counts.assign(nt * cells, 0);
  const auto kt = m_inputs.temporal_names.size();
  data.temporal_names = m_inputs.temporal_names;
  data.spatial_names = m_inputs.spatial_names;
  data.spatial = m_inputs.spatial;
  for (std::size_t t = 0; t < nt; ++t) {
    const auto& bin = m_bins[first + t];
    data.edges.push_back(bin.t0);
    data.missing[t] = bin.observed ? 0 : 1;
    for (const auto& [c, n] : bin.counts) data.counts[t * cells + c] = n;
    const auto z = temporalAt(bin.t0);
    data.temporal.insert(data.temporal.end(), z.begin(), z.end());
    if (z.size() != kt) throw Error(ExitCode::Internal, "sepp: covariate row size");
  }
  data.edges.push_back(m_bins.back().t1);
  const sepp::SeppFit fitter(*m_grid, std::move(data));
  m_last = fitter.fit(options);
  m_params = m_last.params;
  m_mu = m_last.mu;
  m_state = m_last.state;
  m_fitted = true;
  m_point = m_params;
  m_point_mu = m_mu;
  m_fit_events = static_cast<double>(events);
  double local_mu = 0.0;
  const auto& mask = m_grid->ownedMask();
  for (std::size_t c = 0; c < m_mu.size(); ++c) local_mu += mask[c] != 0 ? m_mu[c] : 0.0;
  double sum_mu = 0.0;
  // A report value only (not fed back into any forecast), so an unordered sum is enough.
  VIGIE_CHECK_MPI(MPI_Allreduce(&local_mu, &sum_mu, 1, MPI_DOUBLE, MPI_SUM, m_grid->comm()));
  m_mu_mean = m_active > 0.0 ? sum_mu / m_active : 0.0;
}

}  // namespace vigie::models
