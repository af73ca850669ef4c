#pragma once
/// Fitting the binned self-exciting point process (SEPP) on the city grid by EM. The equations are at the top
/// of SeppFit.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "models/sepp/SeppKernel.hpp"

namespace vigie::grid {
class CityGrid;
}

namespace vigie::models::sepp {

/// Binned observations and covariates on the owned cells of a grid.
struct SeppData {
  std::vector<double> edges;                ///< nt + 1 increasing bin edges, days
  std::vector<std::uint8_t> missing;        ///< nt flags, 1 = no data in that bin (empty = none missing)
  std::vector<std::int32_t> counts;         ///< nt * owned counts, index t * owned + k (owned-box order)
  std::vector<std::string> temporal_names;  ///< Kt names
  std::vector<double> temporal;             ///< nt * Kt values, index t * Kt + k (the same on every rank)
  std::vector<std::string> spatial_names;   ///< Ks names
  std::vector<double> spatial;              ///< owned * Ks values, index k * Ks + q (owned-box order)
};

/// How the spatial filters run; the choice never depends on the decomposition, so results do not either.
enum class SeppFilterMode {
  Auto,    ///< per bin, scatter events when that is cheaper than the separable dense filter
  Dense,   ///< always the separable dense filter (cost independent of the number of events)
  Sparse,  ///< always scatter events
};

/// Options of the fit.
struct SeppFitOptions {
  SeppParams initial;              ///< start (beta empty = zeros); initial.sigma_m = 0 with fix_sigma false
                                   ///< starts from one cell side (sigma = 0 is a fixed point of EM)
  std::vector<double> initial_mu;  ///< owned background to start from (warm start); empty = from the counts
  double mu_bandwidth_m = 0.0;     ///< Gaussian smoother of the background, metres (0 = per-cell mu)
  int max_iter = 200;
  double tol = 1e-8;  ///< stop when |LL_k - LL_{k-1}| < tol |LL_k|
  bool fix_theta = false;
  bool fix_omega = false;
  bool fix_sigma = false;
  bool fix_beta = false;
  int newton_steps = 4;  ///< Newton steps for beta per EM iteration
  SeppFilterMode filter = SeppFilterMode::Auto;
  bool standard_errors = true;  ///< beta standard errors from the observed information
  bool goodness_of_fit = true;  ///< time-rescaling KS test
  std::uint64_t seed = 1;       ///< seeds the uniform placement of events inside bins (KS test)
};

/// Result of a fit (every member is the same on every rank, except mu and state: owned cells).
struct SeppFitResult {
  SeppParams params;
  std::vector<double> mu;              ///< background, events per cell per day at zero covariates, owned
  std::vector<double> beta_se;         ///< standard errors of beta (NaN where the information is singular)
  std::vector<double> log_likelihood;  ///< LL at the parameters of each iteration (last = returned params)
  int iterations = 0;
  bool converged = false;
  std::int64_t events = 0;    ///< events in active cells and non-missing bins
  double ks_statistic = 0.0;  ///< time-rescaling KS distance of the gaps to Exp(1)
  double ks_p_value = 1.0;    ///< asymptotic Kolmogorov p-value
  std::vector<double> state;  ///< excitation state S at the last edge, owned
};

/// One piece of a forecast horizon: a length and the temporal covariate values over it.
struct SeppHorizonPiece {
  double days = 0.0;
  std::vector<double> temporal;  ///< Kt values
};

/// The fitting engine for one grid and data set (the events are gathered once at construction).
class SeppFit {
 public:
  /// Collective on the grid's communicator. Checks the data's sizes; throws Error(Usage/InputData).
  SeppFit(const grid::CityGrid& grid, SeppData data);

  /// Collective. EM fit (see SeppFit.cpp); throws Error(Numerical) on non-finite values.
  [[nodiscard]] SeppFitResult fit(const SeppFitOptions& options) const;

  /// Collective. The binned log-likelihood at the given parameters and owned background.
  [[nodiscard]] double logLikelihood(const SeppParams& params, const std::vector<double>& mu_owned) const;

  /// Collective. The excitation state S(c, t) at every edge e_t, t = 0..nt, owned cells, index t * owned + k.
  [[nodiscard]] std::vector<double> excitationStates(const SeppParams& params) const;

  /// Not collective. Events in active cells and non-missing bins over the whole grid.
  [[nodiscard]] std::int64_t eventCount() const noexcept { return m_total_events; }

 private:
  struct Impl;
  const grid::CityGrid* m_grid;
  SeppData m_data;
  std::int64_t m_total_events = 0;
  // Every rank holds every event (t, global cell, count), sorted by (t, cell): the ghost cells any kernel
  // radius needs are then local, and sums run in one global order.
  std::vector<std::int64_t> m_event_offsets;  ///< nt + 1 offsets into the lists below
  std::vector<std::int64_t> m_event_cell;
  std::vector<std::int32_t> m_event_count;
  std::vector<std::uint8_t> m_mask;  ///< whole grid
  std::vector<double> m_spatial;     ///< whole grid, index g * Ks + q
};

/// Not collective. Expected events per owned cell over a horizon that starts at a bin edge where the state
/// is `state`: sum_pieces mu exp(beta . z) days + theta S (1 - exp(-omega H)), H the total length.
/// `spatial` holds owned * Ks values as in SeppData.
[[nodiscard]] std::vector<double> forecastSepp(const SeppParams& params, const std::vector<double>& mu,
                                               const std::vector<double>& spatial,
                                               const std::vector<double>& state,
                                               const std::vector<SeppHorizonPiece>& horizon);

/// Collective. Advances the state over one observed bin of `days` with owned counts (owned-box order):
/// S <- exp(-omega days) S + exp(-omega days / 2) (K * n); cells outside the mask do not excite.
void advanceSeppState(const grid::CityGrid& grid, const SeppParams& params, std::vector<double>& state,
                      double days, const std::vector<double>& counts);

}  // namespace vigie::models::sepp
