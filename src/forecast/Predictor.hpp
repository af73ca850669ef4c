#pragma once
/// The models of a forecast, ready to predict: the store read, the published model chosen (a single model or
/// the blend of the backtest's stacking), its components built with their tuned hyper-parameters, the store
/// replayed into them up to the forecast start and the fitted ones fitted. `vigie forecast` and
/// `vigie scenario` compute every ensemble member's expected counts through it.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/Provenance.hpp"
#include "ingest/TimeBinning.hpp"
#include "models/Model.hpp"
#include "verify/Backtest.hpp"

namespace vigie::core {
class Config;
}
namespace vigie::grid {
class CityGrid;
}

namespace vigie::forecast {

class FutureConditions;

/// Collective. <out>/backtest.json read by rank 0 and shared, or null when it does not exist;
/// Error(InputData) naming the file when it is not JSON.
nlohmann::json readBacktest(MPI_Comm comm, const std::filesystem::path& path);
/// Not collective. The hyper-parameters the backtest tuned for `model` (backtest.json tuned_parameters) as
/// config overrides; empty when the document is null or has none for it.
std::vector<std::pair<std::string, std::string>> tunedOverrides(const nlohmann::json& backtest,
                                                                const std::string& model);
/// Collective. The time zone of an observation store; Error(InputData) naming it when it does not exist.
std::string storeTimeZone(MPI_Comm comm, const std::filesystem::path& obs);

/// A component of the published model: a model with its (tuned) configuration and its blend weight.
struct Component {
  std::string name;
  double weight = 1.0;
  std::unique_ptr<core::Config> config;
  std::unique_ptr<models::Model> model;
};

class Predictor {
 public:
  /// Collective over the grid's communicator. Reads <out>/obs.h5 (categories of backtest.categories) and
  /// <out>/backtest.json (when present: stacking weights, tuned parameters), chooses forecast.model, builds
  /// the components, replays the store up to forecast.start (default: its end) and fits the fitted models.
  /// Error(Usage) naming the key for a bad forecast.model or forecast.start.
  /// With `start_bin` >= 0, the start is that bin of the store (0 < start_bin <= bins) whatever
  /// forecast.start says (`vigie watch` fits at the bin where it began watching).
  Predictor(const grid::CityGrid& grid, const core::Config& config, const core::Provenance& provenance,
            const std::filesystem::path& out, std::int64_t start_bin = -1);

  /// Not collective. The covariates of times past the store for every component (replaces the previous).
  void setFuture(const FutureConditions& conditions);
  /// Not collective. The future source of `conditions` (the store's bins continued), to switch between
  /// sources cheaply with setFuture(source).
  [[nodiscard]] std::shared_ptr<const models::FutureCovariateSource> makeFuture(
      const FutureConditions& conditions) const;
  void setFuture(const std::shared_ptr<const models::FutureCovariateSource>& future);

  /// Collective exactly when a component's expectedEventsBetween is. Member `member`'s expected events per
  /// owned cell over [from, to) days after the start into `out` (assigned; masked cells 0): the components'
  /// weighted sum with member's parameter draw (member 0: the point estimate), times 24 share(hour) for an
  /// hour step (`hour` >= 0) of a store whose bins are longer than an hour. With `per_component`, also each
  /// component's own expected counts (resized to the components' count). Error(Numerical) for a negative or
  /// non-finite value.
  void expected(int member, double from, double to, int hour, std::span<double> out,
                std::vector<std::vector<double>>* per_component = nullptr);
  /// Collective. Moves every component on over [t0, t1) (model days, t0 = the models' time): the owned
  /// counts of that interval are observed first when `have` (a bin the sources cover). What the replay to the
  /// start does for each stored bin; `vigie watch` calls it for each cycle it has appended.
  void step(double t0, double t1, std::span<const double> owned_counts, bool have);
  /// Collective. step() for the stored bins [b_from, b_to) of the series read at construction (b_from = the
  /// bin the models have reached).
  void replayStored(std::int64_t b_from, std::int64_t b_to);
  /// Model days of the start of stored bin `b` (b <= bins()).
  [[nodiscard]] double binDay(std::int64_t b) const;
  /// Not collective. Puts every component back to its point estimate (member 0's parameters).
  void restorePointEstimate();

  [[nodiscard]] const std::vector<Component>& components() const noexcept { return m_comps; }
  [[nodiscard]] const std::string& model() const noexcept { return m_model; }
  [[nodiscard]] const nlohmann::json& backtest() const noexcept { return m_backtest; }
  [[nodiscard]] const nlohmann::json& tunedParameters() const noexcept { return m_tuned; }
  [[nodiscard]] const verify::ObservedSeries& series() const noexcept { return m_series; }
  [[nodiscard]] const ingest::TimeZone& zone() const noexcept { return m_zone; }
  /// UTC seconds of the forecast start, and of the store's first bin (model time 0).
  [[nodiscard]] std::int64_t startUtc() const noexcept { return m_start_utc; }
  [[nodiscard]] std::int64_t originUtc() const noexcept { return m_origin_utc; }
  /// Bins of the store observed before the start.
  [[nodiscard]] std::int64_t binsUsed() const noexcept { return m_bins_used; }
  [[nodiscard]] const std::vector<double>& hourProfile() const noexcept { return m_hour_profile; }
  [[nodiscard]] const std::string& hourProfileSource() const noexcept { return m_profile_source; }
  /// Whether some component draws its parameters per member.
  [[nodiscard]] bool parameterDraws() const;
  /// Events observed per cell of the whole grid over the bins before the start.
  [[nodiscard]] const std::vector<std::int64_t>& observedTotal() const noexcept { return m_observed_total; }
  /// Not collective. The factors behind owned cell `c` from the heaviest component that explains itself.
  [[nodiscard]] std::vector<models::CellFactor> factors(std::size_t c) const;

 private:
  const grid::CityGrid& m_grid;
  std::uint64_t m_seed;
  verify::ObservedSeries m_series;
  ingest::TimeZone m_zone;
  std::vector<double> m_hour_profile;
  std::string m_profile_source;
  std::int64_t m_bins_used = 0;
  std::int64_t m_start_utc = 0;
  std::int64_t m_origin_utc = 0;
  nlohmann::json m_backtest;
  nlohmann::json m_tuned = nlohmann::json::object();
  std::string m_model;
  std::vector<Component> m_comps;
  std::vector<std::int64_t> m_observed_total;
  std::vector<double> m_part;
};

}  // namespace vigie::forecast
