#pragma once
/// The planner-facing report of `vigie scenario`: scenario.md in French or English, computed only from the
/// scenario.json document (schema_version 1). It leads with the expected extra incidents over the scenario's
/// window and their 80% interval, then where and when they fall, and which effects drive them, keeping apart
/// the effects estimated from data (covariate_changes: fitted coefficients) and the assumptions (every
/// event, works or intervention effect). Missing or null members never throw: the text says what is not
/// available.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::scenario {

/// Not collective. The one-minute report, in Markdown (UTF-8): title (scenario name and window), headline
/// (extra incidents [p10, p90], relative change against the baseline, a plain sentence when the interval
/// includes 0), where (top cells, top areas), when (per-step table or the peak step), what drives it (data
/// vs assumptions), covariates (baseline vs scenario), ensemble, privacy and files. `lang` is "fr" or "en";
/// anything else throws Error(Usage).
[[nodiscard]] std::string scenarioMarkdown(const nlohmann::json& doc, const std::string& lang);

/// Not collective (rank 0). Writes scenario.md (in doc["lang"], English when absent) into `dir` (created if
/// needed) through a temporary file and a rename. Returns the file names written. Throws Error(Usage) for a
/// lang other than "fr" or "en" (nothing is written), Error(Io) when the file cannot be written.
std::vector<std::string> writeScenarioReport(const nlohmann::json& doc, const std::filesystem::path& dir);

}  // namespace vigie::scenario
