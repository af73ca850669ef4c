#include "forecast/Forecast.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Interrupt.hpp"
#include "core/Log.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "core/Timer.hpp"
#include "forecast/ForecastDriver.hpp"
#include "forecast/FutureConditions.hpp"
#include "forecast/MapSupport.hpp"
#include "forecast/Predictor.hpp"
#include "forecast/Products.hpp"
#include "geo/GeoJson.hpp"
#include "geo/Rasterize.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/TimeBinning.hpp"
#include "ingest/Weather.hpp"
#include "models/ModelRegistry.hpp"
#include "models/baselines/BaselineSupport.hpp"
#include "store/FieldFile.hpp"
#include "store/GeoTiff.hpp"
#include "verify/Backtest.hpp"

namespace vigie::forecast {

using core::Error;
using core::ExitCode;

namespace {

constexpr int kSchemaVersion = 1;
constexpr double kNoData = -9999.0;
constexpr std::uint64_t kPoissonKey = 0xF0CA57C0FFEEULL;

/// What the step loop accumulates for one horizon (everything a checkpoint must carry).
struct HorizonState {
  HorizonSpec spec;
  std::vector<Step> steps;
  std::map<std::string, std::vector<double>> fields;  ///< [step][owned] each
  std::vector<double> lambda_sum;                     ///< [member][owned]: expected counts summed over steps
  std::vector<std::int64_t> city_counts;              ///< [step][member]: Poisson members, whole city
  std::vector<std::int64_t> area_counts;              ///< [member][area]: summed over the steps
  std::vector<double> step_expected;                  ///< [step]: point forecast summed over the grid
};

/// The skill quoted in the summary: the forecast model's backtest scores against the best baseline.
nlohmann::json skillJson(const nlohmann::json& bt, const std::string& model,
                         const std::vector<Component>& comps) {
  if (bt.is_null())
    return {{"available", false},
            {"reason", "no backtest.json in the output folder (run vigie backtest, or vigie run)"}};
  nlohmann::json s{{"available", true},
                   {"windows", bt.value("windows", 0)},
                   {"bin", bt.value("bin", "")},
                   {"best_baseline", bt.value("best_baseline", "")}};
  const auto base = bt.value("best_baseline", std::string());
  const auto pai5 = [&](const std::string& m) -> nlohmann::json {
    if (!bt.contains("models") || !bt["models"].contains(m)) return nullptr;
    const auto& p = bt["models"][m]["pai"];
    return p.contains("5") ? p["5"] : nlohmann::json();
  };
  const auto ll = [&](const std::string& m) -> nlohmann::json {
    if (!bt.contains("models") || !bt["models"].contains(m)) return nullptr;
    return bt["models"][m].value("log_likelihood_per_event", nlohmann::json());
  };
  s["baseline_pai5"] = pai5(base);
  if (model == "blend" && bt.contains("stacking") && bt["stacking"].contains("blend_loo")) {
    const auto& loo = bt["stacking"]["blend_loo"];
    s["model"] = "blend";
    s["pai5"] = loo.contains("pai") && loo["pai"].contains("5") ? loo["pai"]["5"] : nlohmann::json();
    s["pai5_ratio"] =
        s["pai5"].is_number() && s["baseline_pai5"].is_number() && s["baseline_pai5"].get<double>() > 0.0
            ? nlohmann::json(s["pai5"].get<double>() / s["baseline_pai5"].get<double>())
            : nlohmann::json();
    const auto bll = ll(base);
    s["dloglik"] = loo.contains("log_likelihood_per_event") && bll.is_number()
                       ? nlohmann::json(loo["log_likelihood_per_event"].get<double>() - bll.get<double>())
                       : nlohmann::json();
    s["pai5_ratio_ci95"] = nullptr;
    s["dloglik_ci95"] = nullptr;
    s["interval_available"] = false;
    s["note"] = "blend scored leave-one-window-out (weights fitted on the other windows)";
    return s;
  }
  // A single model, or a blend without its own score: the heaviest component's scores.
  std::string quoted = model;
  if (model == "blend") {
    double w = -1.0;
    for (const auto& c : comps) {
      if (c.weight > w) {
        w = c.weight;
        quoted = c.name;
      }
    }
  }
  s["model"] = quoted;
  s["pai5"] = pai5(quoted);
  if (bt.contains("skill") && bt["skill"].contains(quoted)) {
    const auto& k = bt["skill"][quoted];
    s["pai5_ratio"] = k.value("pai5_ratio", nlohmann::json());
    s["dloglik"] = k.value("dloglik", nlohmann::json());
    const bool interval = k.value("available", false);
    s["interval_available"] = interval;
    s["pai5_ratio_ci95"] = interval ? k.value("pai5_ratio_ci95", nlohmann::json()) : nlohmann::json();
    s["dloglik_ci95"] = interval ? k.value("dloglik_ci95", nlohmann::json()) : nlohmann::json();
  } else {
    s["pai5_ratio"] = nullptr;
    s["dloglik"] = nullptr;
    s["interval_available"] = false;
    s["pai5_ratio_ci95"] = nullptr;
    s["dloglik_ci95"] = nullptr;
  }
  return s;
}

const std::vector<std::string>& mapNames() {
  static const std::vector<std::string> names{"expected", "p_any", "p10", "p50", "p90"};
  return names;
}

}  // namespace

void Forecast::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("forecast.start", OptionType::String, "",
           "first day forecast (local ISO date, a bin start of the store); empty = the end of the store")
      .add("forecast.horizons", OptionType::List, "next_24h=hour:24, next_7d=day:7, next_month=month:1",
           "horizons as name=unit:steps, unit hour, day, week or month (local calendar steps)")
      .add("forecast.main_horizon", OptionType::String, "",
           "the horizon the summary, the areas table and the hotspots lead with (empty = the last one)")
      .add("forecast.model", OptionType::String, "auto",
           "the published model: auto (blend when backtest.json holds stacking weights for 2 or more models, "
           "else the first of models.enabled), blend, or a model name")
      .add("forecast.members", OptionType::Int, "32",
           "ensemble members (member 0 = the point estimate; the others draw fitted parameters and Poisson "
           "counts)")
      .add("forecast.top_k", OptionType::Int, "20", "hotspot cells listed per horizon")
      .add("forecast.use_tuned", OptionType::Bool, "true",
           "use the hyper-parameters the backtest tuned (backtest.json tuned_parameters)")
      .add("forecast.areas", OptionType::Path, "",
           "GeoJSON polygons (arrondissements, quartiers) for the risk-per-area tables; empty = none")
      .add("forecast.area_name_property", OptionType::String, "nom", "property naming each area polygon")
      .add("forecast.checkpoint_every", OptionType::Int, "0",
           "write <output.dir>/forecast/checkpoint.h5 every this many steps (0 = only on SIGTERM/SIGINT)")
      .add("forecast.plots", OptionType::Bool, "true",
           "draw the PNG quick-look maps with scripts/forecast_maps.py (a failure is a warning)")
      .add("output.lang", OptionType::String, "en", "language of summary.md: en or fr")
      .add("privacy.radius_m", OptionType::Double, "0",
           "published maps show a cell only when the events observed within this radius number at least "
           "privacy.min_count (0 = the cell alone)");
  FutureConditions::declareOptions(options);
}

