#include "forecast/Predictor.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Timer.hpp"
#include "forecast/FutureConditions.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/Weather.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"

namespace vigie::forecast {

using core::Error;
using core::ExitCode;

namespace {

/// The future's covariates for the models: the store's bins continued past its end (local days for hour and
/// day stores), each piece's covariates from FutureConditions (climatology, calendar, a scenario's values).
class FutureSource final : public models::FutureCovariateSource {
 public:
  FutureSource(FutureConditions conditions, ingest::TimeZone zone, const std::string& store_bin,
               std::int64_t origin_utc)
      : m_conditions(std::move(conditions)),
        m_split(store_bin == "week"    ? ingest::BinUnit::Week
                : store_bin == "month" ? ingest::BinUnit::Month
                                       : ingest::BinUnit::Day,
                std::move(zone)),
        m_origin(origin_utc) {}

  [[nodiscard]] std::vector<models::FuturePiece> pieces(double t0, double t1) const override {
    std::vector<models::FuturePiece> out;
    std::int64_t a = m_origin + std::llround(t0 * 86400.0);
    const std::int64_t b = m_origin + std::llround(t1 * 86400.0);
    const auto& zone = m_split.zone();
    const auto floorDay = [](std::int64_t s) { return s >= 0 ? s / 86400 : -((-s + 86399) / 86400); };
    while (a < b) {
      const auto bin = m_split.binOf(zone.toCivil(a));
      std::int64_t next = std::min(b, m_split.binStartUtc(bin + 1));
      if (next <= a) next = b;
      const ingest::DaySpan span{floorDay(zone.toCivil(a)), floorDay(zone.toCivil(next) - 1) + 1, -1};
      out.push_back({static_cast<double>(a - m_origin) / 86400.0,
                     static_cast<double>(next - m_origin) / 86400.0, raw(span)});
      a = next;
    }
    return out;
  }

 private:
  [[nodiscard]] const std::map<std::string, double>& raw(const ingest::DaySpan& span) const {
    const auto key = std::make_pair(span.first_day, span.end_day);
    const auto it = m_cache.find(key);
    if (it != m_cache.end()) return it->second;
    const auto fc = m_conditions.at({span});
    std::map<std::string, double> r;
    r["days"] = static_cast<double>(span.end_day - span.first_day);
    r["weekday"] = fc.calendar.weekday.at(0);
    r["public_holiday"] = fc.calendar.public_holiday.at(0);
    r["school_holiday"] = fc.calendar.school_holiday.at(0);
    r["school_holiday_missing"] = fc.calendar.school_holiday_missing.at(0);
    const auto& names = ingest::Weather::names();
    for (std::size_t v = 0; v < names.size() && v < fc.weather.values.size(); ++v) {
      r[names[v]] = fc.weather.values[v].at(0);
      r[names[v] + "_missing"] = fc.weather.missing_by_var.at(v).at(0);
    }
    r["rain_day_share"] = fc.rain_day_share.at(0);
    return m_cache.emplace(key, std::move(r)).first->second;
  }

  FutureConditions m_conditions;
  ingest::TimeBinning m_split;
  std::int64_t m_origin;
  mutable std::map<std::pair<std::int64_t, std::int64_t>, std::map<std::string, double>> m_cache;
};

}  // namespace

nlohmann::json readBacktest(MPI_Comm comm, const std::filesystem::path& path) {
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  std::string text;
  if (rank == 0 && std::filesystem::exists(path)) {
    std::ifstream is(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>());
  }
  long long n = static_cast<long long>(text.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, comm));
  text.resize(static_cast<std::size_t>(n));
  if (n > 0) VIGIE_CHECK_MPI(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, comm));
  if (n == 0) return nullptr;
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded())
    throw Error(ExitCode::InputData, path.string() + ": not valid JSON (rerun vigie backtest)", true);
  return doc;
}

std::vector<std::pair<std::string, std::string>> tunedOverrides(const nlohmann::json& backtest,
                                                                const std::string& model) {
  std::vector<std::pair<std::string, std::string>> out;
  if (backtest.is_null() || !backtest.contains("tuned_parameters") ||
      !backtest["tuned_parameters"].contains(model))
    return out;
  for (const auto& [key, value] : backtest["tuned_parameters"][model].items())
    out.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  return out;
}

std::string storeTimeZone(MPI_Comm comm, const std::filesystem::path& obs) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(obs, ec))
    throw Error(ExitCode::InputData, obs.string() + ": no observation store (run vigie ingest first)", true);
  const auto file = store::FieldFile::open(comm, obs);
  return file.stringAttribute("timezone");
}

