#include "forecast/Simulation.hpp"

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <memory>
#include <optional>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Interrupt.hpp"
#include "core/Log.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "forecast/ForecastDriver.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Coverage.hpp"
#include "ingest/TimeBinning.hpp"
#include "models/ModelRegistry.hpp"
#include "models/agents/AgentModel.hpp"
#include "models/short2008/Short2008Model.hpp"
#include "scenario/ScenarioSpec.hpp"
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
      .add("simulate.checkpoint_every", OptionType::Int, "0",
           "write <output.dir>/checkpoint_<model>.h5 every N snapshots (all members counted; 0: only when "
           "stopped by SIGTERM/SIGINT), from which vigie simulate --restart resumes with an identical result")
      .add("simulate.plot", OptionType::Bool, "true",
           "draw a PNG of the final fields with scripts/plot_field.py (/usr/bin/python3, h5py, matplotlib); "
           "a failure is a warning")
      .add("simulate.start", OptionType::String, "2024-01-01",
           "ISO date of simulated time 0: sepp: UTC, for the events' timestamps; short2008 and agents with "
           "--scenario: local midnight in ingest.timezone, to place the scenario's events in model days")
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

namespace {

/// Metadata of output dataset `state` (a state name or "intensity") of model `model`.
store::FieldMeta outputMeta(const std::string& state, const std::string& model) {
  return store::FieldMeta{
      state == "intensity" ? "events/cell/day" : "",
      state == "intensity" ? "expected events per cell per day" : "state " + state + " of model " + model,
      0.0};
}

/// The state or "intensity" an output dataset holds: its name without the member prefix "m<k>.".
std::string stateOfField(const std::string& field) {
  if (field.size() > 2 && field[0] == 'm' && field[1] >= '0' && field[1] <= '9') {
    const auto dot = field.find('.');
    if (dot != std::string::npos && field.find_first_not_of("0123456789", 1) == dot)
      return field.substr(dot + 1);
  }
  return field;
}

/// Collective. Whether to resume: --restart, or a scheduler's requeue (SLURM_RESTART_COUNT > 0) that finds a
/// checkpoint. Rank 0 looks at the file system and tells the others, so that they cannot disagree.

/// A scenario's event in model days (vigie simulate --scenario; docs/scenarios.md, "Crowds in the
/// simulators").
struct CrowdForcing {
  std::string name;
  double t_start = 0, t_end = 0;     ///< the event's [start, end)
  double t_on = 0, t_off = 0;        ///< [start - pre_hours, end + post_hours)
  double a0_factor = 1;              ///< 1 + effect (crowd / 10000)^scenario.a0_elasticity
  std::int64_t agents = 0;           ///< round(crowd scenario.agents_per_person)
  std::vector<std::uint8_t> inside;  ///< owned box: cells whose centre is in the area
  std::vector<std::int64_t> cells;   ///< agents: active cells in the area, global indices ascending
};

/// Collective. The events of scenario.file as they act on model `model` over [0, t_end) days (empty without
/// a scenario file). Day 0 is local midnight of simulate.start in ingest.timezone. Error(Usage) for a
/// scenario with a model other than short2008 and agents, a bad option, or an A0 factor that is not positive.
std::vector<CrowdForcing> crowdForcings(const grid::CityGrid& grid, const core::Config& config,
                                        const std::string& model, double t_end) {
  const auto file = config.getPath("scenario.file");
  if (file.empty()) return {};
  if (model != "short2008" && model != "agents")
    throw Error(
        ExitCode::Usage,
        "scenario.file: vigie simulate applies a scenario to --model short2008 or agents only, not " + model,
        true);
  const double elasticity = config.getDouble("scenario.a0_elasticity");
  const double per_person = config.getDouble("scenario.agents_per_person");
  if (!(elasticity >= 0.0) || !std::isfinite(elasticity))
    throw Error(ExitCode::Usage, "scenario.a0_elasticity must be a finite number >= 0", true);
  if (!(per_person >= 0.0) || !std::isfinite(per_person))
    throw Error(ExitCode::Usage, "scenario.agents_per_person must be a finite number >= 0", true);
  const ingest::TimeZone zone(config.getString("ingest.timezone"));
  const auto start = config.getString("simulate.start");
  const std::int64_t utc0 = zone.toUtc(ingest::parseIsoDay(start, "simulate.start") * 86400);
  const auto spec = scenario::ScenarioSpec::read(file, zone, grid);
  if (!spec.weather.empty() || !spec.public_holidays.empty() || !spec.works.empty() ||
      !spec.interventions.empty())
    VIGIE_LOG_WARN(
        "simulate " << model << ": " << file.string()
                    << ": only the [event.*] sections act on the simulators; [weather], [calendar], "
                       "works and interventions are ignored");
  const auto days = [&](std::int64_t utc) { return static_cast<double>(utc - utc0) / 86400.0; };
  std::vector<std::uint8_t> global_mask;
  if (model == "agents") global_mask = grid.globalMask();
  std::vector<CrowdForcing> out;
  for (const auto& e : spec.events) {
    CrowdForcing f;
    f.name = e.name;
    f.t_start = days(e.when.start_utc);
    f.t_end = days(e.when.end_utc);
    f.t_on = f.t_start - e.pre_hours / 24.0;
    f.t_off = f.t_end + e.post_hours / 24.0;
    f.a0_factor = 1.0 + e.effect * std::pow(e.crowd / 10000.0, elasticity);
    f.agents = std::llround(e.crowd * per_person);
    if (model == "short2008" && !(f.a0_factor > 0.0 && std::isfinite(f.a0_factor)))
      throw Error(ExitCode::Usage,
                  file.string() + ": [event." + e.name +
                      "]: the A0 factor 1 + effect (crowd / 10000)^scenario.a0_elasticity is not positive",
                  true);
    f.inside = e.area.cells(grid, grid.ownedBox());
    if (model == "agents") {
      const int nx = grid.nx();
      const int ny = grid.ny();
      const auto all = e.area.cells(grid, store::Box{0, 0, nx, ny});
      for (std::size_t c = 0; c < all.size(); ++c)
        if (all[c] != 0 && global_mask[c] != 0) f.cells.push_back(static_cast<std::int64_t>(c));
      if (f.cells.empty() && f.agents > 0) {
        VIGIE_LOG_WARN("simulate agents: [event." << e.name << "] covers no active cell: it adds no agents");
        f.agents = 0;
      }
    }
    const bool acts =
        model == "short2008" ? (f.t_off > 0.0 && f.t_on < t_end) : (f.t_start >= 0.0 && f.t_start < t_end);
    if (!acts) {
      VIGIE_LOG_WARN("simulate " << model << ": [event." << e.name << "] (" << e.when.start_iso << " to "
                                 << e.when.end_iso << ") is outside the simulated days [0, " << t_end
                                 << ") from simulate.start " << start << ": it does not act");
    } else if (model == "short2008") {
      VIGIE_LOG_INFO("simulate short2008: [event." << e.name << "] multiplies A0 by " << f.a0_factor
                                                   << " inside " << e.area.text() << " over days [" << f.t_on
                                                   << ", " << f.t_off << ")");
    } else {
      VIGIE_LOG_INFO("simulate agents: [event." << e.name << "] adds " << f.agents << " agents on "
                                                << f.cells.size() << " cells of " << e.area.text()
                                                << " at day " << f.t_start << ", removed at day " << f.t_off);
    }
    out.push_back(std::move(f));
  }
  return out;
}

/// Collective. Hands the forcings to the model (short2008: A0 pulses; agents: crowds).
void applyForcings(models::Model& model, const std::vector<CrowdForcing>& forcings) {
  if (auto* pde = dynamic_cast<models::Short2008Model*>(&model)) {
    std::vector<models::Short2008Model::A0Pulse> pulses;
    for (const auto& f : forcings) pulses.push_back({f.t_on, f.t_off, f.a0_factor, f.inside});
    pde->setA0Pulses(std::move(pulses));
  } else if (auto* agents = dynamic_cast<models::AgentModel*>(&model)) {
    std::vector<models::AgentModel::Crowd> crowds;
    for (const auto& f : forcings) crowds.push_back({f.t_start, f.t_off, f.agents, f.cells});
    agents->setCrowds(std::move(crowds));
  } else {
    throw Error(ExitCode::Internal, "simulate: scenario forcings for a model that takes none");
  }
}

}  // namespace

