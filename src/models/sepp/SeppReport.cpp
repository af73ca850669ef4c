#include "models/sepp/SeppReport.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "store/FieldFile.hpp"

namespace vigie::models::sepp {

using core::Error;
using core::ExitCode;

namespace {

constexpr double kZ95 = 1.959963984540054;

double finiteOrThrow(double v, const std::string& what) {
  if (!std::isfinite(v)) throw Error(ExitCode::Numerical, "sepp fit: " + what + " is not finite", true);
  return v;
}

}  // namespace

nlohmann::json fitReport(const SeppFitResult& fit, const SeppInputs& inputs,
                         const std::vector<EventFactor>& event_factors, const std::string& case_name,
                         const std::string& fitted_from, const std::string& fitted_to, bool trigger) {
  nlohmann::json doc;
  doc["schema_version"] = 1;
  doc["model"] = "sepp";
  doc["case"] = case_name;
  doc["fitted_from"] = fitted_from;
  doc["fitted_to"] = fitted_to;
  doc["bin"] = inputs.bin;
  doc["events"] = fit.events;
  doc["trigger"] = trigger;
  doc["theta"] = finiteOrThrow(fit.params.theta, "theta");
  doc["omega_per_day"] = finiteOrThrow(fit.params.omega, "omega");
  doc["mean_trigger_delay_days"] = 1.0 / fit.params.omega;
  doc["sigma_m"] = finiteOrThrow(fit.params.sigma_m, "sigma");
  std::vector<std::string> names = inputs.temporal_names;
  names.insert(names.end(), inputs.spatial_names.begin(), inputs.spatial_names.end());
  if (fit.params.beta.size() != names.size() || fit.beta_se.size() != names.size())
    throw Error(ExitCode::Internal, "sepp fit: beta and the covariate names differ in number");
  doc["beta"] = nlohmann::json::object();
  doc["beta_se"] = nlohmann::json::object();
  doc["factors"] = nlohmann::json::array();
  for (std::size_t k = 0; k < names.size(); ++k) {
    const double b = finiteOrThrow(fit.params.beta[k], "beta of " + names[k]);
    if (!std::isfinite(fit.beta_se[k]))
      throw Error(ExitCode::Numerical,
                  "sepp fit: no standard error for covariate '" + names[k] +
                      "' (its information is singular: it is constant or collinear with another covariate "
                      "over the fitted bins); remove it from sepp.covariates",
                  true);
    const double se = fit.beta_se[k];
    doc["beta"][names[k]] = b;
    doc["beta_se"][names[k]] = se;
    doc["factors"].push_back({{"name", names[k]},
                              {"multiplier", std::exp(b)},
                              {"lo95", std::exp(b - kZ95 * se)},
                              {"hi95", std::exp(b + kZ95 * se)},
                              {"unit", inputs.meaning[k]},
                              {"source", "fitted from the counts"},
                              {"method",
                               "fitted from the binned counts: background log-linear coefficient of the "
                               "EM fit, interval from the observed information (Wald, 95%)"}});
  }
  for (const auto& f : event_factors) {
    doc["factors"].push_back(
        {{"name", f.name},
         {"multiplier", f.relative_risk},
         {"lo95", f.lo95},
         {"hi95", f.hi95},
         {"unit", "relative risk: share of events under the condition over share of days with it"},
         {"source", "from what the source records per event"},
         {"method", f.method},
         {"events_with", f.events_with},
         {"events_known", f.events_known},
         {"days_with", f.days_with},
         {"days_total", f.days_total}});
  }
  doc["log_likelihood"] = fit.log_likelihood;
  doc["iterations"] = fit.iterations;
  doc["converged"] = fit.converged;
  doc["goodness_of_fit"] = {
      {"test",
       "time-rescaling: the compensator of the city-total intensity at each event (events placed uniformly "
       "inside their bin with a seeded stream); the gaps of a correct model are unit exponential"},
      {"ks_statistic", fit.ks_statistic},
      {"ks_p_value", fit.ks_p_value}};
  return doc;
}

std::string factorTable(const nlohmann::json& r) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  out << "sepp fit of " << r["case"].get<std::string>() << " (" << r["events"].get<std::int64_t>()
      << " events, " << r["bin"].get<std::string>() << " bins from " << r["fitted_from"].get<std::string>()
      << " to " << r["fitted_to"].get<std::string>() << ")\n";
  if (r["trigger"].get<bool>()) {
    out << "  branching ratio theta = " << r["theta"].get<double>()
        << " (expected events triggered by each event)\n";
    out << "  trigger decay omega = " << r["omega_per_day"].get<double>() << " per day (mean delay "
        << r["mean_trigger_delay_days"].get<double>() << " days)\n";
    out << "  trigger distance sigma = " << std::setprecision(1) << r["sigma_m"].get<double>() << " m\n";
  } else {
    out << "  trigger: off (sepp.trigger = false; theta = 0): the background with its covariates alone\n";
  }
  out << std::setprecision(2);
  out << "  EM: " << r["iterations"].get<int>() << " iterations, "
      << (r["converged"].get<bool>() ? "converged" : "NOT converged (sepp.max_iter reached)")
      << ", log-likelihood " << std::setprecision(3) << r["log_likelihood"].back().get<double>() << "\n";
  out << "  goodness of fit (time-rescaling): KS = " << std::setprecision(4)
      << r["goodness_of_fit"]["ks_statistic"].get<double>()
      << ", p = " << r["goodness_of_fit"]["ks_p_value"].get<double>() << "\n";
  if (r["factors"].empty()) {
    out << "  factors: none configured (sepp.covariates) and none recorded per event\n";
    return out.str();
  }
  out << "  factors (multiplier of the incident rate [95% interval]; methods in params.json):\n";
  for (const auto& f : r["factors"]) {
    out << std::setprecision(2) << "    " << f["name"].get<std::string>() << ": x"
        << f["multiplier"].get<double>() << " [" << f["lo95"].get<double>() << ", " << f["hi95"].get<double>()
        << "]  (" << f["unit"].get<std::string>() << "; " << f["source"].get<std::string>() << ")\n";
  }
  return out.str();
}