Predictor::Predictor(const grid::CityGrid& grid, const core::Config& config,
                     const core::Provenance& provenance, const std::filesystem::path& out,
                     std::int64_t start_bin)
    : m_grid(grid),
      m_seed(provenance.seed),
      m_series(verify::ObservedSeries::read(grid.comm(), out / "obs.h5",
                                            verify::BacktestSettings::fromConfig(config, "").categories)),
      m_zone(storeTimeZone(grid.comm(), out / "obs.h5")),
      m_hour_profile(24, 0.0) {
  const MPI_Comm comm = grid.comm();
  const auto& series = m_series;
  const auto obs = out / "obs.h5";
  const auto plane_cells = static_cast<std::size_t>(series.nx) * static_cast<std::size_t>(series.ny);
  {
    const auto file = store::FieldFile::open(comm, obs);
    for (const auto& c : series.categories) {
      const std::string path = "/profiles/hour_of_day/" + c;
      if (!file.hasField(path)) continue;
      // [24][ny][nx] events per local hour of day and cell, summed over the grid.
      int nt = 0;
      const auto h = file.read3d<std::int32_t>(path, store::Box{0, 0, series.nx, series.ny}, &nt);
      for (std::size_t k = 0; k < h.size() && nt == 24; ++k) m_hour_profile[k / plane_cells] += h[k];
    }
  }
  double profile_events = 0.0;
  for (const double v : m_hour_profile) profile_events += v;
  if (profile_events > 0.0) {
    for (auto& v : m_hour_profile) v /= profile_events;
    m_profile_source = "hour of day of the " + std::to_string(static_cast<long long>(profile_events)) +
                       " events of the store with a known time";
  } else {
    std::fill(m_hour_profile.begin(), m_hour_profile.end(), 1.0 / 24.0);
    m_profile_source = "flat (the store holds no hour of day)";
  }

  // The forecast start: the end of the store, or the bin that starts on forecast.start.
  std::int64_t b_start = series.bins();
  const auto start_text = config.getString("forecast.start");
  if (!start_text.empty()) {
    b_start = -1;
    for (std::int64_t b = 0; b <= series.bins(); ++b) {
      const auto iso = b < series.bins() ? series.bin_start_iso[static_cast<std::size_t>(b)]
                                         : ingest::isoLocal(m_zone, series.bin_start.back());
      if (iso.substr(0, 10) == start_text) {
        b_start = b;
        break;
      }
    }
    if (b_start < 1)
      throw Error(ExitCode::Usage,
                  "forecast.start " + start_text + " is not the start of a bin after the store's first one",
                  true);
  }
  if (start_bin >= 0) {
    if (start_bin < 1 || start_bin > series.bins())
      throw Error(ExitCode::InputData,
                  obs.string() + ": the store has no bin " + std::to_string(start_bin) + " to start from",
                  true);
    b_start = start_bin;
  }
  m_bins_used = b_start;
  m_start_utc = series.bin_start[static_cast<std::size_t>(b_start)];
  m_origin_utc = series.bin_start.front();

  // The published model and its components.
  m_backtest = readBacktest(comm, out / "backtest.json");
  const auto& bt = m_backtest;
  const auto enabled = config.getList("models.enabled");
  auto requested = config.getString("forecast.model");
  const bool has_stacking = !bt.is_null() && bt.contains("stacking") && bt["stacking"].contains("weights") &&
                            bt["stacking"]["weights"].size() >= 2;
  if (requested == "auto")
    requested = has_stacking ? "blend" : (enabled.empty() ? std::string() : enabled.front());
  if (requested.empty())
    throw Error(ExitCode::Usage, "forecast.model is auto but models.enabled is empty", true);
  m_model = requested;
  if (requested == "blend") {
    if (!has_stacking)
      throw Error(ExitCode::Usage,
                  "forecast.model = blend needs the stacking weights of " + (out / "backtest.json").string() +
                      " (run vigie backtest, or vigie run)",
                  true);
    for (const auto& [name, w] : bt["stacking"]["weights"].items()) {
      Component c;
      c.name = name;
      c.weight = w.get<double>();
      m_comps.push_back(std::move(c));
    }
  } else {
    Component c;
    c.name = requested;
    m_comps.push_back(std::move(c));
  }
  const bool use_tuned = config.getBool("forecast.use_tuned");
  for (auto& c : m_comps) {
    const auto overrides =
        use_tuned ? tunedOverrides(bt, c.name) : std::vector<std::pair<std::string, std::string>>{};
    for (const auto& [key, value] : overrides) m_tuned[c.name][key] = value;
    c.config = std::make_unique<core::Config>(overrides.empty() ? config : config.withOverrides(overrides));
    const models::ModelContext context{grid, *c.config, provenance.seed};
    c.model = models::ModelRegistry::instance().create(c.name, context);
  }

  // Replay the store up to the start, then fit.
  m_observed_total.assign(static_cast<std::size_t>(series.nx) * static_cast<std::size_t>(series.ny), 0);
  {
    core::ScopedTimer timer("forecast replay");
    replayStored(0, b_start);
  }
  for (auto& comp : m_comps) {
    if (comp.model->isFitted()) {
      core::ScopedTimer timer("forecast fit");
      comp.model->fit({});
      VIGIE_LOG_INFO("forecast: fitted " << comp.name << " on the " << b_start << " bins before "
                                         << ingest::isoLocal(m_zone, m_start_utc));
    }
  }
  m_part.assign(static_cast<std::size_t>(grid.ownedBox().ni) * static_cast<std::size_t>(grid.ownedBox().nj),
                0.0);
}

