#pragma once
/// Rolling-origin backtest: every model and the four baselines forecast the same windows of the observation
/// store from the events before each window only, and are scored with the same code (verify::scoreWindow);
/// scores are pooled over windows and each model's skill over the best baseline gets a block-bootstrap
/// interval; the models of models.enabled are also stacked into a blend whose weights maximise the pooled
/// log-likelihood (scored in-sample and leave-one-window-out). Conventions and the JSON layout:
/// docs/backtest.md.
///
/// Windows are independent, so they are split over ranks in contiguous blocks (rank r gets windows
/// [r W / P, (r + 1) W / P)). Each rank holds the whole grid on MPI_COMM_SELF and replays the store bin by
/// bin from its first bin, so a window's forecast is the same whichever rank computes it: the result is
/// bit-identical at any rank count.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grid/CityGrid.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core

namespace vigie::verify {

/// The store's series as the backtest needs it: the selected categories summed, on the whole grid.
struct ObservedSeries {
  int nx = 0;
  int ny = 0;
  std::string bin;                         ///< bin unit name (hour, day, week, month)
  std::vector<std::string> categories;     ///< categories summed into `counts`
  std::vector<std::int64_t> bin_start;     ///< nt + 1 UTC seconds: bin starts, then the end of the last bin
  std::vector<std::string> bin_start_iso;  ///< nt local ISO starts ("2018-03-11T00:00-08:00")
  std::vector<std::uint8_t> missing;       ///< nt flags: 1 = the sources do not cover the bin
  std::vector<std::int32_t> counts;        ///< [nt][ny * nx] events, index t * nx * ny + j * nx + i
  std::vector<std::uint8_t> mask;          ///< [ny * nx] study area

  [[nodiscard]] std::int64_t bins() const noexcept { return static_cast<std::int64_t>(missing.size()); }
  /// Collective over `comm`. Reads <obs.h5> whole on every rank; `categories` empty = every category of
  /// the store. Error(Usage) for a category the store does not hold.
  static ObservedSeries read(MPI_Comm comm, const std::filesystem::path& obs_h5,
                             const std::vector<std::string>& categories);
  /// Collective over `comm`. As read(), and calls `each` (collectively, in the order of `categories`) with
  /// the series of each category alone before adding it to the sum, so per-category work costs no second
  /// read and holds at most two series in memory.
  static ObservedSeries read(MPI_Comm comm, const std::filesystem::path& obs_h5,
                             const std::vector<std::string>& categories,
                             const std::function<void(const ObservedSeries&)>& each);
};

/// What a backtest is asked to do (from the [backtest] section, models.enabled and run.seed).
struct BacktestSettings {
  std::string case_name;                ///< written as "case"
  std::string start;                    ///< ISO date: first window starts on the first bin on or after it
  std::string end;                      ///< ISO date: last window starts on or before it
  int horizon_bins = 1;                 ///< bins per window
  std::vector<std::string> categories;  ///< empty = all
  std::vector<double> coverages_percent{1.0, 5.0, 10.0};
  double epsilon = 1e-9;            ///< log-likelihood floor, events per cell per window
  int replicates = 999;             ///< bootstrap replicates
  int reliability_bins = 10;        ///< bins of the reliability table
  std::uint64_t seed = 0;           ///< bootstrap seed (run.seed) and model seed
  bool per_category = true;         ///< also score every model on each category alone (backtest.per_category)
  std::vector<std::string> models;  ///< models.enabled, then the baselines not already listed
  std::size_t enabled_models = 0;   ///< the first this many of `models` are models.enabled (stacked)
  int refit_every = 1;              ///< fitted models refit every this many windows (backtest.refit_every)
  bool tune = true;                 ///< tune hyper-parameters on the training years (backtest.tune)
  int tune_windows = 8;             ///< windows before `start` that score the candidates
  int tune_budget = 12;             ///< most candidates evaluated per model (the same for every model)
  /// Per model (same order as `models`): config values chosen by Backtest::tune (empty: the config's own).
  std::vector<std::vector<std::pair<std::string, std::string>>> model_overrides;

  /// Not collective. Reads and checks the options; Error(Usage) naming the key.
  static BacktestSettings fromConfig(const core::Config& config, const std::string& case_name);
};

/// What stacking needs of K models' forecasts over a backtest's windows: at each active cell with events,
/// its count and the models' forecasts, and each model's forecast summed over the active cells.
struct StackData {
  std::size_t models = 0;               ///< K
  std::vector<std::size_t> offsets{0};  ///< W + 1: window w's cells are [offsets[w], offsets[w + 1])
  std::vector<double> counts;           ///< events of each active cell with events, window by window
  std::vector<double> lambda;           ///< [cell][K]: each model's forecast there, floored at epsilon
  std::vector<double> totals;           ///< [W][K]: each model's forecast summed over the active cells

