#include "models/ModelRegistry.hpp"

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "models/agents/AgentModel.hpp"
#include "models/baselines/HistoryModel.hpp"
#include "models/baselines/KdeModel.hpp"
#include "models/baselines/NaiveModel.hpp"
#include "models/baselines/ProspectiveModel.hpp"
#include "models/excitation/ExcitationModel.hpp"
#include "models/sepp/SeppModel.hpp"
#include "models/short2008/Short2008Model.hpp"

namespace vigie::models {

namespace {

ModelRegistry makeBuiltins() {
  ModelRegistry r;
  r.add("agents",
        "Short et al. 2008 discrete lattice model: agents walk towards attractive sites, offend with "
        "probability 1 - exp(-A dt), raise B (short2008.* parameters, agents.* initial state)",
        &AgentModel::declareOptions, [](const ModelContext& c) { return std::make_unique<AgentModel>(c); });
  r.add(
      "short2008",
      "Short et al. 2008 reaction-diffusion hotspot model: attractiveness B and agents n on the grid, PETSc "
      "TS (IMEX by default, -short2008_ts_type), intensity n A",
      &Short2008Model::declareOptions,
      [](const ModelContext& c) { return std::make_unique<Short2008Model>(c); });
  r.add("excitation",
        "self-excitation field: events raise a local rate that decays exponentially and spreads by diffusion",
        &ExcitationModel::declareOptions,
        [](const ModelContext& c) { return std::make_unique<ExcitationModel>(c); });
  r.add(
      "sepp",
      "self-exciting point process mu(c) exp(beta . z) + theta omega e^(-omega t) K_sigma, fitted by EM "
      "(sepp.*); refit every backtest.refit_every windows",
      &SeppModel::declareOptions, [](const ModelContext& c) { return std::make_unique<SeppModel>(c); },
      TuneSpace{{"sepp.mu_bandwidth_m", {"100", "200", "300", "600"}}, {"sepp.training_days", {"0", "365"}}});
  r.add(
      "naive", "baseline: events per day over the last naive.bins observed bins, per cell",
      &NaiveModel::declareOptions, [](const ModelContext& c) { return std::make_unique<NaiveModel>(c); },
      TuneSpace{{"naive.bins", {"1", "2", "4", "8", "16", "32", "64", "128", "256", "512"}}});
  r.add("history", "baseline: long-run events per day of every observed bin, per cell",
        &HistoryModel::declareOptions,
        [](const ModelContext& c) { return std::make_unique<HistoryModel>(c); });
  r.add(
      "kde", "baseline: Gaussian kernel density of past events (kde.bandwidth_m), per observed day",
      &KdeModel::declareOptions, [](const ModelContext& c) { return std::make_unique<KdeModel>(c); },
      TuneSpace{{"kde.bandwidth_m", {"50", "100", "150", "200", "300", "400", "600", "800"}},
                {"kde.window_days", {"0", "365"}}});
  r.add(
      "prospective",
      "baseline: Bowers-Johnson-Pease prospective hotspots, 1/((1+d)(1+t)) over prospective.radius_m and "
      "prospective.weeks, scaled to the recent events per day",
      &ProspectiveModel::declareOptions,
      [](const ModelContext& c) { return std::make_unique<ProspectiveModel>(c); },
      TuneSpace{{"prospective.radius_m", {"200", "400", "600", "800"}},
                {"prospective.weeks", {"2", "4", "8", "16"}}});
  return r;
}

}  // namespace

const ModelRegistry& ModelRegistry::instance() {
  static const ModelRegistry registry = makeBuiltins();
  return registry;
}

void ModelRegistry::add(const std::string& name, const std::string& summary, Declare declare, Factory factory,
                        TuneSpace space) {
  if (!m_entries.emplace(name, Entry{summary, std::move(declare), std::move(factory), std::move(space)})
           .second)
    throw core::Error(core::ExitCode::Internal, "model '" + name + "' registered twice");
}

std::unique_ptr<Model> ModelRegistry::create(const std::string& name, const ModelContext& context) const {
  const auto it = m_entries.find(name);
  if (it == m_entries.end()) {
    std::string known;
    for (const auto& [n, e] : m_entries) known += (known.empty() ? "" : ", ") + n;
    throw core::Error(core::ExitCode::Usage,
                      "models.enabled: unknown model '" + name + "' (known: " + known + ")", true);
  }
  return it->second.factory(context);
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, e] : m_entries) out.push_back(n);
  return out;
}

const std::string& ModelRegistry::summary(const std::string& name) const {
  return m_entries.at(name).summary;
}

const TuneSpace& ModelRegistry::tuneSpace(const std::string& name) const {
  static const TuneSpace none;
  const auto it = m_entries.find(name);
  return it == m_entries.end() ? none : it->second.space;
}

void ModelRegistry::declareOptions(core::OptionSet& options) const {
  std::string known;
  for (const auto& [n, e] : m_entries) known += (known.empty() ? "" : ", ") + n;
  options.add("models.enabled", core::OptionType::List, "",
              "comma-separated models the run advances and whose intensities it sums (known: " + known + ")");
  for (const auto& [n, e] : m_entries) e.declare(options);
}

}  // namespace vigie::models
