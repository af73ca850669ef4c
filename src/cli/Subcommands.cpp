#include "cli/Subcommands.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "audit/AuditLog.hpp"
#include "core/Environment.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/OutputDir.hpp"
#include "core/Provenance.hpp"
#include "core/Timer.hpp"
#include "forecast/Forecast.hpp"
#include "forecast/ForecastDriver.hpp"
#include "forecast/Predictor.hpp"
#include "forecast/Simulation.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/IngestPipeline.hpp"
#include "models/factors/EventFactors.hpp"
#include "models/sepp/SeppFit.hpp"
#include "models/sepp/SeppInputs.hpp"
#include "models/sepp/SeppModel.hpp"
#include "models/sepp/SeppReport.hpp"
#include "models/sepp/SeppSimulateCase.hpp"
#include "scenario/ScenarioRun.hpp"
#include "store/FieldFile.hpp"
#include "verify/Backtest.hpp"
#include "verify/ExternalScore.hpp"
#include "verify/OffsetBand.hpp"
#include "watch/Watch.hpp"

namespace vigie::cli {

using core::Error;
using core::ExitCode;

namespace {

/// The input files a configuration names: the config itself and every path option that is a file.
std::vector<std::filesystem::path> inputFiles(const core::OptionSet& options, const core::Config& config) {
  std::vector<std::filesystem::path> files;
  if (!config.file().empty()) files.push_back(config.file());
  for (const auto& [key, spec] : options.specs()) {
    if (key == "output.dir") continue;
    std::vector<std::filesystem::path> candidates;
    if (spec.type == core::OptionType::Path) candidates.push_back(config.getPath(key));
    if (spec.type == core::OptionType::List) candidates = config.getPathList(key);
    for (const auto& p : candidates) {
      std::error_code ec;
      if (!p.empty() && std::filesystem::is_regular_file(p, ec)) files.push_back(p);
    }
  }
  return files;
}

/// Everything a subcommand needs, set up in the same order by each: config, lock, provenance, audit.
class Session {
 public:
  Session(const core::Environment& env, const CommandLine& cl, std::string name)
      : m_env(env),
        m_name(std::move(name)),
        m_options(buildOptionSet()),
        m_config(core::Config::parse(m_options, cl.config_file, cl.overrides)),
        m_started(core::utcNowIso()) {
    if (cl.config_file.empty())
      throw Error(ExitCode::Usage, "vigie " + m_name + " needs --config FILE.ini", true);
    m_out = std::make_unique<core::OutputDir>(env.comm(), m_config.getPath("output.dir"));
    m_provenance = core::Provenance::collect(env.comm(), m_config, cl.original);
  }

  /// Not collective (only rank 0 writes; other ranks return at once). Appends the audit record once the
  /// subcommand has finished or failed.
  void finish(int exit_code, const std::vector<std::string>& outputs, const nlohmann::json& extra) {
    if (m_env.rank() != 0) return;
    audit::AuditRecord r;
    r.subcommand = m_name;
    r.config_hash = audit::sha256Hex(m_provenance.config_text);
    for (const auto& f : inputFiles(m_options, m_config))
      r.inputs.emplace_back(f.string(), audit::sha256File(f));
    r.outputs = outputs;
    r.git_hash = m_provenance.git_hash;
    r.seed = m_provenance.seed;
    r.ranks = m_provenance.ranks;
    r.threads = m_provenance.threads;
    r.exit_code = exit_code;
    r.started_utc = m_started;
    r.finished_utc = core::utcNowIso();
    r.extra = extra;
    audit::AuditLog(m_out->file("audit.jsonl")).append(r);
  }

  [[nodiscard]] const core::Config& config() const { return m_config; }
  [[nodiscard]] const core::OutputDir& out() const { return *m_out; }
  [[nodiscard]] const core::Provenance& provenance() const { return m_provenance; }

