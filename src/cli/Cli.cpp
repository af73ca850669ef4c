#include "cli/Cli.hpp"

#include <mpi.h>

#include <iostream>
#include <sstream>

#include "cli/Subcommands.hpp"
#include "core/Environment.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "forecast/Forecast.hpp"
#include "forecast/ForecastDriver.hpp"
#include "forecast/Simulation.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/IngestPipeline.hpp"
#include "models/ModelRegistry.hpp"
#include "scenario/ScenarioRun.hpp"
#include "verify/Backtest.hpp"
#include "verify/ExternalScore.hpp"
#include "verify/OffsetBand.hpp"
#include "vigie/GitHash.hpp"
#include "watch/Watch.hpp"

namespace vigie::cli {

using core::Error;
using core::ExitCode;

namespace {

constexpr const char* kUsage =
    R"(Vigie: spatio-temporal incident forecasting on a city grid (MPI + OpenMP + PETSc + HDF5).

Usage:
  vigie <subcommand> --config FILE.ini [--section.key=value | --section.key value ...] [-petsc_option ...]
  vigie audit verify FILE
  vigie --help | --help-config | --version

Subcommands:
  run            the main job: ingest (when needed), backtest (when backtest.json is missing or stale), fit
                 sepp when enabled, forecast; a case without ingest.events instead advances the enabled
                 models over run.horizon_days and writes <output.dir>/vigie_run.h5 (+ .xmf)
  forecast       forecast maps for each horizon of forecast.horizons from obs.h5: expected count, P(>= 1) and
                 ensemble percentiles per cell in <output.dir>/forecast/ (HDF5 + XDMF, GeoTIFF, PNG, GeoJSON,
                 CSV per area, summary.md); SIGTERM writes a checkpoint and exits 8, --restart resumes
  ingest         read the event files of ingest.events into <output.dir>/obs.h5 (counts per category, cell and
                 time bin, covariates); --append adds newer events to an existing store, idempotently
  backtest       score every enabled model and the baselines on rolling windows of obs.h5; write
                 <output.dir>/backtest.json and backtest.md (pooled scores, skill with bootstrap intervals)
  fit            fit the sepp model (self-exciting point process with covariates) to obs.h5 by EM; write
                 <output.dir>/params.h5 and params.json; print the factor table and the goodness of fit
  simulate       --model sepp: events from a known self-exciting process on the case's grid, written as a
                 case to fit (simulated.ini); --model short2008|agents|...: the model's fields over
                 simulate.t_end as HDF5 + XDMF time series (ensembles: simulate.members), then its
                 diagnostics as name=value lines; SIGTERM writes a checkpoint and exits 8, --restart resumes
  score          score a forecast made by another tool (--forecast FILE: HDF5 [ny][nx] or CSV cell,intensity)
                 over --window START/END against obs.h5, with the backtest's code; write <output.dir>/score.json
  scenario       --scenario FILE.ini: the baseline and the scenario (events, weather, works, patrols) as
                 paired ensembles over the scenario's window, split over scenario.groups member groups; write
                 <output.dir>/scenario/ (delta.h5 + .xmf with 10/50/90% delta maps, scenario.json,
                 scenario.md, map_scenario.png)
  watch          --stream PATH|-: append new event rows from stdin, a FIFO or a growing file to the store
                 (journaled, idempotent); once per cycle of data time (watch.cycle_bins bins) assimilate the
                 counts (LETKF), scan for clusters the forecast did not expect and refresh the forecast; write
                 <output.dir>/alerts.jsonl, alerts.geojson and watch/ (forecast.h5, cycles.jsonl, watch.json);
                 resumes from watch/state.h5 when started again; SIGTERM stops after the cycle, exit 8
  check-config   parse and validate the configuration and the grid; print the effective configuration
  audit verify   check the hash chain of an audit.jsonl file (exit 6 if it was edited, reordered or cut)

Options on the command line replace the file's values; single-dash options go to PETSc (e.g. -log_view).
Every subcommand takes --quiet (log warnings and errors only) and --json-log (each log line a JSON object).
Every subcommand but `audit verify` (which only reads) writes under output.dir and appends a record to
<output.dir>/audit.jsonl.
Exit codes: 0 ok, 1 internal error, 2 usage/config error, 3 input data error, 4 output error,
            5 output.dir locked by another run, 6 audit verification failed, 7 numerical failure,
            8 interrupted by SIGTERM/SIGINT after writing a checkpoint.
)";

bool isLongOption(const std::string& s) {
  return s.size() > 2 && s[0] == '-' && s[1] == '-';
}
bool isShortOption(const std::string& s) {
  return s.size() > 1 && s[0] == '-' && s[1] != '-' && !(s[1] >= '0' && s[1] <= '9') && s[1] != '.';
}

}  // namespace

