#include "verify/OffsetBand.hpp"

#include <algorithm>
#include <charconv>
#include <iomanip>
#include <sstream>

#include "core/Collective.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "core/Provenance.hpp"
#include "core/Timer.hpp"
#include "grid/CityGrid.hpp"
#include "ingest/IngestPipeline.hpp"
#include "store/FieldFile.hpp"

namespace vigie::verify {

using core::Error;
using core::ExitCode;

namespace {

constexpr const char* kKey = "backtest.grid_offsets";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

/// One fraction of an item "fx:fy"; the whole text must be the number.
double parseFraction(const std::string& text, const std::string& item) {
  const auto t = trim(text);
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  // from_chars accepts "nan" and "inf": the range test below rejects them.
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || !(v >= 0.0 && v < 1.0))
    throw Error(ExitCode::Usage,
                std::string(kKey) + ": item '" + item +
                    "' is not fx:fy with both fractions of a cell in [0, 1) (e.g. 0.5:0)",
                true);
  return v;
}

/// The shortest text that reads back as exactly `v`, so the shifted grid's corner is the same number on every
/// run and the store's geometry can be compared with it exactly.
std::string exactText(double v) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) throw Error(ExitCode::Internal, "OffsetBand: cannot format a grid corner");
  return {buf, ptr};
}

/// Collective over `comm`. True when <dir>/obs.h5 was made for exactly the grid `spec` (corner, cell,
/// size). needed() only compares file times, and the k-th folder may hold an older list's k-th offset.
bool storeFitsGrid(MPI_Comm comm, const std::filesystem::path& h5, const grid::GridSpec& spec) {
  int fits = 0;
  core::runOnRoot(comm, [&] {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(h5, ec)) return;
    try {
      const auto g = store::FieldFile::open(MPI_COMM_SELF, h5).geometry();
      fits = (g.epsg == spec.epsg && g.x0 == spec.x0 && g.y0 == spec.y0 && g.cell_m == spec.cell &&
              g.nx == spec.nx && g.ny == spec.ny)
                 ? 1
                 : 0;
    } catch (const Error&) {
      // An unreadable store is rebuilt like a stale one.
      fits = 0;
    }
  });
  VIGIE_CHECK_MPI(MPI_Bcast(&fits, 1, MPI_INT, 0, comm));
  return fits != 0;
}

/// What the band keeps of one backtest document.
struct GridScores {
  std::int64_t events = 0;
  std::int64_t windows = 0;
  std::string best_baseline;
  std::vector<double> pai5;
  std::vector<double> ll_per_event;
  std::vector<double> ratio;
  std::vector<bool> ratio_defined;
};

GridScores extract(const nlohmann::json& doc, const std::vector<std::string>& models,
                   const std::string& what) {
  GridScores g;
  try {
    g.windows = doc.at("windows").get<std::int64_t>();
    g.best_baseline = doc.at("best_baseline").get<std::string>();
    g.events = models.empty() ? 0 : doc.at("models").at(models.front()).at("events").get<std::int64_t>();
    for (const auto& m : models) {
      const auto& scores = doc.at("models").at(m);
      const auto& skill = doc.at("skill").at(m);
      g.pai5.push_back(scores.at("pai").at("5").get<double>());
      g.ll_per_event.push_back(scores.at("log_likelihood_per_event").get<double>());
      g.ratio.push_back(skill.at("pai5_ratio").get<double>());
      g.ratio_defined.push_back(skill.value("pai5_ratio_defined", true));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::Internal, "OffsetBand: " + what + " is not a backtest document: " + e.what(), true);
  }
  return g;
}

nlohmann::json rangeJson(const std::vector<double>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return {{"values", values}, {"min", *lo}, {"max", *hi}, {"spread", *hi - *lo}};
}

}  // namespace

void OffsetBand::declareOptions(core::OptionSet& options) {
  options.add(
      kKey, core::OptionType::List, "0.5:0, 0:0.5, 0.5:0.5",
      "grid-offset sensitivity band: the backtest is rerun with the grid's south-west corner shifted by "
      "fx:fy cells (each in [0, 1)) and every model's PAI@5%, log-likelihood per event and PAI@5% ratio "
      "are reported as a range over the shifted grids (re-ingested under <output.dir>/offsets/<k>). "
      "Empty: no band");
}