 private:
  const core::Environment& m_env;
  std::string m_name;
  core::OptionSet m_options;
  core::Config m_config;
  std::string m_started;
  std::unique_ptr<core::OutputDir> m_out;
  core::Provenance m_provenance;
};

/// Runs `body` and appends the audit record whether it succeeds or throws a collective error.
template <class Body>
int audited(Session& session, Body&& body) {
  std::vector<std::string> outputs;
  nlohmann::json extra = nlohmann::json::object();
  try {
    body(outputs, extra);
  } catch (const Error& e) {
    if (e.collective()) {
      extra["error"] = e.what();
      session.finish(static_cast<int>(e.code()), outputs, extra);
    }
    throw;
  }
  session.finish(0, outputs, extra);
  return 0;
}

/// Collective. Prints every model's diagnostics as `name=value` lines on standard output (rank 0), after
/// everything else, so a script can read the last line.
void printDiagnostics(const core::Environment& env, const std::vector<models::Model*>& models) {
  for (const auto* m : models) {
    for (const auto& [name, value] : m->diagnostics()) {
      if (env.rank() == 0) std::cout << name << "=" << std::setprecision(10) << value << "\n";
    }
  }
  if (env.rank() == 0) std::cout << std::flush;
}

/// Rank 0 only. A subcommand's result text for people: standard output, or log lines under --json-log (so a
/// batch system reading JSON sees nothing else).
void printResult(const std::string& text) {
  if (core::logFormat() == core::LogFormat::Json) {
    std::istringstream is(text);
    for (std::string line; std::getline(is, line);) {
      if (!line.empty()) VIGIE_LOG_INFO(line);
    }
    return;
  }
  std::cout << text << std::flush;
}

int cmdIngest(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, cl.append ? "ingest --append" : "ingest");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    grid::CityGrid grid(env.comm(), grid::CityGrid::specFromConfig(session.config()));
    const auto s = ingest::IngestPipeline::run(session.config(), grid, session.out().path(), cl.append,
                                               session.provenance());
    VIGIE_LOG_INFO(ingest::IngestPipeline::describe(s));
    outputs = {"obs.h5", "obs.h5.xmf", "obs.journal", "rejects.csv"};
    extra["rows_read"] = s.rows_read;
    extra["accepted"] = s.accepted;
    extra["new_events"] = s.new_events;
    extra["rejected"] = s.rejected;
    extra["duplicate_rows"] = s.duplicate_rows;
    extra["bins"] = s.store.axis.nt;
    extra["missing_bins"] = s.missing_bins;
    extra["journal_records"] = s.store.journal_records;
    core::TimerRegistry::instance().report(env.comm());
  });
}

/// Writes `text` to <out>/<name> through a temporary file and a rename, so a reader never sees half a file.
void writeAtomically(const core::OutputDir& out, const std::string& name, const std::string& text) {
  const auto path = out.file(name);
  const auto tmp = out.file(name + ".tmp");
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    os << text;
    if (!os.flush()) throw Error(ExitCode::Io, tmp.string() + ": cannot write");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(ExitCode::Io, path.string() + ": cannot rename: " + ec.message());
}

