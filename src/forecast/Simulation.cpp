#include "forecast/Simulation.hpp"

#include <cmath>
#include <iomanip>
#include <memory>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "forecast/ForecastDriver.hpp"
#include "grid/CityGrid.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"

namespace vigie::forecast {

using core::Error;
using core::ExitCode;

void Simulation::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("simulate.model", OptionType::String, "sepp",
           "model vigie simulate runs (--model NAME): sepp (events), or any model of the registry (fields)")
      .add("simulate.t_end", OptionType::Double, "365", "simulated time, days")
      .add("simulate.output_every", OptionType::Double, "1", "interval between field snapshots, days")
      .add("simulate.members", OptionType::Int, "1",
           "ensemble members; members after the first perturb the parameters of simulate.perturb")
      .add("simulate.perturb", OptionType::List, "",
           "ensemble perturbations key:s (e.g. short2008.eta:0.1): member m > 0 uses value * exp(s z), z "
           "standard normal from the stream (run.seed, m, key index)")
      .add("simulate.plot", OptionType::Bool, "true",
           "draw a PNG of the final fields with scripts/plot_field.py (/usr/bin/python3, h5py, matplotlib); "
           "a failure is a warning")
      .add("simulate.start", OptionType::String, "2024-01-01",
           "sepp: ISO date (UTC) of simulated time 0, for the events' timestamps")
      .add("simulate.bin", OptionType::String, "hour",
           "sepp: time bin of the configuration written beside the events (hour, day, week)")
      .add("simulate.background_per_day", OptionType::Double, "20",
           "sepp: background events per day over the whole active area, spread uniformly (ignored with "
           "simulate.params)")
      .add("simulate.theta", OptionType::Double, "0.5", "sepp: true branching ratio")
      .add("simulate.omega_per_day", OptionType::Double, "0.2", "sepp: true trigger decay rate, 1/day")
      .add("simulate.sigma_m", OptionType::Double, "150",
           "sepp: true trigger displacement SD along x, metres (and along y unless simulate.sigma_y_m >= 0)")
      .add("simulate.sigma_y_m", OptionType::Double, "-1",
           "sepp: true trigger displacement SD along y, metres (negative: the same as simulate.sigma_m)")
      .add("simulate.params", OptionType::Path, "",
           "sepp: a params.h5 of vigie fit whose background mu, theta, omega and sigma are the truth "
           "(covariates are not simulated)");
}

core::Config Simulation::memberConfig(const core::Config& config, int member, std::uint64_t seed) {
  if (member == 0) return config;
  std::vector<std::pair<std::string, std::string>> overrides;
  const auto items = config.getList("simulate.perturb");
  for (std::size_t k = 0; k < items.size(); ++k) {
    const auto colon = items[k].rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw Error(ExitCode::Usage, "simulate.perturb: '" + items[k] + "' is not key:relative_sd", true);
    const auto key = items[k].substr(0, colon);
    double s = 0.0;
    try {
      std::size_t used = 0;
      s = std::stod(items[k].substr(colon + 1), &used);
      if (used != items[k].size() - colon - 1) s = -1.0;
    } catch (const std::exception&) {
      s = -1.0;
    }
    if (!(s >= 0.0) || !std::isfinite(s))
      throw Error(ExitCode::Usage,
                  "simulate.perturb: '" + items[k] + "' needs a non-negative number after ':'", true);
    double value = 0.0;
    try {
      value = config.getDouble(key);
    } catch (const Error&) {
      throw Error(ExitCode::Usage, "simulate.perturb: '" + key + "' is not a numeric option", true);
    }
    core::RandomStream rng(seed, static_cast<std::uint64_t>(member), static_cast<std::uint32_t>(k));
    std::ostringstream v;
    v << std::setprecision(17) << value * std::exp(s * rng.normal());
    overrides.emplace_back(key, v.str());
  }
  return config.withOverrides(overrides);
}