std::vector<GridOffset> OffsetBand::fromConfig(const core::Config& config) {
  std::vector<GridOffset> offsets;
  for (const auto& item : config.getList(kKey)) {
    const auto colon = item.find(':');
    if (colon == std::string::npos || item.find(':', colon + 1) != std::string::npos)
      throw Error(ExitCode::Usage,
                  std::string(kKey) + ": item '" + item + "' is not fx:fy (fractions of a cell, e.g. 0.5:0)",
                  true);
    const GridOffset o{parseFraction(item.substr(0, colon), item),
                       parseFraction(item.substr(colon + 1), item)};
    if (o.fx == 0.0 && o.fy == 0.0)
      throw Error(
          ExitCode::Usage,
          std::string(kKey) + ": item '" + item + "' is the unshifted grid, which the band always has", true);
    for (const auto& prior : offsets) {
      if (prior.fx == o.fx && prior.fy == o.fy)
        throw Error(ExitCode::Usage, std::string(kKey) + ": offset '" + item + "' is listed twice", true);
    }
    offsets.push_back(o);
  }
  return offsets;
}

nlohmann::json OffsetBand::run(MPI_Comm comm, const core::Config& config, const BacktestSettings& settings,
                               const std::filesystem::path& out, const core::Provenance& provenance,
                               const nlohmann::json& base_doc) {
  const auto offsets = fromConfig(config);
  if (offsets.empty()) return nullptr;
  if (config.getList("ingest.events").empty()) {
    return {{"available", false},
            {"reason", "the case has no ingest.events: the events cannot be placed on a shifted grid"}};
  }
  core::ScopedTimer timer("backtest grid offsets");
  const auto base_spec = grid::CityGrid::specFromConfig(config);
  BacktestSettings plain = settings;
  plain.per_category = false;

  std::vector<GridScores> grids{extract(base_doc, settings.models, "the unshifted grid's document")};
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    const auto& o = offsets[k];
    const auto dir = out / "offsets" / std::to_string(k + 1);
    const auto shifted = config.withOverrides({{"grid.x0", exactText(base_spec.x0 + o.fx * base_spec.cell)},
                                               {"grid.y0", exactText(base_spec.y0 + o.fy * base_spec.cell)},
                                               {"output.dir", dir.string()}});
    const auto spec = grid::CityGrid::specFromConfig(shifted);
    bool reingest = ingest::IngestPipeline::needed(comm, shifted, dir);
    if (!reingest && !storeFitsGrid(comm, dir / "obs.h5", spec)) reingest = true;
    if (reingest) {
      // A fresh folder: a journal made for another grid would not match this one's cells.
      core::runOnRoot(comm, [&] {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
      });
      core::Provenance shifted_provenance = provenance;
      shifted_provenance.config_text = shifted.effectiveText();
      // A GeoJSON mask is rasterised again by the grid, an event mask recomputed by the ingest.
      grid::CityGrid grid(comm, spec);
      const auto s = ingest::IngestPipeline::run(shifted, grid, dir, false, shifted_provenance);
      VIGIE_LOG_INFO("grid offset " << k + 1 << " (" << o.fx << ", " << o.fy
                                    << " cells): " << ingest::IngestPipeline::describe(s));
    }
    const auto series = ObservedSeries::read(comm, dir / "obs.h5", settings.categories);
    const auto doc = Backtest::run(comm, spec, shifted, plain, series);
    grids.push_back(extract(doc, settings.models, "the document of grid offset " + std::to_string(k + 1)));
    VIGIE_LOG_INFO("grid offset " << k + 1 << " (" << o.fx << ", " << o.fy
                                  << " cells): " << grids.back().events << " events scored, best baseline "
                                  << grids.back().best_baseline);
  }

  nlohmann::json band;
  band["available"] = true;
  band["cell_m"] = base_spec.cell;
  band["offsets"] = nlohmann::json::array({nlohmann::json::array({0.0, 0.0})});
  for (const auto& o : offsets) band["offsets"].push_back(nlohmann::json::array({o.fx, o.fy}));
  band["events"] = nlohmann::json::array();
  band["windows"] = nlohmann::json::array();
  band["best_baseline"] = nlohmann::json::array();
  for (const auto& g : grids) {
    band["events"].push_back(g.events);
    band["windows"].push_back(g.windows);
    band["best_baseline"].push_back(g.best_baseline);
  }
  band["models"] = nlohmann::json::object();
  for (std::size_t m = 0; m < settings.models.size(); ++m) {
    std::vector<double> pai5;
    std::vector<double> ll;
    std::vector<double> ratio;
    std::vector<bool> defined;
    for (const auto& g : grids) {
      pai5.push_back(g.pai5[m]);
      ll.push_back(g.ll_per_event[m]);
      ratio.push_back(g.ratio[m]);
      defined.push_back(g.ratio_defined[m]);
    }
    auto& entry = band["models"][settings.models[m]];
    entry["pai5"] = rangeJson(pai5);
    entry["log_likelihood_per_event"] = rangeJson(ll);
    entry["pai5_ratio"] = rangeJson(ratio);
    // An undefined ratio (x / 0) is stored as 0 by the backtest: the flags say which values those are.
    entry["pai5_ratio"]["defined"] = defined;
  }
  return band;
}