void writeParams(store::FieldFile& file, const grid::CityGrid& grid, const SeppFitResult& fit,
                 const SeppInputs& inputs) {
  const auto& box = grid.ownedBox();
  file.write2d<double>("sepp.mu", box, fit.mu,
                       store::FieldMeta{"events/cell/day", "sepp background at zero covariates", 0.0});
  file.write2d<std::uint8_t>("mask", box, grid.ownedMask(),
                             store::FieldMeta{"1", "1 where the cell is inside the study area", 0});
  const auto one = [&](const std::string& name, double v, const std::string& units, const std::string& what) {
    const std::vector<double> value{v};
    file.write1d<double>("/params/" + name, std::span<const double>(value),
                         store::FieldMeta{units, what, 0.0});
  };
  one("theta", fit.params.theta, "1", "branching ratio: expected offspring per event");
  one("omega_per_day", fit.params.omega, "1/day", "trigger decay rate");
  one("sigma_m", fit.params.sigma_m, "m", "trigger displacement SD per axis");
  std::vector<std::string> names = inputs.temporal_names;
  names.insert(names.end(), inputs.spatial_names.begin(), inputs.spatial_names.end());
  if (!names.empty()) {
    file.write1d<double>(
        "/params/beta", std::span<const double>(fit.params.beta),
        store::FieldMeta{"1", "log-linear covariate coefficients, in beta_names order", 0.0});
    file.write1d<double>("/params/beta_se", std::span<const double>(fit.beta_se),
                         store::FieldMeta{"1", "standard errors of beta (observed information)", 0.0});
    file.writeStrings1d("/params/beta_names", names);
  }
  file.write1d<double>("/params/log_likelihood", std::span<const double>(fit.log_likelihood),
                       store::FieldMeta{"1", "binned Poisson log-likelihood after each EM iteration", 0.0});
  file.setAttribute("schema", std::string("vigie.params/1"));
  file.setAttribute("model", std::string("sepp"));
  file.setAttribute("iterations", static_cast<std::int64_t>(fit.iterations));
  file.setAttribute("converged", static_cast<std::int64_t>(fit.converged ? 1 : 0));
  file.setAttribute("ks_statistic", fit.ks_statistic);
  file.setAttribute("ks_p_value", fit.ks_p_value);
}

}  // namespace vigie::models::sepp