/// Rank 0 only. Runs `/usr/bin/python3 scripts/<script> <file>` (both quoted for the shell). Plots are a
/// convenience for readers, so a missing Python or matplotlib is a warning naming `what`, never a failure.
bool runPlotScript(const std::string& script, const std::filesystem::path& file, const std::string& what) {
  const auto quote = [](const std::string& text) {
    std::string q = "'";
    for (const char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string command = "/usr/bin/python3 " + quote(std::string(VIGIE_SCRIPTS_DIR) + "/" + script) +
                              " " + quote(file.string()) + " 2>&1";
  // The script's own lines go through the logger, so --quiet and --json-log hold for them too.
  std::string text;
  int status = -1;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 4096> buf{};
    for (std::size_t n = 0; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;)
      text.append(buf.data(), n);
    status = ::pclose(pipe);
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (status != 0) {
    VIGIE_LOG_WARN(what << " not drawn (" << command << " exited with status " << status
                        << (text.empty() ? std::string() : std::string(": ").append(text))
                        << "); the other outputs are complete");
    return false;
  }
  if (!text.empty()) VIGIE_LOG_INFO(text);
  VIGIE_LOG_INFO(what << " drawn into " << file.parent_path().string());
  return true;
}

/// Collective. Brings <output.dir>/obs.h5 up to date first when ingest.events is set and the store is missing
/// or stale, as `vigie run` does, and lists what it wrote.
void ingestIfNeeded(const core::Environment& env, Session& session, const grid::GridSpec& spec,
                    std::vector<std::string>& outputs, nlohmann::json& extra) {
  const auto& config = session.config();
  if (config.getList("ingest.events").empty() ||
      !ingest::IngestPipeline::needed(env.comm(), config, session.out().path()))
    return;
  grid::CityGrid grid(env.comm(), spec);
  const auto s = ingest::IngestPipeline::run(config, grid, session.out().path(), false, session.provenance());
  VIGIE_LOG_INFO(ingest::IngestPipeline::describe(s));
  outputs.insert(outputs.end(), {"obs.h5", "obs.h5.xmf", "obs.journal", "rejects.csv"});
  extra["ingest_rows_read"] = s.rows_read;
  extra["ingest_accepted"] = s.accepted;
}

/// Collective. `vigie fit`: fits sepp on the store (ingesting first when needed) and writes params.h5 and
/// params.json; prints the factor table.
void fitBody(const core::Environment& env, Session& session, std::vector<std::string>& outputs,
             nlohmann::json& extra, const core::Config* tuned = nullptr) {
  const auto& config = tuned != nullptr ? *tuned : session.config();
  const auto spec = grid::CityGrid::specFromConfig(config);
  const auto options = models::SeppModel::fitOptions(config, session.provenance().seed);
  ingestIfNeeded(env, session, spec, outputs, extra);
  const auto obs = session.out().file("obs.h5");
  grid::CityGrid grid(env.comm(), spec);
  {
    // The store's mask is the study area (it is the events' mask when grid.mask_events_within_m is set).
    const auto file = store::FieldFile::open(env.comm(), obs);
    grid.setMask(file.read2d<std::uint8_t>("/mask", store::Box{0, 0, spec.nx, spec.ny}));
  }
  const auto inputs = models::sepp::SeppInputs::read(grid, obs, config.getList("sepp.covariates"));
  const auto nt = static_cast<std::int64_t>(inputs.missing.size());
  // Bins before sepp.fit_end (later data held back), from sepp.training_days before that.
  const auto fit_end = config.getString("sepp.fit_end");
  std::int64_t b1 = nt;
  if (!fit_end.empty()) {
    b1 = 0;
    while (b1 < nt && inputs.bin_start_iso[static_cast<std::size_t>(b1)].substr(0, 10) < fit_end) ++b1;
  }
  const double training = config.getDouble("sepp.training_days");
  std::int64_t b0 = 0;
  if (training > 0.0) {
    while (b0 < b1 && inputs.edges[static_cast<std::size_t>(b0)] <
                          inputs.edges[static_cast<std::size_t>(b1)] - training - 1e-9)
      ++b0;
  }
  if (b1 <= b0)
    throw Error(ExitCode::Usage, "vigie fit: no bin of the store before sepp.fit_end = " + fit_end, true);
  const models::sepp::SeppFit fitter(grid, inputs.data(grid, obs, config.getList("sepp.categories"), b0, b1));
  const auto result = fitter.fit(options);
  for (std::size_t k = 0; k < result.log_likelihood.size(); ++k)
    VIGIE_LOG_INFO("sepp EM iteration " << k + 1 << ": log-likelihood " << result.log_likelihood[k]);
  const auto report = models::sepp::fitReport(
      result, inputs, models::eventFactors(config), core::caseName(config),
      inputs.bin_start_iso[static_cast<std::size_t>(b0)],
      b1 < nt ? inputs.bin_start_iso[static_cast<std::size_t>(b1)] : "the store's end",
      config.getBool("sepp.trigger"));
  {
    auto file = store::FieldFile::create(env.comm(), session.out().file("params.h5"), grid.geometry());
    forecast::writeProvenance(file, session.provenance());
    models::sepp::writeParams(file, grid, result, inputs);
    file.commit();
  }
  if (env.rank() == 0) {
    writeAtomically(session.out(), "params.json", report.dump(2) + "\n");
    printResult(models::sepp::factorTable(report));
  }
  outputs.insert(outputs.end(), {"params.h5", "params.h5.xmf", "params.json"});
  extra["theta"] = result.params.theta;
  extra["omega_per_day"] = result.params.omega;
  extra["sigma_m"] = result.params.sigma_m;
  extra["iterations"] = result.iterations;
  VIGIE_LOG_INFO("fit: " << result.iterations << " EM iterations; wrote "
                         << session.out().file("params.json").string() << " and params.h5");
  core::TimerRegistry::instance().report(env.comm());
}

int cmdFit(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "fit");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    fitBody(env, session, outputs, extra);
  });
}

