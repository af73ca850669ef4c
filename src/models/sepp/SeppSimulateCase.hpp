#pragma once
/// `vigie simulate --model sepp`: events drawn from a known self-exciting process on a case's grid, written
/// as a ready-to-use case (events CSV, source profile, configuration, truth), so a researcher can run `vigie
/// fit --config <out>/simulated.ini` and compare the estimates with the truth.
#include <cstdint>
#include <filesystem>

namespace vigie::core {
class Config;
}
namespace vigie::grid {
class CityGrid;
}

namespace vigie::models::sepp {

/// What the simulation wrote.
struct SeppCaseSummary {
  std::int64_t events = 0;      ///< events inside the grid and the simulated time
  std::int64_t background = 0;  ///< of which generation 0
  double theta = 0.0;
  double omega = 0.0;
  double sigma_x_m = 0.0;
  double sigma_y_m = 0.0;
};

/// Collective (every rank simulates the same events; rank 0 writes). The truth is simulate.params (a
/// params.h5 of vigie fit: background, theta, omega, sigma) or the simulate.* values with a uniform
/// background of simulate.background_per_day over the grid's active cells; time runs over simulate.t_end
/// days from simulate.start (UTC). Writes into `out`: simulated_events.csv (x, y in the grid's CRS, time
/// UTC to the second, generation, parent row or -1), simulated.profile.ini, simulated.ini (the case's
/// grid, ingest of the events in simulate.bin bins, sepp enabled, output.dir = fit) and
/// simulated_truth.json.
SeppCaseSummary simulateSeppCase(const grid::CityGrid& grid, const core::Config& config, std::uint64_t seed,
                                 const std::filesystem::path& out);

}  // namespace vigie::models::sepp
