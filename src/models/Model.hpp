#pragma once
/// The small interface every risk model implements, so the ForecastDriver can run any of them.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace vigie::core {
class Config;
}
namespace vigie::grid {
class CityGrid;
}
namespace vigie::store {
class FieldFile;
}

namespace vigie::models {

/// What a model is built from.
struct ModelContext {
  const grid::CityGrid& grid;
  const core::Config& config;
  std::uint64_t seed;
};

/// One piece of a forecast's future with constant temporal covariates: [t0, t1) in model days and the raw
/// covariates of the store's units over it (what ingest writes under /covariates for a bin): "days" (local
/// days the piece touches), "weekday" (of its first day, 0 = Monday), "public_holiday" and "school_holiday"
/// (days that are such holidays), "school_holiday_missing" (1 when the table does not cover a day), each
/// weather variable (rain_mm, tmax_c, ... aggregated as ingest does) with "<var>_missing", and
/// "rain_day_share" (expected share of its days with at least 1 mm of rain).
struct FuturePiece {
  double t0 = 0.0;
  double t1 = 0.0;
  std::map<std::string, double> raw;
};

/// The temporal covariates of times the observation store does not cover (a forecast's future), from a
/// stated source (climatology, a scenario). Implemented in forecast/FutureSource.hpp.
class FutureCovariateSource {
 public:
  virtual ~FutureCovariateSource() = default;
  /// Not collective. Splits [t0, t1) (model days) at the boundaries of the store's bins (local days for hour
  /// and day stores) and returns each piece with its covariates, in time order.
  [[nodiscard]] virtual std::vector<FuturePiece> pieces(double t0, double t1) const = 0;
};

/// One named factor of a cell's forecast: the multiplier it applies to the rate (exp(beta z) for a log-linear
/// covariate) and what a unit of it means.
struct CellFactor {
  std::string name;
  double multiplier = 1.0;
  std::string meaning;
};

/// A model owns state fields on the city grid and advances them in time (days). Derived classes implement the
/// private virtuals; callers use the public non-virtual functions, which check preconditions and time the
/// call.
class Model {
 public:
  explicit Model(std::string name) : m_name(std::move(name)) {}
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return m_name; }
  /// Model time in days since the run's start.
  [[nodiscard]] double time() const noexcept { return m_time; }

  /// Collective. Advances from t0 (must equal time()) to t1 >= t0.
  void advance(double t0, double t1);
  /// Collective. Event counts observed in each owned cell during [t0, t1) (owned-box order). Models that are
  /// driven by events (self-excitation, attractiveness) take them in; others ignore them.
  void observe(double t0, double t1, std::span<const double> owned_counts);

  /// Names of the state fields (each one double per cell), in a fixed order.
  [[nodiscard]] virtual std::vector<std::string> stateNames() const = 0;
  /// Not collective. Copies a state field's owned values out / in (owned-box order).
  virtual void getState(const std::string& state, std::span<double> owned) const = 0;
  virtual void setState(const std::string& state, std::span<const double> owned) = 0;
  /// Not collective. Adds the model's expected events per cell per day at time() to `owned`.
  virtual void contributeIntensity(std::span<double> owned) const = 0;
  /// Adds the expected events per owned cell over [time(), time() + days) to `owned`, given only what was
  /// observed up to time() (what a forecast of that window is). Collective exactly when contributeIntensity()
  /// is. The default is contributeIntensity() times `days`; models whose rate changes within a window
  /// (decaying excitation, calendar covariates) override it.
  virtual void expectedEvents(std::span<double> owned, double days) const;
  /// Adds the expected events per owned cell over [time() + from, time() + to) (0 <= from <= to, days), given
  /// only what was observed up to time(): a forecast step of a horizon. Collective exactly when
  /// contributeIntensity() is. The default is contributeIntensity() times (to - from).
  virtual void expectedEventsBetween(std::span<double> owned, double from, double to) const;

  /// Not collective. Gives the model the covariates of times beyond the store (nullptr: none). Models without
  /// temporal covariates ignore it.
  virtual void setFuture(std::shared_ptr<const FutureCovariateSource> /*future*/) {}
  /// True when the model can draw its parameters from the fit's sampling distribution (drawParameters).
  [[nodiscard]] virtual bool hasParameterUncertainty() const { return false; }
  /// Not collective (the same on every rank). Replaces the fitted parameters with ensemble member `member`'s
  /// draw from their approximate sampling distribution, keyed by (seed, member); member 0 restores the point
  /// estimate. Only after a fit; a no-op for models without parameter uncertainty.
  virtual void drawParameters(std::uint64_t /*seed*/, int /*member*/) {}
  /// Not collective. The factors behind the forecast of owned cell `owned_index` (largest effect first), for
  /// reports. Empty by default.
  [[nodiscard]] virtual std::vector<CellFactor> cellFactors(std::size_t /*owned_index*/) const { return {}; }

  /// Collective. Named scalar diagnostics of the current state (e.g. the coefficient of variation of the
  /// attractiveness, "cv_A"), printed as `name=value` lines at the end of `vigie simulate` and `vigie run`,
  /// in this order. Empty by default.
  [[nodiscard]] virtual std::vector<std::pair<std::string, double>> diagnostics() const { return {}; }

  /// True for a model whose parameters are fitted to the events by fit() (an expensive, global fit); the
  /// backtest refits it every backtest.refit_every windows. Other models learn online from observe() alone.
  [[nodiscard]] virtual bool isFitted() const { return false; }
  /// Collective. Fits the parameters to every bin observed so far, starting from `warm` (the result of
  /// fittedParameters() of the same model on the same grid, or empty for a cold start). Between fits the
  /// model keeps its parameters and goes on updating its state with observe().
  void fit(std::span<const double> warm);
  /// Not collective. The fitted parameters as one flat vector (owned fields in owned-box order included),
  /// for warm starts; empty for a model that is not fitted.
  [[nodiscard]] virtual std::vector<double> fittedParameters() const { return {}; }

  /// Collective. Writes every state field as /fields/<model>.<state> and the model time as an attribute.
  void saveCheckpoint(store::FieldFile& file) const;
  /// Collective. Restores the state and time written by saveCheckpoint (at any rank count).
  void loadCheckpoint(const store::FieldFile& file);

 protected:
  /// Sets the model time (for models that restore or re-initialise their state themselves).
  void setTime(double t) noexcept { m_time = t; }

 private:
  virtual void doAdvance(double t0, double t1) = 0;
  virtual void doObserve(double /*t0*/, double /*t1*/, std::span<const double> /*owned_counts*/) {}
  virtual void doFit(std::span<const double> /*warm*/) {}
  /// The grid the model lives on.
  [[nodiscard]] virtual const grid::CityGrid& grid() const = 0;

  std::string m_name;
  double m_time = 0.0;
};

}  // namespace vigie::models
