#include "models/sepp/SeppSimulateCase.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/Event.hpp"
#include "models/sepp/SeppSimulator.hpp"
#include "store/FieldFile.hpp"

namespace vigie::models::sepp {

using core::Error;
using core::ExitCode;

namespace {

std::string isoSeconds(std::int64_t s) {
  const auto c = ingest::civilFromSeconds(s);
  const auto sec = static_cast<int>(((s % 60) + 60) % 60);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
                sec);
  return buf;
}

/// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half a file.
void writeFile(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp-sim";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    if (!f) throw Error(ExitCode::Io, tmp + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

SeppCaseSummary simulateSeppCase(const grid::CityGrid& grid, const core::Config& config, std::uint64_t seed,
                                 const std::filesystem::path& out) {
  const auto& spec = grid.spec();
  if (spec.epsg == 0)
    throw Error(
        ExitCode::Usage,
        "simulate --model sepp needs a grid with a CRS (grid.crs = EPSG:...): the events are written in "
        "it",
        true);
  const double t_end = config.getDouble("simulate.t_end");
  if (!(t_end > 0.0) || t_end > 36500.0)
    throw Error(ExitCode::Usage, "simulate.t_end must be in (0, 36500] days", true);
  const auto start_day = ingest::parseIsoDay(config.getString("simulate.start"), "simulate.start");
  const auto bin = config.getString("simulate.bin");
  if (bin != "hour" && bin != "day" && bin != "week")
    throw Error(ExitCode::Usage, "simulate.bin must be hour, day or week", true);

  SeppTruth truth;
  const auto cells = static_cast<std::size_t>(spec.nx) * static_cast<std::size_t>(spec.ny);
  const auto params_file = config.getPath("simulate.params");
  if (!params_file.empty()) {
    const auto file = store::FieldFile::open(grid.comm(), params_file);
    truth.mu = file.read2d<double>("sepp.mu", store::Box{0, 0, spec.nx, spec.ny});
    truth.params.theta = file.read1d<double>("/params/theta").at(0);
    truth.params.omega = file.read1d<double>("/params/omega_per_day").at(0);
    truth.sigma_x_m = truth.sigma_y_m = file.read1d<double>("/params/sigma_m").at(0);
  } else {
    truth.params.theta = config.getDouble("simulate.theta");
    truth.params.omega = config.getDouble("simulate.omega_per_day");
    truth.sigma_x_m = config.getDouble("simulate.sigma_m");
    const double sy = config.getDouble("simulate.sigma_y_m");
    truth.sigma_y_m = sy >= 0.0 ? sy : truth.sigma_x_m;
    const double rate = config.getDouble("simulate.background_per_day");
    if (!(rate > 0.0) || !std::isfinite(rate))
      throw Error(ExitCode::Usage, "simulate.background_per_day must be positive", true);
    const auto mask = grid.globalMask();
    double active = 0.0;
    for (const auto m : mask) active += m != 0 ? 1.0 : 0.0;
    if (active == 0.0) throw Error(ExitCode::Usage, "simulate: the grid has no active cell", true);
    truth.mu.assign(cells, 0.0);
    for (std::size_t c = 0; c < cells; ++c) truth.mu[c] = mask[c] != 0 ? rate / active : 0.0;
  }
  if (!(truth.params.theta >= 0.0 && truth.params.theta < 1.0) || !(truth.params.omega > 0.0) ||
      !(truth.sigma_x_m >= 0.0) || !(truth.sigma_y_m >= 0.0))
    throw Error(ExitCode::Usage, "simulate: the truth needs 0 <= theta < 1, omega > 0 and sigma >= 0", true);
  // Daily background bins (the background is constant in time: no covariates are simulated).
  const auto days = static_cast<int>(std::ceil(t_end));
  for (int d = 0; d <= days; ++d) truth.edges.push_back(std::min(static_cast<double>(d), t_end));
  if (truth.edges.size() >= 2 && truth.edges[truth.edges.size() - 2] >= t_end) truth.edges.pop_back();

  const SeppSimulator simulator(grid, truth);
  const auto events = simulator.simulate(seed);

  SeppCaseSummary summary;
  summary.theta = truth.params.theta;
  summary.omega = truth.params.omega;
  summary.sigma_x_m = truth.sigma_x_m;
  summary.sigma_y_m = truth.sigma_y_m;
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(grid.comm(), &rank));
  std::ostringstream csv;
  csv << "x,y,time,generation,parent\n" << std::fixed;
  std::vector<std::int64_t> row(events.size(), -1);
  const std::int64_t t0 = start_day * 86400;
  for (std::size_t k = 0; k < events.size(); ++k) {
    const auto& e = events[k];
    if (!(e.t >= 0.0 && e.t < t_end)) continue;
    row[k] = summary.events++;
    if (e.generation == 0) ++summary.background;
    const auto s = t0 + static_cast<std::int64_t>(std::floor(e.t * 86400.0));
    csv << std::setprecision(2) << e.x << "," << e.y << "," << isoSeconds(s) << "," << e.generation << ","
        << (e.parent >= 0 ? row[static_cast<std::size_t>(e.parent)] : -1) << "\n";
  }
  if (rank != 0) return summary;

  std::filesystem::create_directories(out);
  writeFile(out / "simulated_events.csv", csv.str());
  writeFile(out / "simulated.profile.ini",
            "# Source profile of events simulated by `vigie simulate --model sepp` (simulated_events.csv).\n"
            "[source]\nname = Vigie SEPP simulation\nduplicates = keep\n\n"
            "[csv]\ndelimiter = ,\nheader = true\n\n"
            "[time]\nmode = datetime\ncolumn = time\nformat = %Y-%m-%dT%H:%M:%S\nprecision = minute\n\n"
            "[location]\nmode = xy\nx = x\ny = y\ncrs = EPSG:" +
                std::to_string(spec.epsg) + "\n\n[category]\nfixed = simulated\n");
  const auto end_day = start_day + days - 1;
  const auto iso = [](std::int64_t day) {
    const auto c = ingest::civilFromSeconds(day * 86400);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", c.year, c.month, c.day);
    return std::string(buf);
  };
  std::ostringstream ini;
  ini << std::setprecision(17);
  ini << "# Written by `vigie simulate --model sepp`: the simulated events on the case's grid, ready for\n"
         "# `vigie fit --config simulated.ini` (compare params.json with simulated_truth.json).\n\n"
         "[output]\ndir = fit\n\n[run]\nseed = "
      << config.getUInt("run.seed") << "\n\n[grid]\ncrs = EPSG:" << spec.epsg << "\nx0 = " << spec.x0
      << "\ny0 = " << spec.y0 << "\ncell_m = " << spec.cell << "\nnx = " << spec.nx << "\nny = " << spec.ny
      << "\nboundary = " << config.getString("grid.boundary") << "\n";
  const auto mask = config.getPath("grid.mask");
  if (!mask.empty()) ini << "mask = " << std::filesystem::absolute(mask).string() << "\n";
  if (config.getDouble("grid.mask_events_within_m") > 0.0)
    ini << "mask_events_within_m = " << config.getDouble("grid.mask_events_within_m") << "\n";
  ini << "\n[ingest]\nevents = simulated_events.csv\nprofile = simulated.profile.ini\ncategories = "
         "simulated\n"
         "bin = "
      << bin << "\ntimezone = UTC\ncoverage = " << iso(start_day) << "/" << iso(end_day)
      << "\n\n[models]\nenabled = sepp\n\n[sepp]\n# The simulated background is uniform: a wide smoother "
         "suits it.\nmu_bandwidth_m = 2000\nmax_iter = 500\n";
  writeFile(out / "simulated.ini", ini.str());
  nlohmann::json t;
  t["schema_version"] = 1;
  t["model"] = "sepp";
  t["seed"] = seed;
  t["theta"] = truth.params.theta;
  t["omega_per_day"] = truth.params.omega;
  t["sigma_x_m"] = truth.sigma_x_m;
  t["sigma_y_m"] = truth.sigma_y_m;
  t["background"] = params_file.empty() ? "uniform" : params_file.string();
  t["background_per_day"] = [&] {
    double s = 0.0;
    for (const double m : truth.mu) s += m;
    return s;
  }();
  t["days"] = t_end;
  t["start"] = iso(start_day);
  t["events"] = summary.events;
  t["background_events"] = summary.background;
  writeFile(out / "simulated_truth.json", t.dump(2) + "\n");
  return summary;
}

}  // namespace vigie::models::sepp