std::string OffsetBand::markdown(const nlohmann::json& band) {
  if (band.is_null()) return {};
  std::ostringstream md;
  md << std::setprecision(4);
  md << "## Grid-offset sensitivity\n\n";
  if (!band.value("available", false)) {
    md << "Not computed: " << band.value("reason", std::string("no reason given")) << ".\n\n";
    return md.str();
  }
  const auto& offsets = band["offsets"];
  md << "The backtest was run again with the grid's south-west corner shifted by fractions of a cell";
  md << " (cell side " << band["cell_m"].get<double>()
     << "), the events placed on each shifted grid afresh. Grids (fx, fy): ";
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    md << (k == 0 ? "" : ", ") << "(" << offsets[k][0].get<double>() << ", " << offsets[k][1].get<double>()
       << ")" << (k == 0 ? " = the grid above" : "");
  }
  md << ". Events scored per grid: ";
  for (std::size_t k = 0; k < band["events"].size(); ++k)
    md << (k == 0 ? "" : ", ") << band["events"][k].get<std::int64_t>();
  md << " (events near the edge of a shifted grid may fall outside it: see offsets/<k>/rejects.csv). Best "
        "baseline per grid: ";
  for (std::size_t k = 0; k < band["best_baseline"].size(); ++k)
    md << (k == 0 ? "" : ", ") << band["best_baseline"][k].get<std::string>();
  md << ".\n\n";
  md << "| model | PAI@5% min | PAI@5% max | PAI@5% spread | PAI@5% ratio min..max | LL/event min..max |\n"
        "|---|---:|---:|---:|---|---|\n";
  std::vector<std::string> fragile;
  for (const auto& [name, m] : band["models"].items()) {
    const auto& p = m["pai5"];
    const auto& r = m["pai5_ratio"];
    const auto& l = m["log_likelihood_per_event"];
    const auto defined = r["defined"].get<std::vector<bool>>();
    const bool all_defined = std::all_of(defined.begin(), defined.end(), [](bool d) { return d; });
    md << "| " << name << " | " << p["min"].get<double>() << " | " << p["max"].get<double>() << " | "
       << p["spread"].get<double>() << " | ";
    if (all_defined) {
      md << r["min"].get<double>() << " .. " << r["max"].get<double>();
    } else {
      md << "n/a";
    }
    md << " | " << l["min"].get<double>() << " .. " << l["max"].get<double>() << " |\n";
    if (all_defined && r["min"].get<double>() < 1.0 && r["max"].get<double>() > 1.0) fragile.push_back(name);
  }
  md << "\nThe band is how far each score moves when only the cell boundaries move: a skill claim that flips "
        "sign within it (a PAI@5% ratio above 1 on one grid and below 1 on another) is not robust to where "
        "the cell boundaries fall. Ratios are taken against each grid's own best baseline; n/a marks a ratio "
        "undefined on some grid.\n";
  if (!fragile.empty()) {
    md << "\nSkill that flips within the band here: ";
    for (std::size_t k = 0; k < fragile.size(); ++k) md << (k == 0 ? "" : ", ") << fragile[k];
    md << ".\n";
  }
  md << "\n";
  return md.str();
}

}  // namespace vigie::verify