core::OptionSet buildOptionSet() {
  core::OptionSet options;
  options.add("output.dir", core::OptionType::Path, "out", "folder every output of the run is written under")
      .add("run.seed", core::OptionType::UInt, "20170101",
           "seed of every random stream (streams are keyed by seed, global id and step)");
  grid::CityGrid::declareOptions(options);
  forecast::ForecastDriver::declareOptions(options);
  forecast::Forecast::declareOptions(options);
  scenario::ScenarioRun::declareOptions(options);
  watch::Watch::declareOptions(options);
  ingest::IngestPipeline::declareOptions(options);
  models::ModelRegistry::instance().declareOptions(options);
  verify::Backtest::declareOptions(options);
  verify::OffsetBand::declareOptions(options);
  forecast::Simulation::declareOptions(options);
  verify::ExternalScore::declareOptions(options);
  return options;
}

CommandLine splitCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  const auto options = buildOptionSet();
  std::ostringstream original;
  for (int k = 0; k < argc; ++k) original << (k ? " " : "") << argv[k];
  cl.original = original.str();
  for (int k = 1; k < argc; ++k) {
    const std::string tok = argv[k];
    const bool has_next = k + 1 < argc;
    if (tok == "--") throw Error(ExitCode::Usage, "command line: a bare '--' is not accepted");
    if (isLongOption(tok)) {
      const auto eq = tok.find('=');
      std::string key = tok.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      // `vigie score --forecast F --window A/B`, as the subcommand is documented, are score.* options.
      if (key == "forecast" || key == "window") key = "score." + key;
      // `vigie simulate --model NAME` likewise.
      if (key == "model") key = "simulate.model";
      if (key == "scenario") key = "scenario.file";
      // `vigie watch --stream PATH|-`.
      if (key == "stream") key = "watch.stream";
      if (key == "help" || key == "help-config" || key == "version" || key == "append" || key == "restart" ||
          key == "quiet" || key == "json-log") {
        if (eq != std::string::npos)
          throw Error(ExitCode::Usage, "command line: --" + key + " takes no value");
        (key == "help"       ? cl.help
         : key == "version"  ? cl.version
         : key == "append"   ? cl.append
         : key == "restart"  ? cl.restart
         : key == "quiet"    ? cl.quiet
         : key == "json-log" ? cl.json_log
                             : cl.help_config) = true;
        continue;
      }
      std::string value;
      if (eq != std::string::npos) {
        value = tok.substr(eq + 1);
      } else if (has_next && !isLongOption(argv[k + 1])) {
        value = argv[++k];
      } else {
        throw Error(ExitCode::Usage, "command line: option --" + key + " needs a value");
      }
      if (key == "config") {
        if (!cl.config_file.empty()) throw Error(ExitCode::Usage, "command line: --config given twice");
        cl.config_file = value;
      } else if (options.find(key) == nullptr) {
        throw Error(ExitCode::Usage, "command line: unknown option --" + key + " (see vigie --help-config)");
      } else {
        for (const auto& [k2, v2] : cl.overrides) {
          if (k2 == key) throw Error(ExitCode::Usage, "command line: --" + key + " given twice");
        }
        cl.overrides.emplace_back(key, value);
      }
    } else if (isShortOption(tok)) {
      // A PETSc option, with its value when the next token is not an option.
      cl.petsc_args.push_back(tok);
      if (has_next && !isLongOption(argv[k + 1]) && !isShortOption(argv[k + 1]) && !cl.positional.empty())
        cl.petsc_args.emplace_back(argv[++k]);
    } else {
      cl.positional.push_back(tok);
    }
  }
  return cl;
}

int main(int argc, char** argv) {
  CommandLine cl;
  // --json-log before the split, so that an error in the rest of the command line is a JSON line already.
  for (int k = 1; k < argc; ++k) {
    if (std::string(argv[k]) == "--json-log") core::setLogFormat(core::LogFormat::Json);
  }
  try {
    cl = splitCommandLine(argc, argv);
  } catch (const Error& e) {
    core::logFinalError(e.what());
    return static_cast<int>(e.code());
  }
  if (cl.quiet && core::logLevel() < core::LogLevel::Warning) core::setLogLevel(core::LogLevel::Warning);
  if (cl.version) {
    std::cout << "vigie " << core::kVersion << " (git " << core::kGitHash << ")\n";
    return 0;
  }
  if (cl.help) {
    std::cout << kUsage;
    return 0;
  }
  if (cl.help_config) {
    std::cout << buildOptionSet().markdown();
    return 0;
  }
  if (cl.positional.empty()) {
    std::cerr << kUsage << "\nvigie: no subcommand given\n";
    return static_cast<int>(ExitCode::Usage);
  }

  int code = 0;
  core::Environment env(argc, argv, cl.petsc_args);
  try {
    code = runSubcommand(env, cl);
  } catch (const Error& e) {
    code = static_cast<int>(e.code());
    if (e.collective()) {
      // Every rank threw the same error: report once and finalise cleanly.
      if (env.rank() == 0) core::logFinalError(e.what());
    } else {
      VIGIE_LOG_ERROR(e.what());
      MPI_Abort(MPI_COMM_WORLD, code);
    }
  } catch (const std::exception& e) {
    // A throw on one rank would otherwise leave the others waiting in a collective.
    VIGIE_LOG_ERROR("internal error: " << e.what());
    MPI_Abort(MPI_COMM_WORLD, static_cast<int>(ExitCode::Internal));
  }
  return code;
}

}  // namespace vigie::cli
