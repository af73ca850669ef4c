#include "scenario/ScenarioRun.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "core/Timer.hpp"
#include "forecast/ForecastDriver.hpp"
#include "forecast/FutureConditions.hpp"
#include "forecast/MapSupport.hpp"
#include "forecast/Predictor.hpp"
#include "ingest/TimeBinning.hpp"
#include "models/baselines/BaselineSupport.hpp"
#include "models/sepp/SeppModel.hpp"
#include "scenario/ScenarioReport.hpp"
#include "scenario/ScenarioSpec.hpp"
#include "store/FieldFile.hpp"

namespace vigie::scenario {

using core::Error;
using core::ExitCode;

namespace {

constexpr int kSchemaVersion = 1;
constexpr std::uint64_t kEffectKey = 0x5CE7A210EFFEC7ULL;

/// One event, works or intervention as the engine applies it: its cells, its active window and its effect.
struct Source {
  std::string type;  ///< event, works, intervention
  std::string name;
  std::string kind;
  const Area* area = nullptr;
  std::int64_t active0 = 0;  ///< UTC: the window with an event's pre and post hours
  std::int64_t active1 = 0;
  double effect = 0.0;
  double effect_sd = 0.0;
  double crowd = 0.0;
  double elasticity = 0.0;
  bool event = false;
  std::string basis;
  std::string start_iso, end_iso;
  std::vector<std::uint8_t> owned;  ///< 1 on the owned cells it covers

