#include "models/sepp/SeppInputs.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/TimeBinning.hpp"
#include "store/FieldFile.hpp"

namespace vigie::models::sepp {

using core::Error;
using core::ExitCode;

namespace {

constexpr int kPlanesPerRead = 64;

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

/// Mean and standard deviation of `v` where `use` is set, summed in index order (rank-invariant).
std::pair<double, double> meanSd(const std::vector<double>& v, const std::vector<std::uint8_t>& use) {
  double n = 0.0;
  double sum = 0.0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (use[k] == 0) continue;
    n += 1.0;
    sum += v[k];
  }
  const double mean = n > 0.0 ? sum / n : 0.0;
  double ss = 0.0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (use[k] != 0) ss += (v[k] - mean) * (v[k] - mean);
  }
  return {mean, n > 1.0 ? std::sqrt(ss / (n - 1.0)) : 0.0};
}

}  // namespace

SeppInputs SeppInputs::read(const grid::CityGrid& grid, const std::filesystem::path& obs_h5,
                            const std::vector<std::string>& names) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(obs_h5, ec))
    throw Error(ExitCode::InputData, obs_h5.string() + ": no observation store (run vigie ingest first)",
                true);
  const auto file = store::FieldFile::open(grid.comm(), obs_h5);
  SeppInputs in;
  in.bin = file.stringAttribute("bin");
  const ingest::TimeBinning binning(ingest::parseBinUnit(in.bin, obs_h5.string() + " attribute bin"),
                                    ingest::TimeZone(file.stringAttribute("timezone")));
  const auto starts = file.read1d<std::int64_t>("/time/bin_start");
  in.missing = file.read1d<std::uint8_t>("/time/missing");
  in.bin_start_iso = file.readStrings1d("/time/bin_start_iso");
  const auto nt = static_cast<std::int64_t>(in.missing.size());
  if (static_cast<std::int64_t>(starts.size()) != nt || nt == 0)
    throw Error(ExitCode::InputData, obs_h5.string() + ": /time is empty or inconsistent", true);
  const std::int64_t end = binning.binStartUtc(file.intAttribute("first_bin") + nt);
  for (std::int64_t t = 0; t <= nt; ++t) {
    const std::int64_t s = t < nt ? starts[static_cast<std::size_t>(t)] : end;
    in.edges.push_back(static_cast<double>(s - starts[0]) / 86400.0);
  }
  const bool daily = in.bin == "hour" || in.bin == "day";
  in.daily = daily;
  const auto has = [&](const std::string& path) { return file.hasField(path); };
  const auto bad = [&](const std::string& name, const std::string& why) {
    return Error(ExitCode::Usage,
                 "sepp.covariates: '" + name + "' " + why + " (store " + obs_h5.string() + ")", true);
  };
  std::vector<std::vector<double>> temporal;
  std::vector<std::vector<double>> spatial;
  std::vector<std::string> temporal_meaning;
  std::vector<std::string> spatial_meaning;
  const auto days_of = [&](std::int64_t t) {
    return in.edges[static_cast<std::size_t>(t) + 1] - in.edges[static_cast<std::size_t>(t)];
  };
  for (const auto& name : names) {
    std::vector<double> v(static_cast<std::size_t>(nt), 0.0);
    if (name == "weekend") {
      if (!has("/covariates/calendar/weekday")) throw bad(name, "needs hour or day bins and a calendar");
      const auto wd = file.read1d<std::int32_t>("/covariates/calendar/weekday");
      for (std::int64_t t = 0; t < nt; ++t)
        v[static_cast<std::size_t>(t)] = wd[static_cast<std::size_t>(t)] >= 5;
      temporal.push_back(std::move(v));
      temporal_meaning.push_back("a Saturday or Sunday against a weekday");
      in.temporal_names.push_back(name);
      in.temporal_rules.push_back({TemporalKind::Weekend, "weekday", 0.0, 1.0});
    } else if (name == "public_holiday" || name == "school_holiday") {
      const std::string path = "/covariates/calendar/" + name;
      if (!has(path))
        throw bad(name, "is not in the store (configure covariates.holidays or school_holidays)");
      const auto x = file.read1d<std::int32_t>(path);
      for (std::int64_t t = 0; t < nt; ++t) {
        const double value = x[static_cast<std::size_t>(t)];
        v[static_cast<std::size_t>(t)] = daily ? value : value / std::max(1.0, std::round(days_of(t)));
      }
      temporal.push_back(std::move(v));
      temporal_meaning.push_back(daily
                                     ? "a " + name.substr(0, name.find('_')) + " holiday against another day"
                                     : "a bin made only of such holidays against one with none");
      in.temporal_names.push_back(name);
      in.temporal_rules.push_back({TemporalKind::Holiday, name, 0.0, 1.0});
    } else if (name == "rain_day") {
      if (!has("/covariates/weather/rain_mm")) throw bad(name, "needs covariates.weather");
      const auto rain = file.read1d<double>("/covariates/weather/rain_mm");
      const auto miss = file.read1d<std::uint8_t>("/covariates/weather/rain_mm_missing");
      for (std::int64_t t = 0; t < nt; ++t) {
        const auto k = static_cast<std::size_t>(t);
        if (miss[k] != 0) continue;
        v[k] = daily ? (rain[k] >= 1.0 ? 1.0 : 0.0) : rain[k] / std::max(1e-9, days_of(t));
      }
      temporal.push_back(std::move(v));
      temporal_meaning.push_back(daily ? "a day with at least 1 mm of rain against a dry day"
                                       : "1 mm of rain per day on average over the bin");
      in.temporal_names.push_back(name);
      in.temporal_rules.push_back({TemporalKind::RainDay, "rain_mm", 0.0, 1.0});
    } else if (has("/covariates/weather/" + name)) {
      const auto x = file.read1d<double>("/covariates/weather/" + name);
      const auto miss = file.read1d<std::uint8_t>("/covariates/weather/" + name + "_missing");
      std::vector<std::uint8_t> known(miss.size());
      for (std::size_t k = 0; k < miss.size(); ++k) known[k] = miss[k] == 0;
      const auto [mean, sd] = meanSd(x, known);
      if (!(sd > 0.0)) throw bad(name, "does not vary over the store's bins");
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = known[k] != 0 ? (x[k] - mean) / sd : 0.0;
      temporal.push_back(std::move(v));
      temporal_meaning.push_back("one standard deviation (" + fmt(sd) + ") more " + name);
      in.temporal_names.push_back(name);
      in.temporal_rules.push_back({TemporalKind::Weather, name, mean, sd});
    } else if (has("/covariates/static/" + name)) {
      const store::Box whole{0, 0, grid.spec().nx, grid.spec().ny};
      const auto x = file.read2d<double>("/covariates/static/" + name, whole);
      const auto [mean, sd] = meanSd(x, grid.globalMask());
      if (!(sd > 0.0)) throw bad(name, "does not vary over the active cells");
      const auto& box = grid.ownedBox();
      std::vector<double> owned;
      for (int j = box.j0; j < box.j0 + box.nj; ++j) {
        for (int i = box.i0; i < box.i0 + box.ni; ++i)
          owned.push_back((x[static_cast<std::size_t>(j) * static_cast<std::size_t>(whole.ni) +
                             static_cast<std::size_t>(i)] -
                           mean) /
                          sd);
      }
      spatial.push_back(std::move(owned));
      spatial_meaning.push_back("one standard deviation (" + fmt(sd) + ") more " + name);
      in.spatial_names.push_back(name);
    } else {
      throw bad(name,
                "is not a covariate this store can provide (weekend, public_holiday, school_holiday, "
                "rain_day, a /covariates/weather variable or a /covariates/static layer)");
    }
  }
  const auto kt = temporal.size();
  in.temporal.assign(static_cast<std::size_t>(nt) * kt, 0.0);
  for (std::size_t k = 0; k < kt; ++k) {
    for (std::int64_t t = 0; t < nt; ++t)
      in.temporal[static_cast<std::size_t>(t) * kt + k] = temporal[k][static_cast<std::size_t>(t)];
  }
  const auto ks = spatial.size();
  const auto& box = grid.ownedBox();
  const auto cells = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  in.spatial.assign(cells * ks, 0.0);
  for (std::size_t q = 0; q < ks; ++q) {
    for (std::size_t c = 0; c < cells; ++c) in.spatial[c * ks + q] = spatial[q][c];
  }
  in.meaning = temporal_meaning;
  in.meaning.insert(in.meaning.end(), spatial_meaning.begin(), spatial_meaning.end());
  return in;
}