int cmdSimulate(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "simulate");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    const auto& config = session.config();
    const auto model = config.getString("simulate.model");
    grid::CityGrid grid(env.comm(), grid::CityGrid::specFromConfig(config));
    const auto obs = session.out().file("obs.h5");
    if (config.getDouble("grid.mask_events_within_m") > 0.0 && std::filesystem::exists(obs)) {
      // The study area of a case whose mask comes from its events is the store's mask.
      const auto file = store::FieldFile::open(env.comm(), obs);
      grid.setMask(file.read2d<std::uint8_t>("/mask", store::Box{0, 0, grid.spec().nx, grid.spec().ny}));
    }
    extra["model"] = model;
    if (model == "sepp") {
      const auto s =
          models::sepp::simulateSeppCase(grid, config, session.provenance().seed, session.out().path());
      outputs.insert(outputs.end(), {"simulated_events.csv", "simulated.profile.ini", "simulated.ini",
                                     "simulated_truth.json"});
      extra["events"] = s.events;
      VIGIE_LOG_INFO("simulate sepp: " << s.events << " events (" << s.background << " background, "
                                       << s.events - s.background << " triggered; theta " << s.theta
                                       << ", omega " << s.omega << "/day, sigma " << s.sigma_x_m << " x "
                                       << s.sigma_y_m << " m); wrote " << session.out().path().string()
                                       << "/simulated.ini: fit it with vigie fit --config on that file");
      return;
    }
    const auto s =
        forecast::Simulation::run(grid, config, session.provenance(), session.out().path(), cl.restart);
    const auto file = s.output_file.filename().string();
    outputs.insert(outputs.end(), {file, file + ".xmf"});
    extra["snapshots"] = s.snapshots;
    extra["members"] = s.members;
    VIGIE_LOG_INFO("simulate " << model << ": wrote " << s.output_file.string() << " (" << s.snapshots
                               << " snapshots x " << s.members << " member(s))");
    if (config.getBool("simulate.plot") && env.rank() == 0) {
      runPlotScript("plot_field.py", s.output_file, "simulate: the PNG of the final field");
    }
    core::TimerRegistry::instance().report(env.comm());
    for (std::size_t m = 0; m < s.diagnostics.size(); ++m) {
      for (const auto& [name, value] : s.diagnostics[m]) {
        if (env.rank() == 0)
          std::cout << (s.diagnostics.size() > 1 ? std::string("member").append(std::to_string(m)).append(".")
                                                 : std::string())
                    << name << "=" << std::setprecision(10) << value << "\n";
      }
    }
    // The first member's diagnostics come last, unprefixed, so a script reads e.g. cv_A on the last line.
    if (s.diagnostics.size() > 1 && env.rank() == 0) {
      for (const auto& [name, value] : s.diagnostics.front())
        std::cout << name << "=" << std::setprecision(10) << value << "\n";
    }
    if (env.rank() == 0) std::cout << std::flush;
  });
}

/// Not collective. What a backtest depends on: the effective configuration without the sections that do not
/// change its result (output, forecast, run, simulate, score, privacy), hashed.
std::string backtestFingerprint(const core::Config& config) {
  std::istringstream is(config.effectiveText());
  std::string kept;
  bool skip = false;
  for (std::string line; std::getline(is, line);) {
    if (!line.empty() && line.front() == '[') {
      const auto section = line.substr(1, line.find(']') - 1);
      skip = section == "output" || section == "forecast" || section == "run" || section == "simulate" ||
             section == "score" || section == "privacy";
    }
    if (!skip) kept += line + "\n";
  }
  return audit::sha256Hex(kept);
}

/// Collective. `vigie backtest`: ingests when needed, tunes, runs the backtest and its grid-offset band,
/// writes backtest.json and backtest.md (and the plots).
void backtestBody(const core::Environment& env, Session& session, std::vector<std::string>& outputs,
                  nlohmann::json& extra) {
  const auto& config = session.config();
  // Settings first: a bad [backtest] option fails before any ingest work.
  const auto settings = verify::BacktestSettings::fromConfig(config, core::caseName(config));
  const auto spec = grid::CityGrid::specFromConfig(config);
  ingestIfNeeded(env, session, spec, outputs, extra);
  auto tuned = settings;
  bool plotted = false;
  nlohmann::json per_category = nlohmann::json::object();
  nlohmann::json doc;
  {
    const auto series =
        verify::ObservedSeries::read(env.comm(), session.out().file("obs.h5"), settings.categories);
    // Hyper-parameters are tuned once, on the categories summed, before any scored window.
    const auto tuning = verify::Backtest::tune(env.comm(), spec, config, tuned, series);
    doc = verify::Backtest::run(env.comm(), spec, config, tuned, series);
    doc["tuning"] = tuning;
  }
  // The band reruns the backtest on grids shifted by fractions of a cell, with the same tuned values.
  const auto band =
      verify::OffsetBand::run(env.comm(), config, tuned, session.out().path(), session.provenance(), doc);
  if (!band.is_null()) {
    doc["grid_offset_band"] = band;
    outputs.emplace_back("offsets/");
  }
  if (settings.per_category) {
    // A second pass scores each category alone with the same tuned values, one category in memory at a
    // time.
    verify::ObservedSeries::read(env.comm(), session.out().file("obs.h5"), settings.categories,
                                 [&](const verify::ObservedSeries& one) {
                                   per_category[one.categories.front()] =
                                       verify::Backtest::scoreCategory(env.comm(), spec, config, tuned, one);
                                 });
    doc["per_category"] = per_category;
  }
  doc["inputs_fingerprint"] = backtestFingerprint(config);
  if (env.rank() == 0) {
    writeAtomically(session.out(), "backtest.json", doc.dump(2) + "\n");
    writeAtomically(session.out(), "backtest.md", verify::Backtest::markdown(doc));
    plotted = config.getBool("backtest.plots") &&
              runPlotScript("backtest_plots.py", session.out().file("backtest.json"), "backtest: the plots");
  }
  outputs.insert(outputs.end(), {"backtest.json", "backtest.md"});
  // Every rank lists the same outputs: rank 0 tells the others whether the plots exist.
  int drawn = plotted ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&drawn, 1, MPI_INT, 0, env.comm()));
  if (drawn != 0)
    outputs.insert(outputs.end(), {"backtest_hit_rate_vs_area.png", "backtest_reliability.png",
                                   "backtest_pai5_per_window.png"});
  extra["windows"] = doc["windows"];
  extra["best_baseline"] = doc["best_baseline"];
  VIGIE_LOG_INFO("backtest: " << doc["windows"].get<std::int64_t>() << " windows, best baseline "
                              << doc["best_baseline"].get<std::string>() << "; wrote "
                              << session.out().file("backtest.json").string() << " and backtest.md");
  core::TimerRegistry::instance().report(env.comm());
}