std::vector<HorizonSpec> Forecast::horizons(const core::Config& config) {
  std::vector<HorizonSpec> out;
  for (const auto& item : config.getList("forecast.horizons")) {
    const auto eq = item.find('=');
    const auto colon = item.find(':', eq == std::string::npos ? 0 : eq);
    const auto bad = [&](const std::string& why) {
      return Error(ExitCode::Usage,
                   "forecast.horizons: '" + item + "' " + why + " (expected name=unit:steps)", true);
    };
    if (eq == std::string::npos || colon == std::string::npos || eq == 0) throw bad("is malformed");
    HorizonSpec h;
    h.name = item.substr(0, eq);
    h.unit = item.substr(eq + 1, colon - eq - 1);
    for (const char c : h.name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'))
        throw bad("has a name with other than letters, digits and _");
    }
    if (h.unit != "hour" && h.unit != "day" && h.unit != "week" && h.unit != "month")
      throw bad("has an unknown unit");
    try {
      std::size_t used = 0;
      h.steps = std::stoi(item.substr(colon + 1), &used);
      if (used != item.size() - colon - 1) throw bad("has a malformed step count");
    } catch (const std::logic_error&) {
      throw bad("has a malformed step count");
    }
    if (h.steps < 1 || h.steps > 10000) throw bad("needs 1 to 10000 steps");
    for (const auto& o : out) {
      if (o.name == h.name) throw bad("repeats a name");
    }
    out.push_back(h);
  }
  if (out.empty()) throw Error(ExitCode::Usage, "forecast.horizons is empty", true);
  return out;
}