SimulationSummary Simulation::run(const grid::CityGrid& grid, const core::Config& config,
                                  const core::Provenance& provenance, const std::filesystem::path& out) {
  const auto name = config.getString("simulate.model");
  const double t_end = config.getDouble("simulate.t_end");
  const double every = config.getDouble("simulate.output_every");
  const auto members = config.getInt("simulate.members");
  if (!(t_end > 0.0) || !std::isfinite(t_end))
    throw Error(ExitCode::Usage, "simulate.t_end must be a positive number of days", true);
  if (!(every > 0.0) || t_end / every > 100000.0)
    throw Error(ExitCode::Usage, "simulate.output_every must be positive and give at most 100000 snapshots",
                true);
  if (members < 1 || members > 10000)
    throw Error(ExitCode::Usage, "simulate.members must be in 1..10000", true);

  SimulationSummary summary;
  summary.output_file = out / ("simulate_" + name + ".h5");
  summary.members = static_cast<int>(members);
  const auto& box = grid.ownedBox();
  const auto cells = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  const auto n_out = static_cast<long>(std::floor(t_end / every + 1e-9));
  std::vector<double> times;

  auto file = store::FieldFile::create(grid.comm(), summary.output_file, grid.geometry());
  writeProvenance(file, provenance);
  file.write2d<std::uint8_t>("mask", box, grid.ownedMask(),
                             store::FieldMeta{"1", "1 where the cell is inside the study area", 0});
  std::vector<double> mean;
  std::vector<double> buf(cells);
  for (int m = 0; m < summary.members; ++m) {
    const auto member_config = memberConfig(config, m, provenance.seed);
    const std::uint64_t seed = provenance.seed + static_cast<std::uint64_t>(m) * 0x9E3779B97F4A7C15ULL;
    const models::ModelContext context{grid, member_config, seed};
    const auto model = models::ModelRegistry::instance().create(name, context);
    const std::string prefix =
        m == 0 ? std::string() : std::string("m").append(std::to_string(m)).append(".");
    auto names = model->stateNames();
    names.emplace_back("intensity");
    int snapshot = 0;
    const auto record = [&](double t) {
      for (const auto& s : names) {
        std::fill(buf.begin(), buf.end(), 0.0);
        if (s == "intensity") {
          model->contributeIntensity(buf);
        } else {
          model->getState(s, buf);
        }
        const auto field = prefix + s;
        const store::FieldMeta meta{
            s == "intensity" ? "events/cell/day" : "",
            s == "intensity" ? "expected events per cell per day" : "state " + s + " of model " + name, 0.0};
        if (snapshot == 0) {
          file.create3dExtendible<double>(field, 1, box, buf, meta);
        } else {
          file.extend3d(field, snapshot + 1);
          file.writeSlab3d<double>(field, snapshot, 1, box, buf);
        }
        if (s == "intensity" && summary.members > 1) {
          if (mean.empty()) mean.assign(static_cast<std::size_t>(n_out + 2) * cells, 0.0);
          for (std::size_t c = 0; c < cells; ++c)
            mean[static_cast<std::size_t>(snapshot) * cells + c] +=
                buf[c] / static_cast<double>(summary.members);
        }
      }
      if (m == 0) times.push_back(t);
      ++snapshot;
    };
    double t = 0.0;
    record(t);
    for (long k = 1; t < t_end; ++k) {
      const double t_next = k <= n_out ? std::min(static_cast<double>(k) * every, t_end) : t_end;
      model->advance(t, t_next);
      t = t_next;
      record(t);
      VIGIE_LOG_DEBUG("simulate " << name << " member " << m << ": day " << t << " / " << t_end);
    }
    summary.snapshots = snapshot;
    summary.diagnostics.push_back(model->diagnostics());
    VIGIE_LOG_INFO("simulate " << name << ": member " << m + 1 << " of " << summary.members << " done");
  }
  if (summary.members > 1) {
    mean.resize(static_cast<std::size_t>(summary.snapshots) * cells);
    file.write3d<double>("ensemble_mean_intensity", summary.snapshots, box, mean,
                         store::FieldMeta{"events/cell/day", "ensemble mean of the members' intensity", 0.0});
  }
  std::ostringstream ts;
  ts << std::setprecision(17);
  for (std::size_t k = 0; k < times.size(); ++k) ts << (k ? "," : "") << times[k];
  file.setAttribute("times_days", ts.str());
  file.setAttribute("model", name);
  file.setAttribute("members", static_cast<std::int64_t>(summary.members));
  file.commit();
  return summary;
}

}  // namespace vigie::forecast