std::shared_ptr<const models::FutureCovariateSource> Predictor::makeFuture(
    const FutureConditions& conditions) const {
  return std::make_shared<FutureSource>(conditions, m_zone, m_series.bin, m_origin_utc);
}

void Predictor::setFuture(const FutureConditions& conditions) {
  setFuture(makeFuture(conditions));
}

void Predictor::setFuture(const std::shared_ptr<const models::FutureCovariateSource>& future) {
  for (auto& comp : m_comps) comp.model->setFuture(future);
}

bool Predictor::parameterDraws() const {
  return std::any_of(m_comps.begin(), m_comps.end(),
                     [](const Component& c) { return c.model->hasParameterUncertainty(); });
}

void Predictor::expected(int member, double from, double to, int hour, std::span<double> out,
                         std::vector<std::vector<double>>* per_component) {
  const auto& mask = m_grid.ownedMask();
  // Stores of day bins or longer carry no hour: an hour step gets the hour-of-day profile's share.
  const double hour_factor =
      hour >= 0 && m_series.bin != "hour" ? 24.0 * m_hour_profile[static_cast<std::size_t>(hour)] : 1.0;
  std::fill(out.begin(), out.end(), 0.0);
  if (per_component != nullptr) per_component->resize(m_comps.size());
  for (std::size_t k = 0; k < m_comps.size(); ++k) {
    auto& comp = m_comps[k];
    if (comp.weight <= 0.0) continue;
    comp.model->drawParameters(m_seed, member);
    std::fill(m_part.begin(), m_part.end(), 0.0);
    comp.model->expectedEventsBetween(m_part, from, to);
    if (per_component != nullptr) (*per_component)[k].assign(out.size(), 0.0);
    for (std::size_t c = 0; c < out.size(); ++c) {
      const double v = mask[c] != 0 ? m_part[c] * hour_factor : 0.0;
      if (!std::isfinite(v) || v < 0.0)
        throw Error(ExitCode::Numerical,
                    "forecast: model " + comp.name + " gave a negative or non-finite expected count");
      out[c] += comp.weight * v;
      if (per_component != nullptr) (*per_component)[k][c] = v;
    }
  }
}

double Predictor::binDay(std::int64_t b) const {
  return static_cast<double>(m_series.bin_start.at(static_cast<std::size_t>(b)) - m_origin_utc) / 86400.0;
}

void Predictor::step(double t0, double t1, std::span<const double> owned_counts, bool have) {
  for (auto& comp : m_comps) {
    if (have) comp.model->observe(t0, t1, owned_counts);
    comp.model->advance(t0, t1);
  }
}

void Predictor::replayStored(std::int64_t b_from, std::int64_t b_to) {
  const auto& series = m_series;
  const auto& box = m_grid.ownedBox();
  const auto plane = static_cast<std::size_t>(series.nx) * static_cast<std::size_t>(series.ny);
  std::vector<double> counts(static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj), 0.0);
  for (std::int64_t b = b_from; b < b_to; ++b) {
    const bool have = series.missing[static_cast<std::size_t>(b)] == 0;
    if (have) {
      const auto* c = series.counts.data() + static_cast<std::size_t>(b) * plane;
      if (b < m_bins_used)
        for (std::size_t g = 0; g < plane; ++g) m_observed_total[g] += c[g];
      for (int j = 0; j < box.nj; ++j) {
        for (int i = 0; i < box.ni; ++i)
          counts[static_cast<std::size_t>(j) * static_cast<std::size_t>(box.ni) +
                 static_cast<std::size_t>(i)] =
              c[static_cast<std::size_t>(j + box.j0) * static_cast<std::size_t>(series.nx) +
                static_cast<std::size_t>(i + box.i0)];
      }
    }
    step(binDay(b), binDay(b + 1), counts, have);
  }
}

void Predictor::restorePointEstimate() {
  for (auto& comp : m_comps) comp.model->drawParameters(m_seed, 0);
}

std::vector<models::CellFactor> Predictor::factors(std::size_t c) const {
  std::vector<const Component*> by_weight;
  for (const auto& comp : m_comps) by_weight.push_back(&comp);
  std::stable_sort(by_weight.begin(), by_weight.end(),
                   [](const Component* a, const Component* b) { return a->weight > b->weight; });
  for (const auto* comp : by_weight) {
    auto f = comp->model->cellFactors(c);
    if (!f.empty()) return f;
  }
  return {};
}

}  // namespace vigie::forecast