int cmdBacktest(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "backtest");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    backtestBody(env, session, outputs, extra);
  });
}

/// Collective. Whether <out>/backtest.json is missing or stale: older than obs.h5, or made from another
/// configuration (its inputs_fingerprint).
bool backtestStale(const core::Environment& env, const Session& session) {
  int stale = 1;
  if (env.rank() == 0) {
    const auto path = session.out().file("backtest.json");
    const auto obs = session.out().file("obs.h5");
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && std::filesystem::exists(obs, ec) &&
        std::filesystem::last_write_time(path, ec) >= std::filesystem::last_write_time(obs, ec)) {
      std::ifstream is(path);
      const auto doc = nlohmann::json::parse(is, nullptr, false);
      stale = !doc.is_discarded() &&
                      doc.value("inputs_fingerprint", std::string()) == backtestFingerprint(session.config())
                  ? 0
                  : 1;
    }
  }
  VIGIE_CHECK_MPI(MPI_Bcast(&stale, 1, MPI_INT, 0, env.comm()));
  return stale != 0;
}

/// Collective. `vigie forecast`: ingests when needed, then Forecast::run on the store's grid, then the PNG
/// maps (rank 0; a failure is a warning). Prints each horizon's expected total with its 80% interval.
void forecastBody(const core::Environment& env, Session& session, const CommandLine& cl,
                  std::vector<std::string>& outputs, nlohmann::json& extra) {
  const auto& config = session.config();
  const auto horizons = forecast::Forecast::horizons(config);  // a bad option fails before any work
  const auto spec = grid::CityGrid::specFromConfig(config);
  ingestIfNeeded(env, session, spec, outputs, extra);
  grid::CityGrid grid(env.comm(), spec);
  {
    const auto file = store::FieldFile::open(env.comm(), session.out().file("obs.h5"));
    grid.setMask(file.read2d<std::uint8_t>("/mask", store::Box{0, 0, spec.nx, spec.ny}));
  }
  const auto r =
      forecast::Forecast::run(grid, config, session.provenance(), session.out().path(), cl.restart);
  outputs.insert(outputs.end(), r.outputs.begin(), r.outputs.end());
  bool plotted = false;
  if (config.getBool("forecast.plots") && env.rank() == 0)
    plotted = runPlotScript("forecast_maps.py", session.out().file("forecast") / "forecast.json",
                            "forecast: the PNG maps");
  int drawn = plotted ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&drawn, 1, MPI_INT, 0, env.comm()));
  if (drawn != 0) {
    for (const auto& h : horizons) {
      outputs.push_back("forecast/map_" + h.name + ".png");
      outputs.push_back("forecast/map_" + h.name + "_uncertainty.png");
    }
  }
  extra["forecast_model"] = r.doc["model"];
  extra["members"] = r.doc["members"];
  extra["resumed_step"] = r.resumed_step;
  VIGIE_LOG_INFO("\n" << grid.summary());
  if (env.rank() == 0) {
    std::ostringstream os;
    os << "forecast from " << r.doc["forecast_start"].get<std::string>() << " ("
       << r.doc["model"].get<std::string>() << ", " << r.doc["members"].get<int>() << " members):\n";
    for (const auto& h : r.doc["horizons"]) {
      const auto& t = h["total"];
      os << "  " << h["name"].get<std::string>() << ": " << std::fixed << std::setprecision(1)
         << t["expected"].get<double>() << " expected events, 80% interval " << std::setprecision(0)
         << t["p10"].get<double>() << " to " << t["p90"].get<double>() << "\n";
      os.unsetf(std::ios::floatfield);
    }
    os << "wrote " << session.out().file("forecast").string()
       << "/ (summary.md, forecast.h5, GeoTIFF, GeoJSON, CSV" << (drawn != 0 ? ", PNG" : "") << ")\n";
    printResult(os.str());
  }
  core::TimerRegistry::instance().report(env.comm());
}

