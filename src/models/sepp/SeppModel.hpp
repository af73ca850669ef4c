#pragma once
/// The `sepp` model: the self-exciting point process of SeppFit.hpp as a registered Model, so the backtest
/// and the run drive it like any other. Its parameters are fitted by EM (fit(), warm-startable); between
/// fits it keeps them and updates its excitation state with every observed bin:
///
///   expected events in cell c over a bin of length L starting at time t:
///     mu(c) exp(beta . z(c, t)) L + theta (1 - exp(-omega L)) S(c, t),
///   S <- exp(-omega L) S + exp(-omega L / 2) (K_sigma * n)   after each bin.
///
/// Covariates z come from the observation store <output.dir>/obs.h5 (sepp.covariates; SeppInputs.hpp),
/// looked up by the bin the model time falls on (model time 0 = the store's first bin, as the backtest
/// replays it). Before its first fit the model forecasts the mean rate per active cell observed so far.
#include <filesystem>
#include <memory>
#include <tuple>
#include <vector>

#include "models/Model.hpp"
#include "models/sepp/SeppFit.hpp"
#include "models/sepp/SeppInputs.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class SeppModel final : public Model {
 public:
  static void declareOptions(core::OptionSet& options);
  /// Collective (reads the store when covariates are configured). Throws Error(Usage) for a bad option.
  explicit SeppModel(const ModelContext& context);

  [[nodiscard]] std::vector<std::string> stateNames() const override;
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Not collective. mu exp(beta . z) + theta omega S: the rate per day at time().
  void contributeIntensity(std::span<double> owned) const override;
  /// Not collective. The expected events over the next `days` with the state frozen at time().
  void expectedEvents(std::span<double> owned, double days) const override;

  /// Not collective. Over [time() + from, time() + to): the background with the covariates of each piece
  /// (the store's bins while they last, then the future source's pieces) plus the excitation decaying from
  /// time(): theta (exp(-omega from) - exp(-omega to)) S.
  void expectedEventsBetween(std::span<double> owned, double from, double to) const override;
  void setFuture(std::shared_ptr<const FutureCovariateSource> future) override {
    m_future = std::move(future);
  }
  [[nodiscard]] bool hasParameterUncertainty() const override { return m_fitted && m_fit_events > 0.0; }
  /// beta ~ N(beta_hat, se^2) independently (a singular direction keeps its estimate) and the background
  /// level times g ~ Gamma(N, 1/N), N the events of the fit (the Poisson uncertainty of the overall rate);
  /// theta, omega and sigma keep their estimates (no standard errors for them yet).
  void drawParameters(std::uint64_t seed, int member) override;
  /// Each spatial covariate's exp(beta z) at the cell, the cell's own background against the mean active
  /// cell ("past_incidents_here") and, with a trigger, the excitation by recent events ("recent_events").
  [[nodiscard]] std::vector<CellFactor> cellFactors(std::size_t owned_index) const override;

  /// Not collective. Each temporal covariate's time-weighted mean over [time() + from, time() + to) (the
  /// store's bins, then the future source's pieces) with its coefficient: (name, beta, z). For reports of
  /// what a scenario's weather or calendar changes.
  [[nodiscard]] std::vector<std::tuple<std::string, double, double>> temporalCovariates(double from,
                                                                                        double to) const;

  [[nodiscard]] bool isFitted() const override { return true; }
  [[nodiscard]] std::vector<double> fittedParameters() const override;

  /// The parameters in use.
  [[nodiscard]] const sepp::SeppParams& params() const noexcept { return m_params; }
  /// The last fit's result (empty log-likelihood before the first fit).
  [[nodiscard]] const sepp::SeppFitResult& lastFit() const noexcept { return m_last; }

  /// Not collective. The fit options of the [sepp] section (initial values, tolerances, bandwidth).
  static sepp::SeppFitOptions fitOptions(const core::Config& config, std::uint64_t seed);

 private:
  void doAdvance(double t0, double t1) override;
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  void doFit(std::span<const double> warm) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }
  /// Collective. Reads the covariates of sepp.covariates from the store.
  void loadInputs();
  /// Temporal covariates of the store bin starting at `day` (zeros when there are none).
  [[nodiscard]] std::vector<double> temporalAt(double day) const;

  /// One bin seen by the model: its interval and, when observed, its owned counts (sparse).
  struct Bin {
    double t0 = 0.0;
    double t1 = 0.0;
    bool observed = false;
    std::vector<std::pair<std::uint32_t, std::int32_t>> counts;  ///< (owned index, events)
  };

  const grid::CityGrid* m_grid;
  sepp::SeppFitOptions m_options;
  double m_training_days = 0.0;
  sepp::SeppInputs m_inputs;
  bool m_has_inputs = false;
  std::vector<std::string> m_covariates;  ///< sepp.covariates
  std::filesystem::path m_obs;            ///< <output.dir>/obs.h5
  std::vector<Bin> m_bins;
  sepp::SeppParams m_params;
  std::vector<double> m_mu;     ///< owned background at zero covariates, events per cell per day
  std::vector<double> m_state;  ///< owned excitation state S at time()
  bool m_fitted = false;
  double m_events = 0.0;  ///< events observed in active cells (for the pre-fit rate)
  double m_active = 0.0;  ///< active cells of the whole grid
  double m_observed_days = 0.0;
  sepp::SeppFitResult m_last;
  std::shared_ptr<const FutureCovariateSource> m_future;
  sepp::SeppParams m_point;  ///< the fit's parameters (drawParameters restores them for member 0)
  std::vector<double> m_point_mu;
  double m_fit_events = 0.0;  ///< events the last fit used
  double m_mu_mean = 0.0;     ///< mean background over the active cells at the last fit
};

}  // namespace vigie::models