SeppData SeppInputs::data(const grid::CityGrid& grid, const std::filesystem::path& obs_h5,
                          const std::vector<std::string>& categories, std::int64_t b0,
                          std::int64_t b1) const {
  const auto nt_all = static_cast<std::int64_t>(missing.size());
  if (b0 < 0 || b1 > nt_all || b1 <= b0) throw Error(ExitCode::Internal, "SeppInputs::data: bad bin range");
  const auto file = store::FieldFile::open(grid.comm(), obs_h5);
  const auto stored = core::splitList(file.stringAttribute("categories"));
  const auto cats = categories.empty() ? stored : categories;
  for (const auto& c : cats) {
    if (std::find(stored.begin(), stored.end(), c) == stored.end())
      throw Error(ExitCode::Usage, obs_h5.string() + ": category '" + c + "' is not in the store", true);
  }
  const auto& box = grid.ownedBox();
  const auto cells = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  SeppData d;
  d.edges.assign(edges.begin() + b0, edges.begin() + b1 + 1);
  d.missing.assign(missing.begin() + b0, missing.begin() + b1);
  d.counts.assign(static_cast<std::size_t>(b1 - b0) * cells, 0);
  for (const auto& c : cats) {
    for (std::int64_t t0 = b0; t0 < b1; t0 += kPlanesPerRead) {
      const int n = static_cast<int>(std::min<std::int64_t>(kPlanesPerRead, b1 - t0));
      const auto slab = file.readSlab3d<std::int32_t>("/counts/" + c, static_cast<int>(t0), n, box);
      auto* dst = d.counts.data() + static_cast<std::size_t>(t0 - b0) * cells;
      for (std::size_t k = 0; k < slab.size(); ++k) dst[k] += slab[k];
    }
  }
  const auto kt = temporal_names.size();
  d.temporal_names = temporal_names;
  d.temporal.assign(temporal.begin() + b0 * static_cast<std::int64_t>(kt),
                    temporal.begin() + b1 * static_cast<std::int64_t>(kt));
  d.spatial_names = spatial_names;
  d.spatial = spatial;
  return d;
}