int cmdForecast(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "forecast");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    forecastBody(env, session, cl, outputs, extra);
  });
}

int cmdScenario(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "scenario");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    const auto& config = session.config();
    if (config.getPath("scenario.file").empty())
      throw Error(ExitCode::Usage, "vigie scenario needs --scenario FILE.ini (option scenario.file)", true);
    const auto spec = grid::CityGrid::specFromConfig(config);
    ingestIfNeeded(env, session, spec, outputs, extra);
    std::vector<std::uint8_t> mask;
    {
      const auto file = store::FieldFile::open(env.comm(), session.out().file("obs.h5"));
      mask = file.read2d<std::uint8_t>("/mask", store::Box{0, 0, spec.nx, spec.ny});
    }
    const auto r = scenario::ScenarioRun::run(env.comm(), spec, mask, config, session.provenance(),
                                              session.out().path());
    outputs.insert(outputs.end(), r.outputs.begin(), r.outputs.end());
    bool plotted = false;
    if (config.getBool("forecast.plots") && env.rank() == 0)
      plotted = runPlotScript("scenario_maps.py", session.out().file("scenario") / "scenario.json",
                              "scenario: the PNG maps");
    int drawn = plotted ? 1 : 0;
    VIGIE_CHECK_MPI(MPI_Bcast(&drawn, 1, MPI_INT, 0, env.comm()));
    if (drawn != 0) outputs.emplace_back("scenario/map_scenario.png");
    const auto& d = r.doc["totals"]["delta"];
    const auto& b = r.doc["totals"]["baseline"];
    extra["scenario"] = r.doc["scenario"]["name"];
    extra["delta_expected"] = d["expected"];
    if (env.rank() == 0) {
      std::ostringstream os;
      os << std::fixed << std::setprecision(2) << "scenario " << r.doc["scenario"]["name"].get<std::string>()
         << " (" << r.doc["scenario"]["start"].get<std::string>() << " to "
         << r.doc["scenario"]["end"].get<std::string>() << ", " << r.doc["members"].get<int>()
         << " members in " << r.doc["groups"].get<int>() << " group(s)):\n  baseline "
         << b["expected"].get<double>() << " expected events; scenario minus baseline "
         << d["expected"].get<double>() << " [80% interval " << d["p10"].get<double>() << " to "
         << d["p90"].get<double>() << "]\n  wrote " << session.out().file("scenario").string()
         << "/ (scenario.md, delta.h5, scenario.json" << (drawn != 0 ? ", map_scenario.png" : "") << ")\n";
      printResult(os.str());
    }
    core::TimerRegistry::instance().report(env.comm());
  });
}

int cmdWatch(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "watch");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    const auto& config = session.config();
    if (config.getString("watch.stream").empty())
      throw Error(ExitCode::Usage, "vigie watch needs --stream PATH or --stream - (option watch.stream)",
                  true);
    const auto spec = grid::CityGrid::specFromConfig(config);
    ingestIfNeeded(env, session, spec, outputs, extra);
    grid::CityGrid grid(env.comm(), spec);
    {
      const auto file = store::FieldFile::open(env.comm(), session.out().file("obs.h5"));
      grid.setMask(file.read2d<std::uint8_t>("/mask", store::Box{0, 0, spec.nx, spec.ny}));
    }
    const auto r = watch::Watch::run(grid, config, session.provenance(), session.out().path());
    outputs.insert(outputs.end(), r.outputs.begin(), r.outputs.end());
    for (const auto* key :
         {"cycles_done", "cycles_this_run", "events_appended", "rows_rejected", "alerts_new", "alerts_total"})
      extra[key] = r.doc[key];
    if (env.rank() == 0) {
      std::ostringstream os;
      const auto& lat = r.doc["cycle_latency"];
      os << "watch " << r.doc["stream"].get<std::string>() << ": " << r.doc["rows_read"].get<std::int64_t>()
         << " rows read, " << r.doc["events_appended"].get<std::int64_t>() << " new events, "
         << r.doc["rows_rejected"].get<std::int64_t>() << " rejected; "
         << r.doc["cycles_this_run"].get<std::int64_t>() << " cycle(s) run ("
         << r.doc["cycles_done"].get<std::int64_t>() << " done since " << r.doc["start"].get<std::string>()
         << "); " << r.doc["alerts_new"].get<std::int64_t>() << " new alert(s)";
      if (lat.contains("mean_s"))
        os << "; cycle latency mean " << std::fixed << std::setprecision(2) << lat["mean_s"].get<double>()
           << " s, max " << lat["max_s"].get<double>() << " s";
      os << "\n  wrote " << session.out().file("alerts.jsonl").string() << ", alerts.geojson, watch/\n";
      printResult(os.str());
    }
    core::TimerRegistry::instance().report(env.comm());
    if (r.interrupted)
      throw Error(ExitCode::Interrupted,
                  "watch stopped by a signal after cycle " +
                      std::to_string(r.doc["cycles_done"].get<std::int64_t>()) +
                      "; its state is committed: start it again with the same stream to go on",
                  true);
  });
}

