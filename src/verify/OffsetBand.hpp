#pragma once
/// The backtest's grid-offset sensitivity band. Where the cell boundaries fall is arbitrary, yet it decides
/// which events share a cell, so a skill score can move when the grid slides by part of a cell (the
/// modifiable areal unit problem). The band reruns the backtest with the grid's origin shifted by fractions
/// of a cell (backtest.grid_offsets), re-ingesting the events onto each shifted grid, and reports for every
/// model the range of its pooled PAI@5%, log-likelihood per event and PAI@5% ratio to that grid's best
/// baseline over the unshifted grid and the shifted ones.
///
/// Layout: each shifted grid k (1, 2, ... in backtest.grid_offsets order) keeps its own store, journal and
/// rejects under <output.dir>/offsets/<k>/, reused by a later run while it is up to date. The JSON (shape:
/// run()) goes into backtest.json as "grid_offset_band", the markdown into backtest.md.
#include <mpi.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "verify/Backtest.hpp"

namespace vigie::core {
class Config;
class OptionSet;
struct Provenance;
}  // namespace vigie::core

namespace vigie::verify {

/// A shift of the grid's south-west corner, in fractions of a cell along x (east) and y (north).
struct GridOffset {
  double fx = 0.0;  ///< in [0, 1)
  double fy = 0.0;  ///< in [0, 1)
};

/// The grid-offset sensitivity band of a backtest.
class OffsetBand {
 public:
  /// Declares backtest.grid_offsets.
  static void declareOptions(core::OptionSet& options);

  /// Not collective. The offsets of backtest.grid_offsets ("fx:fy" items). Error(Usage) naming the key for an
  /// item that is not two numbers in [0, 1) separated by ':', for 0:0 (the unshifted grid is always in the
  /// band) and for an offset listed twice. Empty list: no band.
  [[nodiscard]] static std::vector<GridOffset> fromConfig(const core::Config& config);

  /// Collective over `comm`. For each offset k (from 1): a copy of `config` with grid.x0 += fx * cell,
  /// grid.y0 += fy * cell and output.dir = <out>/offsets/<k>; ingests ingest.events onto that grid unless the
  /// folder's store is up to date (IngestPipeline::needed, and made for that very grid); reads the series and
  /// runs Backtest::run with `settings` (per-category scores off). `base_doc` is the document of the
  /// unshifted grid, made by Backtest::run with the same settings; it is the band's first entry.
  ///
  /// Returns (the same on every rank) {"cell_m", "offsets": [[fx, fy], ...] (first [0, 0]), "events": [events
  /// scored per offset], "windows": [...], "best_baseline": [NAME per offset], "models": {NAME: {"pai5",
  /// "log_likelihood_per_event", "pai5_ratio": {"values": [per offset], "min", "max", "spread"}}},
  /// "available": true}. Null when backtest.grid_offsets is empty; {"available": false, "reason": TEXT}
  /// when the case has no ingest.events to re-grid.
  [[nodiscard]] static nlohmann::json run(MPI_Comm comm, const core::Config& config,
                                          const BacktestSettings& settings, const std::filesystem::path& out,
                                          const core::Provenance& provenance, const nlohmann::json& base_doc);

  /// Not collective. The "## Grid-offset sensitivity" section of backtest.md for a band made by run() (empty
  /// text for a null band).
  [[nodiscard]] static std::string markdown(const nlohmann::json& band);
};

}  // namespace vigie::verify