SimulationSummary Simulation::run(const grid::CityGrid& grid, const core::Config& config,
                                  const core::Provenance& provenance, const std::filesystem::path& out,
                                  bool restart) {
  const auto name = config.getString("simulate.model");
  const double t_end = config.getDouble("simulate.t_end");
  const double every = config.getDouble("simulate.output_every");
  const auto members = config.getInt("simulate.members");
  const auto checkpoint_every = config.getInt("simulate.checkpoint_every");
  if (!(t_end > 0.0) || !std::isfinite(t_end))
    throw Error(ExitCode::Usage, "simulate.t_end must be a positive number of days", true);
  if (!(every > 0.0) || t_end / every > 100000.0)
    throw Error(ExitCode::Usage, "simulate.output_every must be positive and give at most 100000 snapshots",
                true);
  if (members < 1 || members > 10000)
    throw Error(ExitCode::Usage, "simulate.members must be in 1..10000", true);
  if (checkpoint_every < 0)
    throw Error(ExitCode::Usage, "simulate.checkpoint_every must be >= 0 (0: no periodic checkpoints)", true);
  // Read and checked before any output is created.
  const auto forcings = crowdForcings(grid, config, name, t_end);

  SimulationSummary summary;
  summary.output_file = out / ("simulate_" + name + ".h5");
  summary.members = static_cast<int>(members);
  const auto checkpoint_path = out / ("checkpoint_" + name + ".h5");
  const auto& box = grid.ownedBox();
  const auto cells = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  const auto n_out = static_cast<long>(std::floor(t_end / every + 1e-9));
  const core::StopSignals stop_signals;
  std::vector<double> times;

  // Held in an optional so that a stop can close (and so delete) the unfinished output before it throws.
  std::optional<store::FieldFile> output;
  output.emplace(store::FieldFile::create(grid.comm(), summary.output_file, grid.geometry()));
  auto& file = *output;
  writeProvenance(file, provenance);
  file.write2d<std::uint8_t>("mask", box, grid.ownedMask(),
                             store::FieldMeta{"1", "1 where the cell is inside the study area", 0});
  std::vector<double> mean;
  if (summary.members > 1) mean.assign(static_cast<std::size_t>(n_out + 2) * cells, 0.0);
  std::vector<double> buf(cells);

  // Where the run starts: member first_member at snapshot first_snapshot (0: from the model's initial state),
  // after `recorded` snapshots of all members. A resumed run copies the output so far out of the checkpoint.
  int first_member = 0;
  int first_snapshot = 0;
  std::int64_t recorded = 0;
  if (core::shouldResume(grid.comm(), checkpoint_path, restart)) {
    const auto cp = store::FieldFile::open(grid.comm(), checkpoint_path);
    const auto geometry = cp.geometry();
    if (cp.stringAttribute("checkpoint.model") != name ||
        cp.intAttribute("checkpoint.members") != summary.members ||
        cp.doubleAttribute("checkpoint.t_end") != t_end ||
        cp.doubleAttribute("checkpoint.output_every") != every ||
        cp.intAttribute("checkpoint.seed") != static_cast<std::int64_t>(provenance.seed) ||
        geometry.nx != grid.geometry().nx || geometry.ny != grid.geometry().ny)
      throw Error(ExitCode::Usage,
                  checkpoint_path.string() +
                      " was written by a run with another model, grid, seed, simulate.t_end, "
                      "simulate.output_every or simulate.members; remove it or restore those settings",
                  true);
    first_member = static_cast<int>(cp.intAttribute("checkpoint.member"));
    first_snapshot = static_cast<int>(cp.intAttribute("checkpoint.snapshot"));
    recorded = cp.intAttribute("checkpoint.recorded");
    times = cp.read1d<double>("checkpoint/times");
    for (const auto& field : cp.childNames("checkpoint/output")) {
      int nt = 0;
      const auto planes = cp.read3d<double>("checkpoint/output/" + field, box, &nt);
      file.create3dExtendible<double>(field, nt, box, planes, outputMeta(stateOfField(field), name));
    }
    if (summary.members > 1) mean = cp.read3d<double>("checkpoint/ensemble_mean_partial", box, nullptr);
    if (cp.hasField("checkpoint/diagnostic_values")) {
      const auto labels = cp.readStrings1d("checkpoint/diagnostic_names");
      const auto values = cp.read1d<double>("checkpoint/diagnostic_values");
      const auto member_of = cp.read1d<std::int32_t>("checkpoint/diagnostic_members");
      summary.diagnostics.resize(static_cast<std::size_t>(first_member));
      for (std::size_t k = 0; k < labels.size(); ++k)
        summary.diagnostics.at(static_cast<std::size_t>(member_of[k])).emplace_back(labels[k], values[k]);
    }
    summary.diagnostics.resize(static_cast<std::size_t>(first_member));
    VIGIE_LOG_INFO("simulate " << name << ": resuming member " << first_member << " at snapshot "
                               << first_snapshot << " from " << checkpoint_path.string());
  }

  bool stopped = false;
  for (int m = first_member; m < summary.members; ++m) {
    const auto member_config = memberConfig(config, m, provenance.seed);
    const std::uint64_t seed = provenance.seed + static_cast<std::uint64_t>(m) * 0x9E3779B97F4A7C15ULL;
    const models::ModelContext context{grid, member_config, seed};
    const auto model = models::ModelRegistry::instance().create(name, context);
    if (!forcings.empty()) applyForcings(*model, forcings);
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
        if (snapshot == 0) {
          file.create3dExtendible<double>(field, 1, box, buf, outputMeta(s, name));
        } else {
          file.extend3d(field, snapshot + 1);
          file.writeSlab3d<double>(field, snapshot, 1, box, buf);
        }
        if (s == "intensity" && summary.members > 1) {
          for (std::size_t c = 0; c < cells; ++c)
            mean[static_cast<std::size_t>(snapshot) * cells + c] +=
                buf[c] / static_cast<double>(summary.members);
        }
      }
      if (m == 0) times.push_back(t);
      ++snapshot;
    };
    // Collective. Writes <out>/checkpoint_<model>.h5 (through a temporary file and a rename, so a crash keeps
    // the previous one): this member's model state, where the run is, and a copy of the output so far, from
    // which a restart rebuilds the output file exactly. Copying the output makes each checkpoint cost the
    // output size so far; in exchange the checkpoint is one self-contained file, valid at any rank count.
    const auto write_checkpoint = [&]() {
      auto cp = store::FieldFile::create(grid.comm(), checkpoint_path, grid.geometry());
      model->saveCheckpoint(cp);
      cp.setAttribute("checkpoint.model", name);
      cp.setAttribute("checkpoint.members", static_cast<std::int64_t>(summary.members));
      cp.setAttribute("checkpoint.t_end", t_end);
      cp.setAttribute("checkpoint.output_every", every);
      cp.setAttribute("checkpoint.seed", static_cast<std::int64_t>(provenance.seed));
      cp.setAttribute("checkpoint.member", static_cast<std::int64_t>(m));
      cp.setAttribute("checkpoint.snapshot", static_cast<std::int64_t>(snapshot));
      cp.setAttribute("checkpoint.recorded", recorded);
      cp.write1d<double>("checkpoint/times", times, store::FieldMeta{"d", "snapshot times so far", 0.0});
      for (const auto& field : file.fieldNames()) {
        if (field == "mask") continue;
        int nt = 0;
        const auto planes = file.read3d<double>(field, box, &nt);
        cp.write3d<double>("checkpoint/output/" + field, nt, box, planes,
                           outputMeta(stateOfField(field), name));
      }
      if (summary.members > 1)
        cp.write3d<double>("checkpoint/ensemble_mean_partial", static_cast<int>(n_out + 2), box, mean,
                           store::FieldMeta{"events/cell/day", "partial sum of the ensemble mean", 0.0});
      std::vector<std::string> labels;
      std::vector<double> values;
      std::vector<std::int32_t> member_of;
      for (std::size_t mm = 0; mm < summary.diagnostics.size(); ++mm) {
        for (const auto& [label, value] : summary.diagnostics[mm]) {
          labels.push_back(label);
          values.push_back(value);
          member_of.push_back(static_cast<std::int32_t>(mm));
        }
      }
      if (!labels.empty()) {
        cp.writeStrings1d("checkpoint/diagnostic_names", labels);
        cp.write1d<double>("checkpoint/diagnostic_values", values, store::FieldMeta{});
        cp.write1d<std::int32_t>("checkpoint/diagnostic_members", member_of, store::FieldMeta{});
      }
      cp.commit();
    };
    // Collective. After each snapshot: the fault hook, the stop poll (every rank learns of a signal any rank
    // got) and the periodic checkpoint; returns whether to stop. A stop at the run's last snapshot is
    // ignored: the run is complete.
    const auto after_snapshot = [&](bool last) {
      ++recorded;
      core::faultPoint("simulate", recorded);
      const bool stop = core::stopRequested(grid.comm()) && !last;
      if (stop || (checkpoint_every > 0 && recorded % checkpoint_every == 0 && !last)) write_checkpoint();
      return stop;
    };
    double t = 0.0;
    long k = 1;
    if (m == first_member && first_snapshot > 0) {
      const auto cp = store::FieldFile::open(grid.comm(), checkpoint_path);
      model->loadCheckpoint(cp);
      t = model->time();
      snapshot = first_snapshot;
      k = first_snapshot;
    } else {
      record(t);
      stopped = after_snapshot(m + 1 == summary.members && !(t < t_end));
    }
    for (; t < t_end && !stopped; ++k) {
      const double t_next = k <= n_out ? std::min(static_cast<double>(k) * every, t_end) : t_end;
      model->advance(t, t_next);
      t = t_next;
      record(t);
      VIGIE_LOG_DEBUG("simulate " << name << " member " << m << ": day " << t << " / " << t_end);
      stopped = after_snapshot(m + 1 == summary.members && !(t < t_end));
    }
    if (stopped) {
      std::ostringstream what;
      what << "simulate " << name << ": stopped at snapshot " << snapshot << " of member " << m
           << " (checkpoint written to " << checkpoint_path.string() << "; rerun with --restart)";
      VIGIE_LOG_WARN(what.str());
      output.reset();
      throw Error(ExitCode::Interrupted, what.str(), true);
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
  // The run is complete: a checkpoint left behind would make a requeued job resume a finished run.
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(grid.comm(), &rank));
  if (rank == 0) {
    std::error_code ignored;
    std::filesystem::remove(checkpoint_path, ignored);
    std::filesystem::remove(std::filesystem::path(checkpoint_path.string() + ".xmf"), ignored);
  }
  return summary;
}

}  // namespace vigie::forecast