int cmdRun(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "run");
  if (!session.config().getList("ingest.events").empty()) {
    // The main job on a case with events: ingest, backtest (when missing or stale), fit, forecast.
    return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
      forecast::Forecast::horizons(session.config());
      ingestIfNeeded(env, session, grid::CityGrid::specFromConfig(session.config()), outputs, extra);
      if (backtestStale(env, session)) {
        VIGIE_LOG_INFO("run: backtest.json is missing or stale: running the backtest");
        backtestBody(env, session, outputs, extra);
      } else {
        VIGIE_LOG_INFO("run: backtest.json is up to date with the store and the configuration");
      }
      const auto enabled = session.config().getList("models.enabled");
      if (std::find(enabled.begin(), enabled.end(), "sepp") != enabled.end()) {
        // The fit reported in params.json uses the sepp hyper-parameters the backtest tuned, as the forecast
        // does.
        const auto tuned = session.config().withOverrides(
            session.config().getBool("forecast.use_tuned")
                ? forecast::tunedOverrides(
                      forecast::readBacktest(env.comm(), session.out().file("backtest.json")), "sepp")
                : std::vector<std::pair<std::string, std::string>>{});
        fitBody(env, session, outputs, extra, &tuned);
      }
      forecastBody(env, session, cl, outputs, extra);
    });
  }
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    std::unique_ptr<grid::CityGrid> grid;
    {
      core::ScopedTimer t("grid");
      grid = std::make_unique<grid::CityGrid>(env.comm(), grid::CityGrid::specFromConfig(session.config()));
    }
    VIGIE_LOG_INFO("vigie " << session.provenance().version << " (git " << session.provenance().git_hash
                            << "), " << env.size() << " ranks x " << env.threads() << " threads, seed "
                            << session.provenance().seed);
    VIGIE_LOG_INFO("\n" << grid->summary());
    std::vector<std::int64_t> observed;
    if (!session.config().getList("ingest.events").empty()) {
      // Every subcommand works on an empty output folder: ingest first when the store is missing or stale.
      if (ingest::IngestPipeline::needed(env.comm(), session.config(), session.out().path())) {
        const auto s = ingest::IngestPipeline::run(session.config(), *grid, session.out().path(), false,
                                                   session.provenance());
        VIGIE_LOG_INFO(ingest::IngestPipeline::describe(s));
        outputs.insert(outputs.end(), {"obs.h5", "obs.h5.xmf", "obs.journal", "rejects.csv"});
        extra["ingest_rows_read"] = s.rows_read;
        extra["ingest_accepted"] = s.accepted;
      }
      observed = ingest::IngestPipeline::observedTotals(*grid, session.out().path());
    }
    // Models are built after ingest: an event-derived mask is known only then.
    forecast::ForecastDriver driver(*grid, session.config(), session.provenance());
    if (!observed.empty()) driver.setObservations(std::move(observed));
    const auto summary = driver.run(session.out().path());
    outputs.insert(outputs.end(), {"vigie_run.h5", "vigie_run.h5.xmf"});
    extra["active_cells"] = grid->activeCells();
    extra["active_area"] = grid->activeArea();
    extra["snapshots"] = summary.snapshots;
    extra["horizon_days"] = summary.horizon_days;
    extra["final_intensity_sum"] = summary.final_intensity_sum;
    VIGIE_LOG_INFO("wrote " << summary.output_file.string() << " (" << summary.snapshots
                            << " intensity snapshots, models: "
                            << (summary.models.empty() ? std::string("none") : [&] {
                                 std::string s;
                                 for (const auto& m : summary.models) s += (s.empty() ? "" : ",") + m;
                                 return s;
                               }())
                            << ")");
    core::TimerRegistry::instance().report(env.comm());
    printDiagnostics(env, driver.models());
  });
}