  /// The factor on the expected incidents inside the area for a given effect size (never below 0).
  [[nodiscard]] double multiplier(double e) const {
    const double m = event ? 1.0 + e * std::pow(crowd / 10000.0, elasticity) : 1.0 + e;
    return std::max(0.0, m);
  }
};

/// Member m's effect size of source s: the stated value for member 0, else N(effect, sd) keyed by (seed, s,
/// m).
double effectOf(const Source& src, std::size_t s, int m, std::uint64_t seed) {
  if (m == 0 || src.effect_sd <= 0.0) return src.effect;
  core::RandomStream rng(seed ^ kEffectKey, static_cast<std::uint64_t>(s), static_cast<std::uint32_t>(m));
  return src.effect + src.effect_sd * rng.normal();
}

/// What one member contributes: whole-grid window totals and city totals per step (group root only).
struct MemberData {
  std::vector<double> base_total;
  std::vector<double> scen_total;
  std::vector<double> base_steps;  ///< [step] city totals
  std::vector<double> scen_steps;
};

/// Share of [utc0, utc1) that falls on a local Saturday or Sunday.
double weekendShare(const ingest::TimeZone& zone, std::int64_t utc0, std::int64_t utc1) {
  if (utc1 <= utc0) return 0.0;
  std::int64_t weekend = 0;
  std::int64_t t = utc0;
  while (t < utc1) {
    const std::int64_t civil = zone.toCivil(t);
    const std::int64_t day = civil >= 0 ? civil / 86400 : -((-civil + 86399) / 86400);
    // The next local midnight, found in UTC (at most one offset change a day).
    std::int64_t next = std::min(utc1, t + ((day + 1) * 86400 - civil));
    if (next <= t) next = utc1;
    const auto weekday = ((day % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday: 0 = Monday
    if (weekday >= 5) weekend += next - t;
    t = next;
  }
  return static_cast<double>(weekend) / static_cast<double>(utc1 - utc0);
}

nlohmann::json bandOf(double expected, std::vector<double> v) {
  double mean = 0.0;
  for (const double x : v) mean += x;
  mean = v.empty() ? 0.0 : mean / static_cast<double>(v.size());
  auto b = forecast::band(expected, std::move(v));
  b["mean"] = mean;
  return b;
}

}  // namespace

void ScenarioRun::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("scenario.file", OptionType::Path, "",
           "the scenario to run against the baseline (vigie scenario --scenario FILE.ini; docs/scenarios.md)")
      .add("scenario.members", OptionType::Int, "64",
           "ensemble members of the baseline and the scenario, paired (member 0 = the point estimate; the "
           "others draw the fitted parameters and the assumed effect sizes)")
      .add(
          "scenario.a0_elasticity", OptionType::Double, "0.5",
          "vigie simulate --model short2008 --scenario: an event multiplies A0 inside its area by 1 + effect "
          "(crowd / 10000)^a0_elasticity from start - pre_hours to end + post_hours (an assumption)")
      .add("scenario.agents_per_person", OptionType::Double, "1e-3",
           "vigie simulate --model agents --scenario: an event adds round(crowd * agents_per_person) agents "
           "spread uniformly over its area's active cells at its start, removed at end + post_hours")
      .add("scenario.groups", OptionType::Int, "1",
           "member groups: MPI_COMM_WORLD is split into this many communicators, each decomposing the grid "
           "and "
           "computing a share of the members (at most the number of ranks)")
      .add("scenario.weekend_ratio", OptionType::Double, "0.83",
           "assumed rate on a Saturday or Sunday over a weekday, applied to baseline and scenario alike when "
           "the "
           "store's bins (week, month) cannot show the day of the week; 1 = no day-of-week effect. Default: "
           "the sepp weekend factor of the Vancouver injury collisions 2018-2023, 0.83 [0.79, 0.88]")
      .add("scenario.weekend_ratio_sd_log", OptionType::Double, "0.0275",
           "standard deviation of log(scenario.weekend_ratio) for the ensemble draws (Vancouver: the 95% "
           "interval's half-width on the log scale over 1.96)")
      .add("scenario.weekend_ratio_basis", OptionType::String,
           "Vancouver VPD injury collisions 2018-2023 (inputs/vancouver), vigie fit --sepp.categories="
           "collision_injury: weekend x0.83 [0.79, 0.88]",
           "where scenario.weekend_ratio comes from (printed with the results)");
}

ScenarioResult ScenarioRun::run(MPI_Comm world, const grid::GridSpec& spec,
                                const std::vector<std::uint8_t>& global_mask, const core::Config& config,
                                const core::Provenance& provenance, const std::filesystem::path& out) {
  core::ScopedTimer total_timer("scenario");
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(world, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(world, &size));
  const auto file = config.getPath("scenario.file");
  if (file.empty())
    throw Error(ExitCode::Usage, "vigie scenario needs --scenario FILE.ini (option scenario.file)", true);
  const int members = static_cast<int>(config.getInt("scenario.members"));
  if (members < 1 || members > 4096) throw Error(ExitCode::Usage, "scenario.members must be 1 to 4096", true);
  const int groups = static_cast<int>(config.getInt("scenario.groups"));
  if (groups < 1 || groups > size || groups > members)
    throw Error(ExitCode::Usage,
                "scenario.groups must be 1 to the number of ranks (" + std::to_string(size) +
                    ") and at most scenario.members",
                true);
  const auto lang = config.getString("output.lang");
  if (lang != "en" && lang != "fr") throw Error(ExitCode::Usage, "output.lang must be en or fr", true);
  const ingest::TimeZone zone(forecast::storeTimeZone(world, out / "obs.h5"));

  // The world grid (for the outputs) and the scenario file, checked before any model work.
  grid::CityGrid world_grid(world, spec);
  world_grid.setMask(global_mask);
  const auto sc = ScenarioSpec::read(file, zone, world_grid);

  // Member groups: contiguous blocks of ranks, contiguous blocks of members.
  const int color = static_cast<int>(static_cast<long long>(rank) * groups / size);
  MPI_Comm group = MPI_COMM_NULL;
  VIGIE_CHECK_MPI(MPI_Comm_split(world, color, rank, &group));
  const auto group_root = [&](int c) {
    for (int r = 0; r < size; ++r) {
      if (static_cast<long long>(r) * groups / size == c) return r;
    }
    return 0;
  };
  const int m0 = static_cast<int>(static_cast<long long>(color) * members / groups);
  const int m1 = static_cast<int>(static_cast<long long>(color + 1) * members / groups);
  const auto group_of = [&](int m) {
    for (int c = 0; c < groups; ++c) {
      if (m < static_cast<int>(static_cast<long long>(c + 1) * members / groups)) return c;
    }
    return groups - 1;
  };

  ScenarioResult result;
  {
    grid::CityGrid grid(group, spec);
    grid.setMask(global_mask);
    int grank = 0;
    VIGIE_CHECK_MPI(MPI_Comm_rank(group, &grank));
    forecast::Predictor predictor(grid, config, provenance, out);
    const auto base_conditions = forecast::FutureConditions::fromConfig(config);
    const auto scen_config = config.withOverrides(sc.configOverrides());
    const auto scen_conditions = forecast::FutureConditions::fromConfig(scen_config);
    const auto base_future = predictor.makeFuture(base_conditions);
    const auto scen_future = predictor.makeFuture(scen_conditions);
    if (sc.window.start_utc < predictor.startUtc())
      throw Error(ExitCode::Usage,
                  file.string() + ": [scenario] start: " + sc.window.start_iso +
                      " is before the forecast start " + ingest::isoLocal(zone, predictor.startUtc()) +
                      " (the end of the observation store)",
                  true);
    const auto steps = forecast::calendarSteps(sc.step, zone, sc.window.start_utc, 100000, sc.window.end_utc,
                                               predictor.startUtc());
    const auto ns = steps.size();

    // The sources on this group's owned cells.
    const auto& box = grid.ownedBox();
    const auto owned = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
    std::vector<Source> sources;
    for (const auto& e : sc.events) {
      Source s;
      s.type = "event";
      s.name = e.name;
      s.kind = e.kind;
      s.area = &e.area;
      s.active0 = e.when.start_utc - static_cast<std::int64_t>(std::llround(e.pre_hours * 3600.0));
      s.active1 = e.when.end_utc + static_cast<std::int64_t>(std::llround(e.post_hours * 3600.0));
      s.effect = e.effect;
      s.effect_sd = e.effect_sd;
      s.crowd = e.crowd;
      s.elasticity = e.elasticity;
      s.event = true;
      s.basis = "assumption: default of the kind or the scenario's value, not estimated from data";
      s.start_iso = ingest::isoLocal(zone, e.when.start_utc);
      s.end_iso = ingest::isoLocal(zone, e.when.end_utc);
      sources.push_back(std::move(s));
    }
    for (const auto* list : {&sc.works, &sc.interventions}) {
      for (const auto& w : *list) {
        Source s;
        s.type = list == &sc.works ? "works" : "intervention";
        s.name = w.name;
        s.area = &w.area;
        s.active0 = w.when.start_utc;
        s.active1 = w.when.end_utc;
        s.effect = w.effect;
        s.effect_sd = w.effect_sd;
        s.basis = w.basis;
        s.start_iso = ingest::isoLocal(zone, w.when.start_utc);
        s.end_iso = ingest::isoLocal(zone, w.when.end_utc);
        sources.push_back(std::move(s));
      }
    }
    for (auto& s : sources) s.owned = s.area->cells(grid, box);

    // Day of the week: an assumption when the store's bins cannot show it (week and month bins).
    const double weekend_ratio = config.getDouble("scenario.weekend_ratio");
    const double weekend_sd = config.getDouble("scenario.weekend_ratio_sd_log");
    if (!(weekend_ratio > 0.0) || !(weekend_sd >= 0.0))
      throw Error(ExitCode::Usage,
                  "scenario.weekend_ratio must be positive and scenario.weekend_ratio_sd_log non-negative",
                  true);
    const bool day_of_week =
        weekend_ratio != 1.0 && (predictor.series().bin == "week" || predictor.series().bin == "month");
    std::vector<double> weekend_share(ns, 0.0);
    for (std::size_t k = 0; k < ns; ++k) weekend_share[k] = weekendShare(zone, steps[k].utc0, steps[k].utc1);
    const auto dayFactor = [&](int m, std::size_t k) {
      if (!day_of_week) return 1.0;
      double r = weekend_ratio;
      if (m > 0 && weekend_sd > 0.0) {
        core::RandomStream rng(provenance.seed ^ kEffectKey, 1000000, static_cast<std::uint32_t>(m));
        r = weekend_ratio * std::exp(weekend_sd * rng.normal());
      }
      // Normalised so that a whole week keeps its total: 5 weekdays at w_d and 2 weekend days at r w_d.
      const double wd = 7.0 / (5.0 + 2.0 * r);
      return wd * (1.0 - weekend_share[k]) + r * wd * weekend_share[k];
    };

    // The paired members of this group.
    std::vector<double> lam_b(owned);
    std::vector<double> lam_s(owned);
    std::vector<double> tot_b(owned);
    std::vector<double> tot_s(owned);
    std::vector<double> step_maps_b;  // member 0: [step][owned]
    std::vector<double> step_maps_s;
    const auto gidx = grid.ownedGlobalIndices();
    std::map<int, MemberData> mine;  // group root only
    nlohmann::json covariate_changes = nlohmann::json::array();
    for (int m = m0; m < m1; ++m) {
      core::ScopedTimer timer("scenario member");
      std::fill(tot_b.begin(), tot_b.end(), 0.0);
      std::fill(tot_s.begin(), tot_s.end(), 0.0);
      MemberData data;
      std::vector<double> factor(sources.size());
      for (std::size_t q = 0; q < sources.size(); ++q)
        factor[q] = sources[q].multiplier(effectOf(sources[q], q, m, provenance.seed));
      if (m == 0) {
        step_maps_b.assign(ns * owned, 0.0);
        step_maps_s.assign(ns * owned, 0.0);
      }
      for (std::size_t k = 0; k < ns; ++k) {
        const auto& st = steps[k];
        predictor.setFuture(base_future);
        predictor.expected(m, st.from, st.to, st.hour, lam_b);
        predictor.setFuture(scen_future);
        predictor.expected(m, st.from, st.to, st.hour, lam_s);
        const double dow = dayFactor(m, k);
        if (dow != 1.0) {
          for (std::size_t c = 0; c < owned; ++c) {
            lam_b[c] *= dow;
            lam_s[c] *= dow;
          }
        }
        // Sources: inside an area, the expected count of the step is multiplied by 1 + (factor - 1) f, f the
        // share of the step the source is active.
        for (std::size_t q = 0; q < sources.size(); ++q) {
          const auto& src = sources[q];
          const auto a = std::max(src.active0, st.utc0);
          const auto b = std::min(src.active1, st.utc1);
          if (b <= a) continue;
          const double f = static_cast<double>(b - a) / static_cast<double>(st.utc1 - st.utc0);
          const double mult = 1.0 + (factor[q] - 1.0) * f;
          for (std::size_t c = 0; c < owned; ++c) {
            if (src.owned[c] != 0) lam_s[c] *= mult;
          }
        }
        for (std::size_t c = 0; c < owned; ++c) {
          tot_b[c] += lam_b[c];
          tot_s[c] += lam_s[c];
        }
        data.base_steps.push_back(core::orderedSum(group, gidx, lam_b));
        data.scen_steps.push_back(core::orderedSum(group, gidx, lam_s));
        if (m == 0) {
          std::copy(lam_b.begin(), lam_b.end(), step_maps_b.begin() + static_cast<std::ptrdiff_t>(k * owned));
          std::copy(lam_s.begin(), lam_s.end(), step_maps_s.begin() + static_cast<std::ptrdiff_t>(k * owned));
        }
      }
      data.base_total = models::gatherWholeGrid(grid, tot_b, 1);
      data.scen_total = models::gatherWholeGrid(grid, tot_s, 1);
      if (m == 0 && ns > 0) {
        // What the scenario's weather and calendar change in the fitted covariates (first step), from data.
        for (const auto& comp : predictor.components()) {
          const auto* sepp = dynamic_cast<const models::SeppModel*>(comp.model.get());
          if (sepp == nullptr) continue;
          auto* model = comp.model.get();
          model->setFuture(base_future);
          const auto zb = sepp->temporalCovariates(steps[0].from, steps[0].to);
          model->setFuture(scen_future);
          const auto zs = sepp->temporalCovariates(steps[0].from, steps[0].to);
          for (std::size_t k = 0; k < zb.size() && k < zs.size(); ++k) {
            const auto& [name, beta, z_base] = zb[k];
            const double z_scen = std::get<2>(zs[k]);
            if (z_scen == z_base) continue;
            covariate_changes.push_back({{"model", comp.name},
                                         {"name", name},
                                         {"beta", beta},
                                         {"z_baseline", z_base},
                                         {"z_scenario", z_scen},
                                         {"factor", std::exp(beta * (z_scen - z_base))}});
          }
        }
      }
      if (grank == 0) mine.emplace(m, std::move(data));
    }
    predictor.restorePointEstimate();

    // Member 0's step maps, whole grid, on world rank 0 (group 0's root).
    std::vector<double> whole_steps_b;
    std::vector<double> whole_steps_s;
    if (color == 0) {
      for (std::size_t k = 0; k < ns; ++k) {
        const std::span<const double> b(step_maps_b.data() + k * owned, owned);
        const std::span<const double> s(step_maps_s.data() + k * owned, owned);
        const auto wb = models::gatherWholeGrid(grid, b, 1);
        const auto ws = models::gatherWholeGrid(grid, s, 1);
        whole_steps_b.insert(whole_steps_b.end(), wb.begin(), wb.end());
        whole_steps_s.insert(whole_steps_s.end(), ws.begin(), ws.end());
      }
    }

    // Every member's data to world rank 0.
    const auto plane = static_cast<std::size_t>(spec.nx) * static_cast<std::size_t>(spec.ny);
    const std::size_t packed = 2 * plane + 2 * ns;
    std::vector<MemberData> all(rank == 0 ? static_cast<std::size_t>(members) : 0);
    for (int m = 0; m < members; ++m) {
      const int c = group_of(m);
      const int src_rank = group_root(c);
      if (rank == src_rank && rank != 0) {
        const auto& d = mine.at(m);
        std::vector<double> buf;
        buf.reserve(packed);
        for (const auto* v : {&d.base_total, &d.scen_total, &d.base_steps, &d.scen_steps})
          buf.insert(buf.end(), v->begin(), v->end());
        VIGIE_CHECK_MPI(MPI_Send(buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE, 0, m, world));
      } else if (rank == 0) {
        if (src_rank == 0) {
          all[static_cast<std::size_t>(m)] = std::move(mine.at(m));
        } else {
          std::vector<double> buf(packed);
          VIGIE_CHECK_MPI(MPI_Recv(buf.data(), static_cast<int>(packed), MPI_DOUBLE, src_rank, m, world,
                                   MPI_STATUS_IGNORE));
          auto& d = all[static_cast<std::size_t>(m)];
          auto it = buf.begin();
          d.base_total.assign(it, it + static_cast<std::ptrdiff_t>(plane));
          it += static_cast<std::ptrdiff_t>(plane);
          d.scen_total.assign(it, it + static_cast<std::ptrdiff_t>(plane));
          it += static_cast<std::ptrdiff_t>(plane);
          d.base_steps.assign(it, it + static_cast<std::ptrdiff_t>(ns));
          it += static_cast<std::ptrdiff_t>(ns);
          d.scen_steps.assign(it, it + static_cast<std::ptrdiff_t>(ns));
        }
      }
    }

    // World rank 0: percentiles, totals, the document.
    std::vector<double>
        maps;  // baseline_total, scenario_total, delta_total, mean, p10, p50, p90 (whole grid)
    nlohmann::json doc;
    const auto published =
        forecast::publishedCells(world_grid, global_mask, predictor.observedTotal(),
                                 config.getInt("privacy.min_count"), config.getDouble("privacy.radius_m"));
    std::vector<std::uint8_t> influence(plane, 0);
    std::vector<std::int64_t> source_cells(sources.size(), 0);
    {
      // Sources' cells on the whole grid (every rank: a source's cells do not depend on the box).
      const store::Box whole{0, 0, spec.nx, spec.ny};
      for (std::size_t q = 0; q < sources.size(); ++q) {
        const auto cells = sources[q].area->cells(world_grid, whole);
        for (std::size_t c = 0; c < plane; ++c) {
          influence[c] = influence[c] != 0 || cells[c] != 0 ? 1 : 0;
          source_cells[q] += cells[c];
        }
      }
    }
    const auto areas = forecast::readAreas(world_grid, config);
    if (rank == 0) {
      maps.assign(7 * plane, 0.0);
      std::vector<double> v(static_cast<std::size_t>(members));
      for (std::size_t c = 0; c < plane; ++c) {
        double mean = 0.0;
        for (int m = 0; m < members; ++m) {
          const auto& d = all[static_cast<std::size_t>(m)];
          v[static_cast<std::size_t>(m)] = d.scen_total[c] - d.base_total[c];
          mean += v[static_cast<std::size_t>(m)];
        }
        std::sort(v.begin(), v.end());
        maps[0 * plane + c] = all[0].base_total[c];
        maps[1 * plane + c] = all[0].scen_total[c];
        maps[2 * plane + c] = all[0].scen_total[c] - all[0].base_total[c];
        maps[3 * plane + c] = mean / members;
        maps[4 * plane + c] = forecast::percentile(v, 0.1);
        maps[5 * plane + c] = forecast::percentile(v, 0.5);
        maps[6 * plane + c] = forecast::percentile(v, 0.9);
      }
      doc["schema_version"] = kSchemaVersion;
      doc["case"] = core::caseName(config);
      doc["lang"] = lang;
      doc["issued_utc"] = core::utcNowIso();
      doc["scenario"] = {{"name", sc.name},
                         {"description", sc.description},
                         {"file", file.string()},
                         {"start", ingest::isoLocal(zone, sc.window.start_utc)},
                         {"end", ingest::isoLocal(zone, sc.window.end_utc)},
                         {"step", sc.step}};
      doc["forecast_start"] = ingest::isoLocal(zone, predictor.startUtc());
      doc["model"] = predictor.model();
      doc["members"] = members;
      doc["groups"] = groups;
      doc["parameter_draws"] = predictor.parameterDraws();
      doc["crs"] = spec.epsg != 0 ? "EPSG:" + std::to_string(spec.epsg) : std::string("none");
      doc["grid"] = {
          {"x0", spec.x0}, {"y0", spec.y0}, {"cell_m", spec.cell}, {"nx", spec.nx}, {"ny", spec.ny}};
      const auto conditionsJson = [](const forecast::FutureConditions& c) {
        return nlohmann::json{{"source", c.source()},
                              {"weather", c.weatherText()},
                              {"calendar", c.calendarText()},
                              {"overrides", c.overrides()}};
      };
      doc["covariates"] = {{"baseline", conditionsJson(base_conditions)},
                           {"scenario", conditionsJson(scen_conditions)}};
      doc["covariate_changes"] = covariate_changes;
      doc["sources"] = nlohmann::json::array();
      for (std::size_t q = 0; q < sources.size(); ++q) {
        const auto& s = sources[q];
        const auto cells = source_cells[q];
        doc["sources"].push_back({{"type", s.type},
                                  {"name", s.name},
                                  {"kind", s.event ? nlohmann::json(s.kind) : nlohmann::json()},
                                  {"area", s.area->text()},
                                  {"cells", cells},
                                  {"start", s.start_iso},
                                  {"end", s.end_iso},
                                  {"active_start", ingest::isoLocal(zone, s.active0)},
                                  {"active_end", ingest::isoLocal(zone, s.active1)},
                                  {"crowd", s.event ? nlohmann::json(s.crowd) : nlohmann::json()},
                                  {"effect", s.effect},
                                  {"effect_sd", s.effect_sd},
                                  {"elasticity", s.event ? nlohmann::json(s.elasticity) : nlohmann::json()},
                                  {"multiplier", s.multiplier(s.effect)},
                                  {"basis", s.basis}});
      }
      doc["assumptions"] = sc.assumptions;
      // A weather or calendar override acts only through a fitted covariate: say so when none takes it.
      std::vector<std::string> taken;
      for (const auto& c : covariate_changes) taken.push_back(c["name"].get<std::string>());
      const auto has = [&](const std::string& n) {
        return std::find(taken.begin(), taken.end(), n) != taken.end();
      };
      for (const auto& [var, value] : sc.weather) {
        if (has(var) || (var == "rain_mm" && has("rain_day"))) continue;
        doc["assumptions"].push_back(
            "The weather value " + var + " = " + forecast::formatNumber(value) +
            " changes nothing here: no fitted covariate of the model uses " + var +
            " in the scenario's window (the data could not show its effect, or it is "
            "not configured in sepp.covariates).");
      }
      if (!sc.public_holidays.empty() && !has("public_holiday"))
        doc["assumptions"].push_back(
            "The scenario's public holidays change nothing here: the model has no fitted public_holiday "
            "covariate in the scenario's window.");
      doc["day_of_week"] = {{"applied", day_of_week},
                            {"weekend_ratio", weekend_ratio},
                            {"weekend_ratio_sd_log", weekend_sd},
                            {"basis", config.getString("scenario.weekend_ratio_basis")},
                            {"weekday_factor", 7.0 / (5.0 + 2.0 * weekend_ratio)},
                            {"weekend_factor", weekend_ratio * 7.0 / (5.0 + 2.0 * weekend_ratio)}};
      if (day_of_week) {
        std::ostringstream os;
        os << "The case's data have no day of the week (" << predictor.series().bin
           << " bins), so baseline and scenario assume a weekend rate " << weekend_ratio
           << " times a weekday's (normalised over the week: weekday x" << 7.0 / (5.0 + 2.0 * weekend_ratio)
           << ", weekend day x" << weekend_ratio * 7.0 / (5.0 + 2.0 * weekend_ratio)
           << "), estimated on another case: " << config.getString("scenario.weekend_ratio_basis") << ".";
        doc["assumptions"].push_back(os.str());
      }
      // Totals over the window: member 0 and the members' distribution (expected counts, no Poisson noise).
      std::vector<double> tb(static_cast<std::size_t>(members));
      std::vector<double> ts(tb.size());
      std::vector<double> td(tb.size());
      for (int m = 0; m < members; ++m) {
        const auto& d = all[static_cast<std::size_t>(m)];
        double b = 0.0;
        double s = 0.0;
        for (std::size_t k = 0; k < ns; ++k) {
          b += d.base_steps[k];
          s += d.scen_steps[k];
        }
        tb[static_cast<std::size_t>(m)] = b;
        ts[static_cast<std::size_t>(m)] = s;
        td[static_cast<std::size_t>(m)] = s - b;
      }
      doc["totals"] = {
          {"baseline", bandOf(tb[0], tb)}, {"scenario", bandOf(ts[0], ts)}, {"delta", bandOf(td[0], td)}};
      doc["per_step"] = nlohmann::json::array();
      std::size_t peak = 0;
      for (std::size_t k = 0; k < ns; ++k) {
        std::vector<double> dk(static_cast<std::size_t>(members));
        for (int m = 0; m < members; ++m) {
          const auto& d = all[static_cast<std::size_t>(m)];
          dk[static_cast<std::size_t>(m)] = d.scen_steps[k] - d.base_steps[k];
        }
        const double d0 = dk[0];
        std::sort(dk.begin(), dk.end());
        doc["per_step"].push_back({{"start", steps[k].iso},
                                   {"baseline", all[0].base_steps[k]},
                                   {"scenario", all[0].scen_steps[k]},
                                   {"delta", d0},
                                   {"delta_p10", forecast::percentile(dk, 0.1)},
                                   {"delta_p90", forecast::percentile(dk, 0.9)}});
        const double dpeak = all[0].scen_steps[peak] - all[0].base_steps[peak];
        if (d0 > dpeak) peak = k;
      }
      doc["peak_step"] = peak;
      // Top cells by |delta| of member 0 among published cells (ties: lower index).
      std::vector<std::size_t> order;
      for (std::size_t c = 0; c < plane; ++c) {
        if (published[c] != 0 && maps[2 * plane + c] != 0.0) order.push_back(c);
      }
      const auto k_top = std::min<std::size_t>(10, order.size());
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k_top), order.end(),
                        [&](std::size_t a, std::size_t b) {
                          const double da = std::abs(maps[2 * plane + a]);
                          const double db = std::abs(maps[2 * plane + b]);
                          return da != db ? da > db : a < b;
                        });
      order.resize(k_top);
      doc["top_cells"] = nlohmann::json::array();
      int r = 1;
      for (const auto c : order) {
        const int i = static_cast<int>(c % static_cast<std::size_t>(spec.nx));
        const int j = static_cast<int>(c / static_cast<std::size_t>(spec.nx));
        const auto centre = world_grid.cellCentre(i, j);
        nlohmann::json cell{{"rank", r++},
                            {"i", i},
                            {"j", j},
                            {"x", centre[0]},
                            {"y", centre[1]},
                            {"baseline", maps[c]},
                            {"scenario", maps[plane + c]},
                            {"delta", maps[2 * plane + c]},
                            {"delta_p10", maps[4 * plane + c]},
                            {"delta_p90", maps[6 * plane + c]}};
        if (world_grid.geographic()) {
          const auto ll = world_grid.toLonLat(centre[0], centre[1]);
          cell["lon"] = ll[0];
          cell["lat"] = ll[1];
        }
        cell["area"] = !areas.of_cell.empty() && areas.of_cell[c] >= 0
                           ? nlohmann::json(areas.names[static_cast<std::size_t>(areas.of_cell[c])])
                           : nlohmann::json();
        doc["top_cells"].push_back(std::move(cell));
      }
      if (areas.names.empty()) {
        doc["areas"] = nullptr;
      } else {
        doc["areas"] = nlohmann::json::array();
        for (std::size_t a = 0; a < areas.names.size(); ++a) {
          std::vector<double> da(static_cast<std::size_t>(members), 0.0);
          double b0 = 0.0;
          double s0 = 0.0;
          for (std::size_t c = 0; c < plane; ++c) {
            if (areas.of_cell[c] != static_cast<std::int32_t>(a)) continue;
            b0 += all[0].base_total[c];
            s0 += all[0].scen_total[c];
            for (int m = 0; m < members; ++m) {
              const auto& d = all[static_cast<std::size_t>(m)];
              da[static_cast<std::size_t>(m)] += d.scen_total[c] - d.base_total[c];
            }
          }
          std::sort(da.begin(), da.end());
          doc["areas"].push_back({{"name", areas.names[a]},
                                  {"baseline", b0},
                                  {"scenario", s0},
                                  {"delta", s0 - b0},
                                  {"delta_p10", forecast::percentile(da, 0.1)},
                                  {"delta_p90", forecast::percentile(da, 0.9)}});
        }
      }
      std::int64_t n_pub = 0;
      std::int64_t n_act = 0;
      for (std::size_t c = 0; c < plane; ++c) {
        n_pub += published[c];
        n_act += global_mask[c] != 0 ? 1 : 0;
      }
      doc["privacy"] = {{"min_count", config.getInt("privacy.min_count")},
                        {"radius_m", config.getDouble("privacy.radius_m")},
                        {"published_cells", n_pub},
                        {"suppressed_cells", n_act - n_pub}};
      doc["outline"] = forecast::outlineJson(world_grid);
    }

