#pragma once
/// What `vigie fit` writes for the sepp model: params.h5 (the background field and every parameter),
/// params.json (schema_version 1: theta, omega_per_day, sigma_m, beta and beta_se by name, the factor table
/// and the goodness of fit) and the factor table in words.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/factors/EventFactors.hpp"
#include "models/sepp/SeppFit.hpp"
#include "models/sepp/SeppInputs.hpp"

namespace vigie::store {
class FieldFile;
}
namespace vigie::grid {
class CityGrid;
}

namespace vigie::models::sepp {

/// Not collective. The params.json document of a fit. Throws Error(Numerical) naming the covariate when a
/// standard error is not finite (a covariate that is constant or collinear with others: remove it).
/// `event_factors` are the per-event factors of the source (factors/EventFactors.hpp), listed with their
/// own method. `trigger` false: the self-excitation was held off (sepp.trigger = false).
[[nodiscard]] nlohmann::json fitReport(const SeppFitResult& fit, const SeppInputs& inputs,
                                       const std::vector<EventFactor>& event_factors,
                                       const std::string& case_name, const std::string& fitted_from,
                                       const std::string& fitted_to, bool trigger);

/// Not collective. The factor table and fit summary in words, from fitReport's document
/// ("rain_day: x1.30 [1.10, 1.53] (a day with at least 1 mm of rain against a dry day; fitted from counts)").
[[nodiscard]] std::string factorTable(const nlohmann::json& report);

/// Collective. Writes into an open params.h5: /fields/sepp.mu (events per cell per day at zero covariates),
/// /fields/mask, /params/* (theta, omega_per_day, sigma_m, beta, beta_se, beta_names, log_likelihood per
/// iteration) and attributes (schema "vigie.params/1", model, iterations, converged, ks_statistic,
/// ks_p_value). The caller writes the provenance and commits.
void writeParams(store::FieldFile& file, const grid::CityGrid& grid, const SeppFitResult& fit,
                 const SeppInputs& inputs);

}  // namespace vigie::models::sepp