int cmdScore(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "score");
  return audited(session, [&](std::vector<std::string>& outputs, nlohmann::json& extra) {
    const auto& config = session.config();
    // Arguments first: a missing --forecast or a bad --window fails before any ingest work.
    const auto forecast_file = config.getPath("score.forecast");
    if (forecast_file.empty())
      throw Error(ExitCode::Usage, "vigie score needs --forecast FILE (option score.forecast)", true);
    const auto window = verify::ScoreWindow::parse(config.getString("score.window"));
    const auto settings = verify::BacktestSettings::fromConfig(config, core::caseName(config));
    const auto spec = grid::CityGrid::specFromConfig(config);
    if (!config.getList("ingest.events").empty() &&
        ingest::IngestPipeline::needed(env.comm(), config, session.out().path())) {
      grid::CityGrid grid(env.comm(), spec);
      const auto s =
          ingest::IngestPipeline::run(config, grid, session.out().path(), false, session.provenance());
      VIGIE_LOG_INFO(ingest::IngestPipeline::describe(s));
      outputs.insert(outputs.end(), {"obs.h5", "obs.h5.xmf", "obs.journal", "rejects.csv"});
    }
    const auto series =
        verify::ObservedSeries::read(env.comm(), session.out().file("obs.h5"), settings.categories);
    // Every rank reads the forecast itself, so a bad file is the same error on every rank (exit 3, clean).
    const auto forecast = verify::ExternalScore::readForecast(
        forecast_file, config.getString("score.dataset"), series.nx, series.ny, series.mask);
    const auto doc = verify::ExternalScore::score(series, forecast, window, settings, forecast_file);
    if (env.rank() == 0) {
      writeAtomically(session.out(), "score.json", doc.dump(2) + "\n");
      std::cout << verify::ExternalScore::summary(doc) << std::flush;
    }
    outputs.emplace_back("score.json");
    extra["window"] = doc["window"];
    extra["events"] = doc["events"];
    extra["pai5"] = doc["pai"].contains("5") ? doc["pai"]["5"] : nlohmann::json();
  });
}

int cmdCheckConfig(const core::Environment& env, const CommandLine& cl) {
  Session session(env, cl, "check-config");
  return audited(session, [&](std::vector<std::string>& /*outputs*/, nlohmann::json& extra) {
    const grid::CityGrid grid(env.comm(), grid::CityGrid::specFromConfig(session.config()));
    // Building the driver instantiates every enabled model, so model options are checked too.
    const forecast::ForecastDriver driver(grid, session.config(), session.provenance());
    extra["active_cells"] = grid.activeCells();
    if (env.rank() == 0) {
      std::cout << "# effective configuration of " << session.config().file().string() << "\n"
                << session.provenance().config_text << "\n"
                << grid.summary() << "\nconfiguration OK\n";
    }
  });
}

int cmdAudit(const core::Environment& env, const CommandLine& cl) {
  if (cl.positional.size() != 3 || cl.positional[1] != "verify")
    throw Error(ExitCode::Usage, "usage: vigie audit verify FILE", true);
  const auto result = audit::verifyAuditLog(cl.positional[2]);
  if (env.rank() == 0) {
    if (result.ok) {
      std::cout << cl.positional[2] << ": OK, " << result.records << " records, hash chain intact\n";
    } else {
      std::cerr << "vigie: audit verification FAILED: " << result.reason << "\n";
    }
  }
  return result.ok ? 0 : static_cast<int>(ExitCode::AuditFailed);
}

}  // namespace

int runSubcommand(const core::Environment& env, const CommandLine& cl) {
  const auto& name = cl.positional.front();
  if (cl.append && name != "ingest")
    throw Error(ExitCode::Usage, "--append is an option of vigie ingest only", true);
  if (cl.restart && name != "simulate" && name != "forecast" && name != "run")
    throw Error(ExitCode::Usage, "--restart is an option of vigie simulate, forecast and run only", true);
  if (name != "audit" && cl.positional.size() > 1)
    throw Error(ExitCode::Usage, "vigie " + name + ": unexpected argument '" + cl.positional[1] + "'", true);
  if (name == "run") return cmdRun(env, cl);
  if (name == "check-config") return cmdCheckConfig(env, cl);
  if (name == "ingest") return cmdIngest(env, cl);
  if (name == "backtest") return cmdBacktest(env, cl);
  if (name == "fit") return cmdFit(env, cl);
  if (name == "simulate") return cmdSimulate(env, cl);
  if (name == "forecast") return cmdForecast(env, cl);
  if (name == "scenario") return cmdScenario(env, cl);
  if (name == "watch") return cmdWatch(env, cl);
  if (name == "score") return cmdScore(env, cl);
  if (name == "audit") return cmdAudit(env, cl);
  throw Error(ExitCode::Usage, "unknown subcommand '" + name + "' (see vigie --help)", true);
}

}  // namespace vigie::cli