    // delta.h5 on the world grid: rank 0 broadcasts the whole maps, every rank writes its box.
    const auto dir = out / "scenario";
    if (rank == 0) std::filesystem::create_directories(dir);
    if (rank != 0) maps.assign(7 * plane, 0.0);
    VIGIE_CHECK_MPI(MPI_Bcast(maps.data(), static_cast<int>(maps.size()), MPI_DOUBLE, 0, world));
    std::vector<double> step_maps(3 * ns * plane, 0.0);
    if (rank == 0) {
      for (std::size_t k = 0; k < ns * plane; ++k) {
        step_maps[k] = whole_steps_b[k];
        step_maps[ns * plane + k] = whole_steps_s[k];
        step_maps[2 * ns * plane + k] = whole_steps_s[k] - whole_steps_b[k];
      }
    }
    if (!step_maps.empty())
      VIGIE_CHECK_MPI(MPI_Bcast(step_maps.data(), static_cast<int>(step_maps.size()), MPI_DOUBLE, 0, world));
    const auto& wbox = world_grid.ownedBox();
    const auto wowned = static_cast<std::size_t>(wbox.ni) * static_cast<std::size_t>(wbox.nj);
    const auto slice = [&](const double* whole) {
      std::vector<double> v(wowned);
      for (int j = 0; j < wbox.nj; ++j) {
        for (int i = 0; i < wbox.ni; ++i)
          v[static_cast<std::size_t>(j) * static_cast<std::size_t>(wbox.ni) + static_cast<std::size_t>(i)] =
              whole[static_cast<std::size_t>(j + wbox.j0) * static_cast<std::size_t>(spec.nx) +
                    static_cast<std::size_t>(i + wbox.i0)];
      }
      return v;
    };
    const auto slice8 = [&](const std::vector<std::uint8_t>& whole) {
      std::vector<std::uint8_t> v(wowned);
      for (int j = 0; j < wbox.nj; ++j) {
        for (int i = 0; i < wbox.ni; ++i)
          v[static_cast<std::size_t>(j) * static_cast<std::size_t>(wbox.ni) + static_cast<std::size_t>(i)] =
              whole[static_cast<std::size_t>(j + wbox.j0) * static_cast<std::size_t>(spec.nx) +
                    static_cast<std::size_t>(i + wbox.i0)];
      }
      return v;
    };
    {
      auto h5 = store::FieldFile::create(world, dir / "delta.h5", world_grid.geometry());
      forecast::writeProvenance(h5, provenance);
      h5.setAttribute("schema_version", static_cast<std::int64_t>(kSchemaVersion));
      h5.write2d<std::uint8_t>("mask", wbox, world_grid.ownedMask(),
                               store::FieldMeta{"1", "1 where the cell is inside the study area", 0});
      h5.write2d<std::uint8_t>(
          "published", wbox, slice8(published),
          store::FieldMeta{"1", "1 where the privacy rule allows publishing the cell", 0});
      h5.write2d<std::uint8_t>(
          "influence", wbox, slice8(influence),
          store::FieldMeta{"1", "1 where an event, works or intervention area covers the cell", 0});
      const std::vector<std::pair<std::string, std::string>> names{
          {"baseline_total", "baseline: expected events over the window (member 0)"},
          {"scenario_total", "scenario: expected events over the window (member 0)"},
          {"delta_total", "scenario - baseline over the window (member 0)"},
          {"delta_total_mean", "mean over members of scenario - baseline"},
          {"delta_total_p10", "10th percentile over members of scenario - baseline"},
          {"delta_total_p50", "median over members of scenario - baseline"},
          {"delta_total_p90", "90th percentile over members of scenario - baseline"}};
      for (std::size_t q = 0; q < names.size(); ++q)
        h5.write2d<double>(names[q].first, wbox, slice(maps.data() + q * plane),
                           store::FieldMeta{"events/cell", names[q].second, 0});
      const std::vector<std::string> step_names{"baseline.expected", "scenario.expected", "delta.expected"};
      for (std::size_t q = 0; q < step_names.size(); ++q) {
        std::vector<double> v;
        v.reserve(ns * wowned);
        for (std::size_t k = 0; k < ns; ++k) {
          const auto s = slice(step_maps.data() + (q * ns + k) * plane);
          v.insert(v.end(), s.begin(), s.end());
        }
        h5.write3d<double>(step_names[q], static_cast<int>(ns), wbox, v,
                           store::FieldMeta{"events/cell/step", step_names[q] + " per step (member 0)", 0});
      }
      std::string starts;
      for (const auto& st : steps) starts += (starts.empty() ? "" : ",") + st.iso;
      h5.setAttribute("step_starts", starts);
      h5.commit();
    }
    std::vector<std::string> files{"delta.h5", "delta.h5.xmf", "scenario.json"};
    if (rank == 0) {
      forecast::finite(doc);
      for (const auto& f : writeScenarioReport(doc, dir)) files.push_back(f);
      doc["outputs"] = files;
      const auto tmp = dir / "scenario.json.tmp";
      {
        std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
        os << doc.dump(2) << "\n";
        if (!os.flush()) throw Error(ExitCode::Io, tmp.string() + ": cannot write");
      }
      std::filesystem::rename(tmp, dir / "scenario.json");
    }
    std::string text = rank == 0 ? doc.dump() : std::string();
    long long n = static_cast<long long>(text.size());
    VIGIE_CHECK_MPI(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, world));
    text.resize(static_cast<std::size_t>(n));
    VIGIE_CHECK_MPI(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, world));
    result.doc = nlohmann::json::parse(text);
    for (const auto& f : result.doc["outputs"]) result.outputs.push_back("scenario/" + f.get<std::string>());
  }
  VIGIE_CHECK_MPI(MPI_Comm_free(&group));
  return result;
}

}  // namespace vigie::scenario