std::vector<double> SeppInputs::futureRow(const FuturePiece& piece) const {
  const auto get = [&](const std::string& key) {
    const auto it = piece.raw.find(key);
    if (it == piece.raw.end())
      throw Error(ExitCode::Internal, "sepp: the future covariates lack '" + key + "'");
    return it->second;
  };
  const auto known = [&](const std::string& key) {
    const auto it = piece.raw.find(key + "_missing");
    return it == piece.raw.end() || it->second == 0.0;
  };
  const double days = std::max(1.0, get("days"));
  std::vector<double> row;
  for (const auto& rule : temporal_rules) {
    switch (rule.kind) {
      case TemporalKind::Weekend:
        row.push_back(get("weekday") >= 5.0 ? 1.0 : 0.0);
        break;
      case TemporalKind::Holiday:
        row.push_back(daily ? std::min(1.0, get(rule.raw)) : get(rule.raw) / days);
        break;
      case TemporalKind::RainDay:
        if (!known("rain_mm")) {
          row.push_back(0.0);
        } else {
          row.push_back(daily ? get("rain_day_share") : get("rain_mm") / days);
        }
        break;
      case TemporalKind::Weather:
        row.push_back(known(rule.raw) && rule.sd > 0.0 ? (get(rule.raw) - rule.mean) / rule.sd : 0.0);
        break;
    }
  }
  return row;
}

std::int64_t SeppInputs::binAt(double day) const {
  const auto it = std::lower_bound(edges.begin(), edges.end() - 1, day - 1e-9);
  if (it == edges.end() - 1 || std::abs(*it - day) > 1e-6) return -1;
  return it - edges.begin();
}

}  // namespace vigie::models::sepp
