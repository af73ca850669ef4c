#include "forecast/ForecastDriver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Reduce.hpp"
#include "core/Timer.hpp"
#include "grid/CityGrid.hpp"
#include "models/ModelRegistry.hpp"
#include "store/FieldFile.hpp"

namespace vigie::forecast {

using core::Error;
using core::ExitCode;

void ForecastDriver::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("run.horizon_days", OptionType::Double, "0",
           "length of the run in days (0: write the initial state only)")
      .add("run.output_every_days", OptionType::Double, "1", "interval between intensity snapshots, days");
}

ForecastDriver::ForecastDriver(const grid::CityGrid& grid, const core::Config& config,
                               core::Provenance provenance)
    : m_grid(grid),
      m_config(config),
      m_provenance(std::move(provenance)),
      m_horizon(config.getDouble("run.horizon_days")),
      m_output_every(config.getDouble("run.output_every_days")) {
  m_min_count = config.getInt("privacy.min_count");
  if (m_min_count < 0) throw Error(ExitCode::Usage, "privacy.min_count must be >= 0", true);
  if (m_horizon < 0.0) throw Error(ExitCode::Usage, "run.horizon_days must be >= 0", true);
  if (!(m_output_every > 0.0)) throw Error(ExitCode::Usage, "run.output_every_days must be positive", true);
  if (m_horizon / m_output_every > 100000.0)
    throw Error(ExitCode::Usage, "run.horizon_days / run.output_every_days exceeds 100000 snapshots", true);
  const models::ModelContext context{grid, config, m_provenance.seed};
  for (const auto& name : config.getList("models.enabled")) {
    for (const auto& m : m_models) {
      if (m->name() == name) throw Error(ExitCode::Usage, "models.enabled lists '" + name + "' twice", true);
    }
    m_models.push_back(models::ModelRegistry::instance().create(name, context));
  }
}

ForecastDriver::~ForecastDriver() = default;

std::vector<models::Model*> ForecastDriver::models() const {
  std::vector<models::Model*> out;
  for (const auto& m : m_models) out.push_back(m.get());
  return out;
}

void ForecastDriver::setObservations(std::vector<std::int64_t> owned_counts) {
  const auto& box = m_grid.ownedBox();
  if (owned_counts.size() != static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj))
    throw Error(ExitCode::Internal, "ForecastDriver::setObservations: counts do not match the owned box");
  m_observed = std::move(owned_counts);
}

void ForecastDriver::aggregate(std::vector<double>& intensity) const {
  std::fill(intensity.begin(), intensity.end(), 0.0);
  for (const auto& m : m_models) m->contributeIntensity(intensity);
  const auto& mask = m_grid.ownedMask();
  for (std::size_t k = 0; k < intensity.size(); ++k) {
    if (mask[k] == 0) intensity[k] = 0.0;
    if (!std::isfinite(intensity[k]) || intensity[k] < 0.0)
      throw Error(ExitCode::Numerical, "intensity is negative or not finite in cell " + std::to_string(k));
  }
}

RunSummary ForecastDriver::run(const std::filesystem::path& output_dir) {
  core::ScopedTimer total("run");
  const auto& box = m_grid.ownedBox();
  const std::size_t n_owned = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  const auto idx = m_grid.ownedGlobalIndices();

  RunSummary summary;
  summary.output_file = output_dir / "vigie_run.h5";
  summary.horizon_days = m_horizon;
  for (const auto& m : m_models) summary.models.push_back(m->name());

  std::vector<double> intensity(n_owned, 0.0);
  std::vector<double> snapshots;  // t-major
  std::vector<double> times;
  auto snapshot = [&](double t) {
    core::ScopedTimer timer("aggregate");
    aggregate(intensity);
    snapshots.insert(snapshots.end(), intensity.begin(), intensity.end());
    times.push_back(t);
    summary.final_intensity_sum = core::orderedSum(m_grid.comm(), idx, intensity);
  };

  // The one time loop: advance every model to the next output time, aggregate, record.
  double t = 0.0;
  snapshot(t);
  const auto n_out = static_cast<long>(std::floor(m_horizon / m_output_every + 1e-9));
  const auto wall_start = std::chrono::steady_clock::now();
  for (long k = 1; t < m_horizon; ++k) {
    const double t_next = k <= n_out ? std::min(k * m_output_every, m_horizon) : m_horizon;
    for (const auto& m : m_models) m->advance(t, t_next);
    t = t_next;
    snapshot(t);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    const double eta = t > 0 ? elapsed * (m_horizon - t) / t : 0.0;
    std::ostringstream os;
    os << std::fixed << std::setprecision(3) << "day " << t << " / " << m_horizon << ", expected events/day "
       << summary.final_intensity_sum << ", elapsed " << std::setprecision(1) << elapsed << " s, ETA " << eta
       << " s";
    VIGIE_LOG_INFO(os.str());
  }
  summary.snapshots = static_cast<int>(times.size());

  {
    core::ScopedTimer timer("write");
    auto file = store::FieldFile::create(m_grid.comm(), summary.output_file, m_grid.geometry());
    writeProvenance(file, m_provenance);
    file.write2d<std::uint8_t>("mask", box, m_grid.ownedMask(),
                               store::FieldMeta{"1", "1 where the cell is inside the study area", 0});
    // Published counts: cells with fewer than privacy.min_count events are shown as 0 (k-anonymity style).
    std::vector<std::int32_t> observed(n_owned, 0);
    std::int64_t suppressed = 0;
    for (std::size_t k = 0; k < m_observed.size(); ++k) {
      const auto c = m_observed[k];
      if (c > 0 && c < m_min_count) {
        ++suppressed;
      } else {
        observed[k] =
            static_cast<std::int32_t>(std::min<std::int64_t>(c, std::numeric_limits<std::int32_t>::max()));
      }
    }
    file.write2d<std::int32_t>(
        "observations", box, observed,
        store::FieldMeta{"events", "events observed per cell in the observation store", 0});
    file.setAttribute("privacy_min_count", m_min_count);
    file.setAttribute("privacy_suppressed_cells", core::sumInt(m_grid.comm(), suppressed));
    file.write3d<double>("intensity", summary.snapshots, box, snapshots,
                         store::FieldMeta{"events/cell/day", "expected events per cell per day", 0});
    std::ostringstream ts;
    ts << std::setprecision(17);
    for (std::size_t k = 0; k < times.size(); ++k) ts << (k ? "," : "") << times[k];
    file.setAttribute("intensity_times_days", ts.str());
    file.setAttribute("models", [&] {
      std::string s;
      for (const auto& m : summary.models) s += (s.empty() ? "" : ",") + m;
      return s.empty() ? std::string("none") : s;
    }());
    file.commit();
  }
  return summary;
}

void writeProvenance(store::FieldFile& file, const core::Provenance& p) {
  file.setAttribute("vigie_version", p.version);
  file.setAttribute("git_hash", p.git_hash);
  file.setAttribute("config", p.config_text);
  file.setAttribute("config_file", p.config_file);
  file.setAttribute("command_line", p.command_line);
  file.setAttribute("started_utc", p.started_utc);
  file.setAttribute("host", p.host);
  file.setAttribute("ranks", static_cast<std::int64_t>(p.ranks));
  file.setAttribute("threads", static_cast<std::int64_t>(p.threads));
  file.setAttribute("seed", static_cast<std::int64_t>(p.seed));
}

}  // namespace vigie::forecast
