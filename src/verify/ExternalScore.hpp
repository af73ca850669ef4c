#pragma once
/// `vigie score`: scores a forecast made by another tool against the observation store with the backtest's
/// own code (verify::scoreWindow), so researchers can compare their model with Vigie's on equal terms.
/// File formats, window rule and score.json layout: docs/backtest.md#scoring-an-external-forecast.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "verify/Backtest.hpp"

namespace vigie::core {
class OptionSet;
}  // namespace vigie::core

namespace vigie::verify {

/// A scoring window: the bins whose local start date is in [start, end).
struct ScoreWindow {
  std::string start;  ///< ISO date YYYY-MM-DD, included
  std::string end;    ///< ISO date YYYY-MM-DD, excluded

  /// Not collective. Parses "START/END"; Error(Usage) naming score.window unless both are ISO dates and
  /// START < END.
  static ScoreWindow parse(const std::string& text);
  /// "START/END".
  [[nodiscard]] std::string text() const { return start + "/" + end; }
};

/// Scoring of an external forecast.
class ExternalScore {
 public:
  /// Declares the [score] options (score.forecast, score.window, score.dataset).
  static void declareOptions(core::OptionSet& options);

  /// Not collective (every rank may read the file itself). Reads a forecast of expected events per cell
  /// over the window: an HDF5 file (recognised by its signature) whose dataset `dataset` is [ny][nx], or a
  /// CSV file with the header `cell,intensity` and rows `j*nx+i,value`. Cells where `mask` is 0 are set to 0
  /// (CSV rows for them are ignored); cells a CSV does not list are 0. Error(InputData) naming the file, and
  /// for a CSV the line, for a wrong shape, an unparsable row, a cell out of range or listed twice, or a
  /// value that is negative or not finite in an active cell.
  [[nodiscard]] static std::vector<double> readForecast(const std::filesystem::path& file,
                                                        const std::string& dataset, int nx, int ny,
                                                        std::span<const std::uint8_t> mask);

  /// Not collective. Events per cell summed over the bins of `window`; `first`/`count` receive the first
  /// bin and the number of bins. Error(Usage) if the window selects no bin, Error(InputData) if one of its
  /// bins is not covered by the sources.
  [[nodiscard]] static std::vector<std::int64_t> observedInWindow(const ObservedSeries& series,
                                                                  const ScoreWindow& window,
                                                                  std::int64_t& first, std::int64_t& count);

  /// Not collective. Scores `forecast` against the window's events with the settings' coverages, epsilon
  /// and reliability bins, and returns the score.json document.
  [[nodiscard]] static nlohmann::json score(const ObservedSeries& series, std::span<const double> forecast,
                                            const ScoreWindow& window, const BacktestSettings& settings,
                                            const std::filesystem::path& forecast_file);

  /// Not collective. A few lines summarising a score.json document for the terminal.
  [[nodiscard]] static std::string summary(const nlohmann::json& doc);
};

}  // namespace vigie::verify