ForecastResult Forecast::run(const grid::CityGrid& grid, const core::Config& config,
                             const core::Provenance& provenance, const std::filesystem::path& out,
                             bool restart) {
  core::ScopedTimer total_timer("forecast");
  const MPI_Comm comm = grid.comm();
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  const auto specs = horizons(config);
  const int members = static_cast<int>(config.getInt("forecast.members"));
  if (members < 1 || members > 4096) throw Error(ExitCode::Usage, "forecast.members must be 1 to 4096", true);
  const auto top_k = config.getInt("forecast.top_k");
  if (top_k < 1) throw Error(ExitCode::Usage, "forecast.top_k must be at least 1", true);
  const auto checkpoint_every = config.getInt("forecast.checkpoint_every");
  if (checkpoint_every < 0) throw Error(ExitCode::Usage, "forecast.checkpoint_every must be >= 0", true);
  const auto lang = config.getString("output.lang");
  if (lang != "en" && lang != "fr") throw Error(ExitCode::Usage, "output.lang must be en or fr", true);
  const auto min_count = config.getInt("privacy.min_count");
  const double radius_m = config.getDouble("privacy.radius_m");
  if (!(radius_m >= 0.0)) throw Error(ExitCode::Usage, "privacy.radius_m must be >= 0", true);
  std::string main_horizon = config.getString("forecast.main_horizon");
  if (main_horizon.empty()) main_horizon = specs.back().name;
  if (std::none_of(specs.begin(), specs.end(), [&](const HorizonSpec& h) { return h.name == main_horizon; }))
    throw Error(ExitCode::Usage, "forecast.main_horizon '" + main_horizon + "' is not in forecast.horizons",
                true);
  const auto conditions = FutureConditions::fromConfig(config);

  // The models, replayed up to the start and fitted; the future's covariates.
  Predictor predictor(grid, config, provenance, out);
  predictor.setFuture(conditions);
  const auto& series = predictor.series();
  const auto& zone = predictor.zone();
  const auto& comps = predictor.components();
  const auto& bt = predictor.backtest();
  const auto& requested = predictor.model();
  const auto& hour_profile = predictor.hourProfile();
  const auto start_utc = predictor.startUtc();
  const bool parameter_draws = predictor.parameterDraws();
  const auto& box = grid.ownedBox();
  const auto owned = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  const auto& observed_total = predictor.observedTotal();

  // Areas, privacy, the horizons' steps.
  const auto areas = readAreas(grid, config);
  const auto n_areas = areas.names.size();
  std::vector<std::int32_t> owned_area(owned, -1);
  const auto gidx = grid.ownedGlobalIndices();
  if (!areas.of_cell.empty()) {
    for (std::size_t c = 0; c < owned; ++c) owned_area[c] = areas.of_cell[static_cast<std::size_t>(gidx[c])];
  }
  const auto global_mask = grid.globalMask();
  const auto published = publishedCells(grid, global_mask, observed_total, min_count, radius_m);
  std::vector<std::uint8_t> owned_published(owned, 0);
  for (std::size_t c = 0; c < owned; ++c) owned_published[c] = published[static_cast<std::size_t>(gidx[c])];

  std::vector<HorizonState> states;
  std::int64_t total_steps = 0;
  for (const auto& h : specs) {
    HorizonState s;
    s.spec = h;
    s.steps =
        calendarSteps(h.unit, zone, start_utc, h.steps, std::numeric_limits<std::int64_t>::max(), start_utc);
    const auto n = s.steps.size();
    for (const auto& m : mapNames()) s.fields[m].assign(n * owned, 0.0);
    if (comps.size() > 1) {
      for (const auto& c : comps) s.fields[c.name + ".expected"].assign(n * owned, 0.0);
    }
    s.lambda_sum.assign(static_cast<std::size_t>(members) * owned, 0.0);
    s.city_counts.assign(n * static_cast<std::size_t>(members), 0);
    s.area_counts.assign(static_cast<std::size_t>(members) * n_areas, 0);
    s.step_expected.assign(n, 0.0);
    total_steps += static_cast<std::int64_t>(n);
    states.push_back(std::move(s));
  }

  // Checkpoint / restart.
  const auto dir = out / "forecast";
  if (rank == 0) std::filesystem::create_directories(dir);
  VIGIE_CHECK_MPI(MPI_Barrier(comm));
  const auto checkpoint_path = dir / "checkpoint.h5";
  std::string fingerprint;
  {
    std::ostringstream f;
    f << "members=" << members << ";seed=" << provenance.seed << ";start=" << start_utc
      << ";model=" << requested << ";horizons=";
    for (const auto& h : specs) f << h.name << "=" << h.unit << ":" << h.steps << ",";
    f << ";grid=" << grid.nx() << "x" << grid.ny();
    fingerprint = f.str();
  }
  std::int64_t done = 0;
  ForecastResult result;
  if (core::shouldResume(comm, checkpoint_path, restart)) {
    const auto cp = store::FieldFile::open(comm, checkpoint_path);
    if (cp.stringAttribute("checkpoint.fingerprint") != fingerprint)
      throw Error(
          ExitCode::Usage,
          checkpoint_path.string() +
              " was written by a forecast with other settings (members, seed, start, model, horizons or "
              "grid); remove it or restore them",
          true);
    done = cp.intAttribute("checkpoint.done");
    for (auto& s : states) {
      for (auto& [name, v] : s.fields) v = cp.read3d<double>("cp." + s.spec.name + "." + name, box, nullptr);
      s.lambda_sum = cp.read3d<double>("cp." + s.spec.name + ".lambda_sum", box, nullptr);
      s.city_counts = cp.read1d<std::int64_t>("cp." + s.spec.name + ".city_counts");
      if (n_areas > 0) s.area_counts = cp.read1d<std::int64_t>("cp." + s.spec.name + ".area_counts");
      s.step_expected = cp.read1d<double>("cp." + s.spec.name + ".step_expected");
    }
    result.resumed_step = done;
    VIGIE_LOG_INFO("forecast: resuming at step " << done << " of " << total_steps << " from "
                                                 << checkpoint_path.string());
  }
  const auto writeCheckpoint = [&](std::int64_t steps_done) {
    core::ScopedTimer timer("forecast checkpoint");
    auto cp = store::FieldFile::create(comm, checkpoint_path, grid.geometry());
    cp.setAttribute("checkpoint.fingerprint", fingerprint);
    cp.setAttribute("checkpoint.done", steps_done);
    for (const auto& s : states) {
      const auto n = static_cast<int>(s.steps.size());
      for (const auto& [name, v] : s.fields)
        cp.write3d<double>("cp." + s.spec.name + "." + name, n, box, v,
                           store::FieldMeta{"", "checkpoint", 0});
      cp.write3d<double>("cp." + s.spec.name + ".lambda_sum", members, box, s.lambda_sum,
                         store::FieldMeta{"", "checkpoint", 0});
      cp.write1d<std::int64_t>("cp." + s.spec.name + ".city_counts", s.city_counts,
                               store::FieldMeta{"", "", 0});
      if (n_areas > 0)
        cp.write1d<std::int64_t>("cp." + s.spec.name + ".area_counts", s.area_counts,
                                 store::FieldMeta{"", "", 0});
      cp.write1d<double>("cp." + s.spec.name + ".step_expected", s.step_expected,
                         store::FieldMeta{"", "", 0});
    }
    cp.commit();
  };

  // The step loop: every member of every step of every horizon.
  const core::StopSignals stop_signals;
  const auto& mask = grid.ownedMask();
  std::vector<double> lam(owned);
  std::vector<std::vector<double>> per_component;
  std::vector<double> ens(static_cast<std::size_t>(members) * owned);
  std::vector<double> sorted(static_cast<std::size_t>(members));
  std::vector<std::int64_t> city(static_cast<std::size_t>(members));
  std::vector<std::int64_t> area_local(static_cast<std::size_t>(members) * n_areas);
  std::vector<std::int64_t> area_sum(area_local.size());
  const auto wall0 = std::chrono::steady_clock::now();
  std::int64_t g = 0;
  for (auto& s : states) {
    for (std::size_t k = 0; k < s.steps.size(); ++k, ++g) {
      if (g < done) continue;
      core::ScopedTimer timer("forecast step");
      const auto& st = s.steps[k];
      std::fill(city.begin(), city.end(), 0);
      std::fill(area_local.begin(), area_local.end(), 0);
      for (int m = 0; m < members; ++m) {
        predictor.expected(m, st.from, st.to, st.hour, lam,
                           m == 0 && comps.size() > 1 ? &per_component : nullptr);
        if (m == 0 && comps.size() > 1) {
          for (std::size_t q = 0; q < comps.size(); ++q) {
            if (per_component[q].empty()) continue;
            std::copy(per_component[q].begin(), per_component[q].end(),
                      s.fields[comps[q].name + ".expected"].begin() + static_cast<std::ptrdiff_t>(k * owned));
          }
        }
        std::copy(lam.begin(), lam.end(), ens.begin() + static_cast<std::ptrdiff_t>(m * owned));
        auto* sum = s.lambda_sum.data() + static_cast<std::size_t>(m) * owned;
        const auto key = static_cast<std::uint32_t>(g * members + m);
        for (std::size_t c = 0; c < owned; ++c) {
          sum[c] += lam[c];
          if (lam[c] <= 0.0) continue;
          core::RandomStream rng(provenance.seed ^ kPoissonKey, static_cast<std::uint64_t>(gidx[c]), key);
          const auto n = static_cast<std::int64_t>(rng.poisson(lam[c]));
          city[static_cast<std::size_t>(m)] += n;
          if (owned_area[c] >= 0)
            area_local[static_cast<std::size_t>(m) * n_areas + static_cast<std::size_t>(owned_area[c])] += n;
        }
      }
      auto* e = s.fields["expected"].data() + k * owned;
      auto* pa = s.fields["p_any"].data() + k * owned;
      auto* p10 = s.fields["p10"].data() + k * owned;
      auto* p50 = s.fields["p50"].data() + k * owned;
      auto* p90 = s.fields["p90"].data() + k * owned;
      for (std::size_t c = 0; c < owned; ++c) {
        double any = 0.0;
        for (int m = 0; m < members; ++m) {
          const double v = ens[static_cast<std::size_t>(m) * owned + c];
          sorted[static_cast<std::size_t>(m)] = v;
          any += -std::expm1(-v);
        }
        e[c] = ens[c];
        pa[c] = any / members;
        std::sort(sorted.begin(), sorted.end());
        p10[c] = percentile(sorted, 0.1);
        p50[c] = percentile(sorted, 0.5);
        p90[c] = percentile(sorted, 0.9);
      }
      std::vector<std::int64_t> city_sum(city.size());
      VIGIE_CHECK_MPI(MPI_Allreduce(city.data(), city_sum.data(), members, MPI_INT64_T, MPI_SUM, comm));
      std::copy(city_sum.begin(), city_sum.end(),
                s.city_counts.begin() + static_cast<std::ptrdiff_t>(k * members));
      if (n_areas > 0) {
        VIGIE_CHECK_MPI(MPI_Allreduce(area_local.data(), area_sum.data(), static_cast<int>(area_local.size()),
                                      MPI_INT64_T, MPI_SUM, comm));
        for (std::size_t q = 0; q < area_sum.size(); ++q) s.area_counts[q] += area_sum[q];
      }
      s.step_expected[k] = core::orderedSum(comm, gidx, std::span<const double>(e, owned));
      const std::int64_t now_done = g + 1;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
      const double eta =
          elapsed / static_cast<double>(now_done - done) * static_cast<double>(total_steps - now_done);
      VIGIE_LOG_INFO("forecast step " << now_done << "/" << total_steps << " (" << s.spec.name << " "
                                      << st.iso << "): expected " << s.step_expected[k] << " events, elapsed "
                                      << std::llround(elapsed) << " s, ETA " << std::llround(eta) << " s");
      core::faultPoint("forecast", now_done);
      const bool last = now_done == total_steps;
      const bool stop = core::stopRequested(comm) && !last;
      if (stop || (!last && checkpoint_every > 0 && now_done % checkpoint_every == 0))
        writeCheckpoint(now_done);
      if (stop)
        throw Error(ExitCode::Interrupted,
                    "forecast stopped after step " + std::to_string(now_done) + " of " +
                        std::to_string(total_steps) + "; checkpoint " + checkpoint_path.string() +
                        " (resume with --restart)",
                    true);
    }
  }
  predictor.restorePointEstimate();

  // forecast.h5, the GeoTIFFs and the horizon totals.
  nlohmann::json doc;
  doc["schema_version"] = kSchemaVersion;
  doc["case"] = core::caseName(config);
  doc["lang"] = lang;
  doc["issued_utc"] = core::utcNowIso();
  doc["crs"] = grid.spec().epsg != 0 ? "EPSG:" + std::to_string(grid.spec().epsg) : std::string("none");
  doc["grid"] = {{"x0", grid.spec().x0},
                 {"y0", grid.spec().y0},
                 {"cell_m", grid.spec().cell},
                 {"nx", grid.nx()},
                 {"ny", grid.ny()}};
  doc["data_start"] = series.bin_start_iso.front();
  doc["forecast_start"] = ingest::isoLocal(zone, start_utc);
  doc["bins_used"] = predictor.binsUsed();
  doc["categories"] = series.categories;
  doc["model"] = requested;
  doc["models"] = nlohmann::json::array();
  for (const auto& c : comps) doc["models"].push_back(c.name);
  doc["blend_weights"] = nullptr;
  if (requested == "blend") {
    for (const auto& c : comps) doc["blend_weights"][c.name] = c.weight;
  }
  doc["tuned_parameters"] = predictor.tunedParameters();
  doc["members"] = members;
  doc["parameter_draws"] = parameter_draws;
  doc["covariates"] = {{"source", conditions.source()},
                       {"weather", conditions.weatherText()},
                       {"calendar", conditions.calendarText()},
                       {"overrides", conditions.overrides()}};
  doc["hour_profile"] = {{"source", predictor.hourProfileSource()}, {"shares", hour_profile}};
  doc["main_horizon"] = main_horizon;
  doc["outline"] = outlineJson(grid);
  doc["skill"] = skillJson(bt, requested, comps);
  doc["skill"]["interval_note"] = doc["skill"].value("interval_available", false)
                                      ? nlohmann::json("block-bootstrap 95% interval over backtest windows")
                                      : nlohmann::json(nullptr);
  std::int64_t n_published = 0;
  std::int64_t n_active = 0;
  for (std::size_t c = 0; c < published.size(); ++c) {
    n_published += published[c];
    n_active += global_mask[c] != 0 ? 1 : 0;
  }
  doc["privacy"] = {
      {"min_count", min_count},
      {"radius_m", radius_m},
      {"published_cells", n_published},
      {"suppressed_cells", n_active - n_published},
      {"rule",
       "a published map shows a cell only when at least privacy.min_count events were observed within "
       "privacy.radius_m of it; Vigie holds counts per cell and time bin, never a person"}};

  std::vector<std::string> files;
  auto h5 = store::FieldFile::create(comm, dir / "forecast.h5", grid.geometry());
  writeProvenance(h5, provenance);
  h5.setAttribute("schema_version", static_cast<std::int64_t>(kSchemaVersion));
  h5.write2d<std::uint8_t>("mask", box, mask,
                           store::FieldMeta{"1", "1 where the cell is inside the study area", 0});
  h5.write2d<std::uint8_t>("published", box, owned_published,
                           store::FieldMeta{"1", "1 where privacy.min_count allows publishing the cell", 0});
  std::string horizon_list;
  doc["horizons"] = nlohmann::json::array();
  std::vector<double> tif(owned);
  for (auto& s : states) {
    const auto n = static_cast<int>(s.steps.size());
    horizon_list += (horizon_list.empty() ? "" : ",") + s.spec.name;
    for (const auto& [name, v] : s.fields) {
      const std::string desc = name == "expected" ? "expected events per cell in each step"
                               : name == "p_any"  ? "probability of at least one event per cell in each step"
                               : name.size() > 9 && name.substr(name.size() - 9) == ".expected"
                                   ? "component model's expected events per cell in each step"
                                   : "percentile over ensemble members of the expected events per cell";
      h5.write3d<double>(s.spec.name + "." + name, n, box, v,
                         store::FieldMeta{name == "p_any" ? "1" : "events/cell/step", desc, 0});
    }
    // Whole-horizon maps: the point total, P(>= 1) over the horizon and percentiles of the members' totals.
    std::map<std::string, std::vector<double>> totals;
    for (const auto& m : mapNames()) totals[m].assign(owned, 0.0);
    for (std::size_t c = 0; c < owned; ++c) {
      double any = 0.0;
      for (int m = 0; m < members; ++m) {
        const double v = s.lambda_sum[static_cast<std::size_t>(m) * owned + c];
        sorted[static_cast<std::size_t>(m)] = v;
        any += -std::expm1(-v);
      }
      totals["expected"][c] = s.lambda_sum[c];
      totals["p_any"][c] = any / members;
      std::sort(sorted.begin(), sorted.end());
      totals["p10"][c] = percentile(sorted, 0.1);
      totals["p50"][c] = percentile(sorted, 0.5);
      totals["p90"][c] = percentile(sorted, 0.9);
    }
    for (const auto& [name, v] : totals)
      h5.write2d<double>(
          s.spec.name + ".total_" + name, box, v,
          store::FieldMeta{name == "p_any" ? "1" : "events/cell", "over the whole horizon: " + name, 0});
    std::string starts;
    for (const auto& st : s.steps) starts += (starts.empty() ? "" : ",") + st.iso;
    h5.setAttribute(s.spec.name + ".step_starts", starts);
    for (const std::string m : {"expected", "p_any"}) {
      for (std::size_t c = 0; c < owned; ++c)
        tif[c] = mask[c] != 0 && owned_published[c] != 0 ? totals[m][c] : kNoData;
      const auto name = s.spec.name + "_" + m + ".tif";
      store::writeGeoTiff(grid, dir / name, tif,
                          "Vigie " + s.spec.name + " " +
                              (m == "expected" ? "expected events per cell" : "P(at least one event)") +
                              " from " + ingest::isoLocal(zone, start_utc),
                          kNoData);
      files.push_back(name);
    }

    // The JSON of the horizon: predictive totals, peak step, hotspots, areas.
    nlohmann::json hj{{"name", s.spec.name}, {"step", s.spec.unit}, {"steps", n}};
    hj["step_starts"] = nlohmann::json::array();
    hj["step_days"] = nlohmann::json::array();
    hj["per_step"] = nlohmann::json::array();
    std::vector<double> horizon_counts(static_cast<std::size_t>(members), 0.0);
    double horizon_expected = 0.0;
    std::size_t peak = 0;
    for (std::size_t k = 0; k < s.steps.size(); ++k) {
      hj["step_starts"].push_back(s.steps[k].iso);
      hj["step_days"].push_back(s.steps[k].to - s.steps[k].from);
      std::vector<double> counts(static_cast<std::size_t>(members));
      for (int m = 0; m < members; ++m) {
        counts[static_cast<std::size_t>(m)] =
            static_cast<double>(s.city_counts[k * members + static_cast<std::size_t>(m)]);
        horizon_counts[static_cast<std::size_t>(m)] += counts[static_cast<std::size_t>(m)];
      }
      hj["per_step"].push_back(band(s.step_expected[k], counts));
      horizon_expected += s.step_expected[k];
      if (s.step_expected[k] > s.step_expected[peak]) peak = k;
    }
    hj["total"] = band(horizon_expected, horizon_counts);
    hj["peak_step"] = peak;
    // Hotspots: the published cells with the highest expected total (ties: lower global index).
    const auto whole_e = models::gatherWholeGrid(grid, totals["expected"], 1);
    const auto whole_any = models::gatherWholeGrid(grid, totals["p_any"], 1);
    const auto whole_p10 = models::gatherWholeGrid(grid, totals["p10"], 1);
    const auto whole_p90 = models::gatherWholeGrid(grid, totals["p90"], 1);
    std::vector<std::size_t> order;
    for (std::size_t c = 0; c < whole_e.size(); ++c) {
      if (published[c] != 0 && whole_e[c] > 0.0) order.push_back(c);
    }
    const auto k_top = std::min<std::size_t>(order.size(), static_cast<std::size_t>(top_k));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k_top), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        return whole_e[a] != whole_e[b] ? whole_e[a] > whole_e[b] : a < b;
                      });
    order.resize(k_top);
    // Factors from the owner of each cell, by the heaviest component that explains itself.
    nlohmann::json mine = nlohmann::json::object();
    for (const auto gcell : order) {
      const int i = static_cast<int>(gcell % static_cast<std::size_t>(grid.nx()));
      const int j = static_cast<int>(gcell / static_cast<std::size_t>(grid.nx()));
      if (i < box.i0 || i >= box.i0 + box.ni || j < box.j0 || j >= box.j0 + box.nj) continue;
      const auto c = static_cast<std::size_t>(j - box.j0) * static_cast<std::size_t>(box.ni) +
                     static_cast<std::size_t>(i - box.i0);
      nlohmann::json fl = nlohmann::json::array();
      const auto factors = predictor.factors(c);
      // The three largest effects, leaving out those within 2% of no effect.
      for (std::size_t q = 0; q < factors.size() && q < 3; ++q) {
        if (std::abs(std::log(factors[q].multiplier)) < std::log(1.02)) break;
        fl.push_back({{"name", factors[q].name},
                      {"multiplier", factors[q].multiplier},
                      {"meaning", factors[q].meaning}});
      }
      mine[std::to_string(gcell)] = fl;
    }
    const auto gathered = gatherStrings(comm, mine.dump());
    if (rank == 0) {
      nlohmann::json factors = nlohmann::json::object();
      for (const auto& text : gathered) factors.update(nlohmann::json::parse(text));
      hj["hotspots"] = nlohmann::json::array();
      int r = 1;
      for (const auto gcell : order) {
        const int i = static_cast<int>(gcell % static_cast<std::size_t>(grid.nx()));
        const int j = static_cast<int>(gcell / static_cast<std::size_t>(grid.nx()));
        const auto centre = grid.cellCentre(i, j);
        nlohmann::json hs{{"rank", r++},
                          {"i", i},
                          {"j", j},
                          {"x", centre[0]},
                          {"y", centre[1]},
                          {"expected", whole_e[gcell]},
                          {"p_any", whole_any[gcell]},
                          {"p10", whole_p10[gcell]},
                          {"p90", whole_p90[gcell]}};
        if (grid.geographic()) {
          const auto ll = grid.toLonLat(centre[0], centre[1]);
          hs["lon"] = ll[0];
          hs["lat"] = ll[1];
          const double half = 0.5 * grid.spec().cell;
          nlohmann::json ring = nlohmann::json::array();
          for (const auto& [dx, dy] :
               std::vector<std::pair<double, double>>{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}}) {
            const auto p = grid.toLonLat(centre[0] + dx * half, centre[1] + dy * half);
            ring.push_back({p[0], p[1]});
          }
          hs["cell_lonlat"] = ring;
        } else {
          hs["lon"] = nullptr;
          hs["lat"] = nullptr;
          hs["cell_lonlat"] = nullptr;
        }
        hs["area"] = !areas.of_cell.empty() && areas.of_cell[gcell] >= 0
                         ? nlohmann::json(areas.names[static_cast<std::size_t>(areas.of_cell[gcell])])
                         : nlohmann::json(nullptr);
        hs["factors"] = factors.contains(std::to_string(gcell)) ? factors[std::to_string(gcell)]
                                                                : nlohmann::json::array();
        hj["hotspots"].push_back(std::move(hs));
      }
      // Areas: the point total in global index order; percentiles of the members' Poisson counts.
      if (n_areas > 0) {
        if (!doc.contains("areas") || doc["areas"].is_null()) {
          doc["areas"] = {{"file", areas.file.filename().string()},
                          {"name_property", areas.property},
                          {"list", nlohmann::json::array()}};
          for (std::size_t a = 0; a < n_areas; ++a) {
            std::int64_t cells = 0;
            for (std::size_t c = 0; c < areas.of_cell.size(); ++c)
              cells += areas.of_cell[c] == static_cast<std::int32_t>(a) && global_mask[c] != 0 ? 1 : 0;
            doc["areas"]["list"].push_back(
                {{"name", areas.names[a]}, {"cells", cells}, {"horizons", nlohmann::json::object()}});
          }
        }
        std::vector<double> area_expected(n_areas, 0.0);
        for (std::size_t c = 0; c < whole_e.size(); ++c) {
          if (areas.of_cell[c] >= 0) area_expected[static_cast<std::size_t>(areas.of_cell[c])] += whole_e[c];
        }
        for (std::size_t a = 0; a < n_areas; ++a) {
          std::vector<double> counts(static_cast<std::size_t>(members));
          for (int m = 0; m < members; ++m)
            counts[static_cast<std::size_t>(m)] =
                static_cast<double>(s.area_counts[static_cast<std::size_t>(m) * n_areas + a]);
          auto& entry = doc["areas"]["list"][a];
          entry["horizons"][s.spec.name] = band(area_expected[a], counts);
          if (s.spec.name == main_horizon) {
            nlohmann::json by_hour = nlohmann::json::array();
            for (const double share : hour_profile) by_hour.push_back(area_expected[a] * share);
            entry["by_hour"] = by_hour;
          }
        }
      }
    }
    doc["horizons"].push_back(std::move(hj));
  }
  if (n_areas == 0) doc["areas"] = nullptr;
  h5.setAttribute("horizons", horizon_list);
  h5.commit();
  files.insert(files.begin(), {"forecast.h5", "forecast.h5.xmf"});

  // forecast.json and the planners' products (rank 0), then the checkpoint is no longer needed.
  finite(doc);
  files.insert(files.end(), {"forecast.json"});
  if (rank == 0) {
    for (const auto& f : forecastProductNames(doc)) files.push_back(f);
    doc["outputs"] = files;  // names in the forecast folder
    writeForecastProducts(doc, dir);
    const auto tmp = dir / "forecast.json.tmp";
    {
      std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
      os << doc.dump(2) << "\n";
      if (!os.flush()) throw Error(ExitCode::Io, tmp.string() + ": cannot write");
    }
    std::filesystem::rename(tmp, dir / "forecast.json");
    std::error_code ignored;
    std::filesystem::remove(checkpoint_path, ignored);
    std::filesystem::remove(std::filesystem::path(checkpoint_path.string() + ".xmf"), ignored);
  }
  // Every rank returns the same document.
  {
    std::string text = rank == 0 ? doc.dump() : std::string();
    long long n = static_cast<long long>(text.size());
    VIGIE_CHECK_MPI(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, comm));
    text.resize(static_cast<std::size_t>(n));
    if (n > 0) VIGIE_CHECK_MPI(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, comm));
    doc = nlohmann::json::parse(text);
    files = doc["outputs"].get<std::vector<std::string>>();
  }
  VIGIE_CHECK_MPI(MPI_Barrier(comm));
  result.doc = doc;
  for (const auto& f : files) result.outputs.push_back("forecast/" + f);
  return result;
}

}  // namespace vigie::forecast