  [[nodiscard]] std::size_t windows() const noexcept { return offsets.size() - 1; }
  /// Not collective. Appends one window: `forecasts` holds the K models' whole-grid forecasts (same layout
  /// as `observed` and `mask`).
  void addWindow(const std::vector<std::span<const double>>& forecasts,
                 std::span<const std::int64_t> observed, std::span<const std::uint8_t> mask, double epsilon);
};

/// The weights Backtest::fitStack finds.
struct StackFit {
  std::vector<double> weights;  ///< K, non-negative, summing to 1
  double objective = 0.0;       ///< L(weights) (see Backtest::stackObjective)
  double gap = 0.0;             ///< max_k dL/dw_k - w . grad L: bounds max L - L(weights) from above
  int iterations = 0;           ///< steps taken
  bool converged = false;       ///< gap <= 1e-12 (1 + events + largest model total)
};

/// The backtest.
class Backtest {
 public:
  /// The baselines every backtest includes, in report order.
  static const std::vector<std::string>& baselines();
  /// Declares the [backtest] options.
  static void declareOptions(core::OptionSet& options);

  /// Not collective. First bin of each window (in bin order): bins whose local start date is in
  /// [start, end], stepping by horizon_bins, keeping windows that fit in the store and hold no missing bin.
  [[nodiscard]] static std::vector<std::int64_t> windowStarts(const ObservedSeries& series,
                                                              const BacktestSettings& settings);

  /// Not collective (the grid lives on MPI_COMM_SELF). Replays the series through a fresh `model` built on
  /// `grid` and calls `sink(k, forecast)` at the start of window k of `starts` (increasing) with the
  /// expected events per cell over the window (whole grid, masked cells 0). Only bins before the window
  /// have been observed at that point.
  static void replay(const grid::CityGrid& grid, const core::Config& config, std::uint64_t seed,
                     const std::string& model, const ObservedSeries& series,
                     const std::vector<std::int64_t>& starts, int horizon_bins,
                     const std::function<void(std::size_t, std::span<const double>)>& sink);
  /// Not collective. As replay() for windows [first, last) of `starts` (all the backtest's windows), with
  /// the refit plan of a fitted model (Model::isFitted): a cold fit at window 0 (the anchor), then a refit
  /// warm-started from the anchor's parameters at every window whose index is a multiple of `refit_every`
  /// (and at the last such window before `first`), so a window's forecast does not depend on which windows
  /// a rank was given. `sink` receives the global window index.
  static void replay(const grid::CityGrid& grid, const core::Config& config, std::uint64_t seed,
                     const std::string& model, const ObservedSeries& series,
                     const std::vector<std::int64_t>& starts, std::size_t first, std::size_t last,
                     int horizon_bins, int refit_every,
                     const std::function<void(std::size_t, std::span<const double>)>& sink);

  /// Collective over `comm`. Tunes every model with a tuning space (models::ModelRegistry::tuneSpace) on
  /// the training years: at most `tune_budget` candidates per model (every combination when the grid is
  /// that small, else the config's own values plus a seeded sample), each scored by pooled PAI@5% (ties:
  /// log-likelihood) over the `tune_windows` complete windows that end before the first backtest window.
  /// Fills settings.model_overrides with the winners and returns the "tuning" report (same on every rank).
  [[nodiscard]] static nlohmann::json tune(MPI_Comm comm, const grid::GridSpec& spec,
                                           const core::Config& config, BacktestSettings& settings,
                                           const ObservedSeries& series);

  /// Collective over `comm`. Runs the backtest on `series` and returns the backtest.json document (the
  /// same on every rank). `spec` is the grid (its mask is replaced by the series' mask); `config` provides
  /// the models' options. The document's "stacking" blends the first settings.enabled_models models (plus
  /// the best baseline when they are fewer than 2) with fitStack's weights; each rank keeps its windows'
  /// forecasts of the candidate models for that.
  [[nodiscard]] static nlohmann::json run(MPI_Comm comm, const grid::GridSpec& spec,
                                          const core::Config& config, const BacktestSettings& settings,
                                          const ObservedSeries& series);

  /// Collective over `comm`. Scores every model on `one`, the series of a single category (models fitted
  /// on that category's events only, same windows as run()), and returns {"events": N, "models": {NAME:
  /// pooled scores}}, the same on every rank. Used for backtest.json's "per_category".
  [[nodiscard]] static nlohmann::json scoreCategory(MPI_Comm comm, const grid::GridSpec& spec,
                                                    const core::Config& config,
                                                    const BacktestSettings& settings,
                                                    const ObservedSeries& one);

  /// Stands for "no window left out" in stackObjective and fitStack.
  static constexpr std::size_t kAllWindows = std::numeric_limits<std::size_t>::max();
  /// Not collective. The stacking objective at `weights` (K): over the windows of `data` but `skip`, in
  /// window then cell order, sum_c n_c log(sum_k w_k lambda_kc) - sum_k w_k total_k (the Poisson
  /// log-likelihood of the blended forecast without its constant -log n_c! terms).
  [[nodiscard]] static double stackObjective(const StackData& data, std::span<const double> weights,
                                             std::size_t skip = kAllWindows);
  /// Not collective. Maximises stackObjective over the simplex (weights >= 0 summing to 1), which is
  /// concave: active-set Newton steps on the weights in use, a Frank-Wolfe step where Newton cannot
  /// proceed, each with a line search on the directional derivative, from equal weights until the
  /// Frank-Wolfe duality gap is below 1e-12 (1 + events + largest model total) or 500 steps. Deterministic:
  /// the same data give the same bits on any rank.
  [[nodiscard]] static StackFit fitStack(const StackData& data, std::size_t skip = kAllWindows);

  /// Not collective. The human report backtest.md for a document made by run().
  [[nodiscard]] static std::string markdown(const nlohmann::json& doc);
};

}  // namespace vigie::verify
