// The planner-facing report of `vigie scenario` (scenario.md), built from a synthetic scenario.json document
// that follows the schema: headline figures in both languages, the plain "could be no change" sentence when
// the 80% interval straddles 0, effects from data kept apart from assumptions, the per-step table and its
// peak, documents with null or missing members, and a bad language.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "scenario/ScenarioReport.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vigie::core::Error;
using vigie::core::ExitCode;
using namespace vigie::scenario;

const std::string kNbsp = "\u00a0";

json totals(double e, double p10, double p90) {
  return {{"expected", e}, {"mean", e}, {"p10", p10}, {"p50", e}, {"p90", p90}};
}

json stepRow(const std::string& start, double base, double delta, double lo, double hi) {
  return {{"start", start}, {"baseline", base}, {"scenario", base + delta},
          {"delta", delta}, {"delta_p10", lo},  {"delta_p90", hi}};
}

// A match at the Vélodrome on a Sunday evening plus a school-holiday calendar change: extra incidents +3.2
// [+1.1, +5.8] over a baseline of 26.4 (+12%), peak at 21:00.
json scenarioDoc() {
  json d;
  d["schema_version"] = 1;
  d["case"] = "marseille";
  d["lang"] = "en";
  d["issued_utc"] = "2019-03-10T08:00:00Z";
  d["scenario"] = {{"name", "Match de l'OM au Vélodrome, dimanche soir"},
                   {"description", "Ligue 1 match, 60,000 spectators."},
                   {"file", "inputs/marseille/scenarios/velodrome_match.ini"},
                   {"start", "2019-03-17T18:00+01:00"},
                   {"end", "2019-03-18T01:00+01:00"},
                   {"step", "hour"}};
  d["forecast_start"] = "2019-03-17T00:00+01:00";
  d["model"] = "blend";
  d["members"] = 64;
  d["groups"] = 2;
  d["parameter_draws"] = true;
  d["crs"] = "EPSG:2154";
  d["grid"] = {{"x0", 886000.0}, {"y0", 6234000.0}, {"cell_m", 200.0}, {"nx", 100}, {"ny", 90}};
  d["covariates"] = {{"baseline",
                      {{"source", "climatology"},
                       {"weather", "climatology 2010-2018"},
                       {"calendar", "France"},
                       {"overrides", nullptr}}},
                     {"scenario",
                      {{"source", "scenario"},
                       {"weather", "climatology 2010-2018"},
                       {"calendar", "France"},
                       {"overrides", {{"tmax_c", 35.0}}}}}};
  d["covariate_changes"] = json::array({{{"model", "sepp"},
                                         {"name", "school_holiday"},
                                         {"beta", -0.26},
                                         {"z_baseline", 0.0},
                                         {"z_scenario", 1.0},
                                         {"factor", 0.77}}});
  d["sources"] = json::array({{{"type", "event"},
                               {"name", "match"},
                               {"kind", "match"},
                               {"area", "a circle of 1000 m around lon 5.3959, lat 43.2698"},
                               {"cells", 314},
                               {"start", "2019-03-17T21:00+01:00"},
                               {"end", "2019-03-17T23:00+01:00"},
                               {"active_start", "2019-03-17T19:00+01:00"},
                               {"active_end", "2019-03-18T01:00+01:00"},
                               {"crowd", 60000},
                               {"effect", 0.5},
                               {"effect_sd", 0.25},
                               {"elasticity", 0.5},
                               {"multiplier", 2.2247},
                               {"basis", "assumption: Vigie's default for a match"}},
                              {{"type", "intervention"},
                               {"name", "patrols"},
                               {"kind", nullptr},
                               {"area", "the polygons of prado.geojson"},
                               {"cells", 12},
                               {"start", "2019-03-17T20:00+01:00"},
                               {"end", "2019-03-17T23:00+01:00"},
                               {"active_start", "2019-03-17T20:00+01:00"},
                               {"active_end", "2019-03-17T23:00+01:00"},
                               {"crowd", nullptr},
                               {"effect", -0.1},
                               {"effect_sd", 0.05},
                               {"elasticity", nullptr},
                               {"multiplier", 0.9},
                               {"basis", "a 2017 pilot in Lyon"}}});
  d["assumptions"] =
      json::array({"Event 'match' (match, crowd 60000): expected incidents inside are multiplied by 2.225.",
                   "Intervention 'patrols': expected incidents inside are multiplied by 0.9, given by the "
                   "scenario file."});
  d["totals"] = {{"baseline", totals(26.4, 22.0, 30.0)},
                 {"scenario", totals(29.6, 25.0, 34.0)},
                 {"delta", totals(3.2, 1.1, 5.8)}};
  d["per_step"] = json::array();
  const std::vector<double> deltas = {0.1, 0.3, 0.4, 0.9, 0.8, 0.4, 0.3};
  for (std::size_t k = 0; k < deltas.size(); ++k) {
    const std::string hh = std::to_string(18 + k);
    const std::string start = k < 6 ? "2019-03-17T" + hh + ":00+01:00" : "2019-03-18T00:00+01:00";
    d["per_step"].push_back(stepRow(start, 3.5, deltas[k], deltas[k] * 0.3, deltas[k] * 1.8));
  }
  d["peak_step"] = 3;
  d["top_cells"] = json::array();
  for (int r = 1; r <= 10; ++r)
    d["top_cells"].push_back({{"rank", r},
                              {"i", 40 + r},
                              {"j", 30},
                              {"x", 894100.0 + 200 * r},
                              {"y", 6240100.0},
                              {"lon", 5.39 + 0.002 * r},
                              {"lat", 43.27},
                              {"area", r == 2 ? json(nullptr) : json("Marseille 8e Arrondissement")},
                              {"baseline", 0.05},
                              {"scenario", 0.05 + 0.4 / r},
                              {"delta", 0.4 / r},
                              {"delta_p10", 0.1 / r},
                              {"delta_p90", 0.7 / r}});
  d["areas"] = json::array({{{"name", "Marseille 8e Arrondissement"},
                             {"baseline", 4.1},
                             {"scenario", 5.9},
                             {"delta", 1.8},
                             {"delta_p10", 0.6},
                             {"delta_p90", 3.1}},
                            {{"name", "Marseille 6e Arrondissement"},
                             {"baseline", 3.0},
                             {"scenario", 3.0},
                             {"delta", 0.0},
                             {"delta_p10", 0.0},
                             {"delta_p90", 0.0}}});
  d["privacy"] = {{"min_count", 3}, {"radius_m", 300}, {"published_cells", 4210}, {"suppressed_cells", 1320}};
  d["outputs"] = json::array({"scenario/delta.h5", "scenario/delta.h5.xmf", "scenario/scenario.json"});
  return d;
}

bool has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

TEST(ScenarioReport, EnglishReportHoldsTheHeadlineAndTheAssumptions) {
  const std::string md = scenarioMarkdown(scenarioDoc(), "en");
  EXPECT_TRUE(has(md, "# Scenario: Match de l'OM au Vélodrome, dimanche soir")) << md;
  EXPECT_TRUE(
      has(md, "from Sunday 17 March 2019, 18:00 to Monday 18 March 2019, 01:00 (UTC+01:00); 7 hourly steps."))
      << md;
  // Headline: +3.2 [+1.1, +5.8], +12% against a baseline of 26.4.
  EXPECT_TRUE(
      has(md, "**Expected extra incidents over the window: +3.2 [+1.1, +5.8]** (80% interval, p10-p90)"))
      << md;
  EXPECT_TRUE(has(md, "+12% against the baseline")) << md;
  EXPECT_TRUE(has(md, "26.4 incidents expected [22-30]")) << md;
  EXPECT_TRUE(has(md, "29.6 incidents expected [25-34]")) << md;
  EXPECT_TRUE(has(md, "The scenario raises the expected incidents")) << md;
  EXPECT_FALSE(has(md, "could be no change")) << md;
  EXPECT_TRUE(has(md, "Poisson noise")) << md;
  // Where: the top 5 cells only, with their area (or the fallback for a null area), and the changed area.
  EXPECT_TRUE(has(md, "| 1 | Marseille 8e Arrondissement |")) << md;
  EXPECT_TRUE(has(md, "| 2 | (outside the named areas) |")) << md;
  EXPECT_TRUE(has(md, "| 5 |")) << md;
  EXPECT_FALSE(has(md, "| 6 |")) << md;
  EXPECT_TRUE(
      has(md, "1. **Marseille 8e Arrondissement**: +1.8 incidents [+0.60, +3.1] (4.1 → 5.9 expected, +44%)"))
      << md;
  EXPECT_FALSE(has(md, "Marseille 6e")) << "an area without change is not listed\n" << md;
  // When: the peak step in words, and in bold in the table.
  EXPECT_TRUE(has(md, "Largest change on Sunday 17 March, 21:00-22:00: +0.90 incidents [+0.27, +1.6]")) << md;
  EXPECT_TRUE(has(md, "| Sunday 17 March, 21:00-22:00 | 3.5 | 4.4 | **+0.90 [+0.27, +1.6]** |")) << md;
  EXPECT_TRUE(has(md, "| Monday 18 March, 00:00-01:00 |")) << md;
  // From data vs assumptions.
  const auto data = md.find("### From data (fitted model)");
  const auto assumptions = md.find("### Assumptions (not estimated from data)");
  ASSERT_NE(data, std::string::npos) << md;
  ASSERT_NE(assumptions, std::string::npos) << md;
  EXPECT_LT(data, assumptions);
  const std::string data_part = md.substr(data, assumptions - data);
  EXPECT_TRUE(has(data_part,
                  "**school holidays** (`school_holiday`, model `sepp`): mean over the window 0 without "
                  "the scenario, 1 with it; fitted coefficient β = -0.26, so the rate ×0.77 (from data)"))
      << md;
  const std::string assumption_part = md.substr(assumptions);
  EXPECT_TRUE(has(assumption_part,
                  "- **match**: event (match); area: a circle of 1000 m around lon 5.3959, lat "
                  "43.2698 (314 cells); Sunday 17 March 2019, 21:00 to 23:00 (UTC+01:00), acting "
                  "with its margins from Sunday 17 March 2019, 19:00 to Monday 18 March 2019, 01:00"))
      << md;
  EXPECT_TRUE(has(assumption_part,
                  "crowd 60,000; effect 0.5 (sd 0.25), elasticity 0.5: expected incidents inside "
                  "×2.22 (assumption). Basis: assumption: Vigie's default for a match."))
      << md;
  EXPECT_TRUE(
      has(assumption_part, "- **patrols**: intervention; area: the polygons of prado.geojson (12 cells)"))
      << md;
  EXPECT_TRUE(has(assumption_part,
                  "effect -0.1 (sd 0.05): expected incidents inside ×0.90 (assumption). Basis: "
                  "a 2017 pilot in Lyon."))
      << md;
  EXPECT_TRUE(has(assumption_part, "*Assumption:* Event 'match' (match, crowd 60000)")) << md;
  EXPECT_TRUE(has(assumption_part, "*Assumption:* Intervention 'patrols'")) << md;
  // Covariates, ensemble, privacy, files.
  EXPECT_TRUE(has(md, "| Values set | none | `tmax_c` = 35 |")) << md;
  EXPECT_TRUE(has(md, "64 members in 2 groups, drawing the model parameters within their uncertainty")) << md;
  EXPECT_TRUE(has(md, "4,210 cells published, 1,320 suppressed")) << md;
  EXPECT_TRUE(has(md, "- `scenario/delta.h5`: the maps of the baseline")) << md;
  EXPECT_TRUE(has(md, "- `scenario/scenario.md`: this report")) << md;
  EXPECT_TRUE(has(md, "- `scenario/map_scenario.png`: baseline, scenario and difference maps")) << md;
}

TEST(ScenarioReport, TinyCellValuesKeepTwoSignificantDigits) {
  json d = scenarioDoc();
  d["top_cells"][0]["baseline"] = 0.00031;
  d["top_cells"][0]["scenario"] = 0.000998;
  d["top_cells"][0]["delta"] = 0.00042;
  d["top_cells"][0]["delta_p10"] = -0.0000004;
  d["top_cells"][0]["delta_p90"] = 0.0081;
  const std::string en = scenarioMarkdown(d, "en");
  EXPECT_TRUE(has(en, "| 0.00031 | 0.0010 | +0.00042 [-<0.000001, +0.0081] |")) << en;
  const std::string fr = scenarioMarkdown(d, "fr");
  EXPECT_TRUE(has(fr, "| 0,00031 | 0,0010 | +0,00042 [-<0,000001" + kNbsp + "; +0,0081] |")) << fr;
}

TEST(ScenarioReport, FrenchReportHoldsTheSameFiguresInFrench) {
  json d = scenarioDoc();
  d["lang"] = "fr";
  const std::string md = scenarioMarkdown(d, "fr");
  EXPECT_TRUE(has(md, "# Scénario" + kNbsp + ": Match de l'OM au Vélodrome, dimanche soir")) << md;
  EXPECT_TRUE(has(md, "du dimanche 17 mars 2019 à 18 h au lundi 18 mars 2019 à 1 h (UTC+01:00)")) << md;
  EXPECT_TRUE(has(md, "(UTC+01:00)" + kNbsp + "; 7 pas horaires.")) << md;
  EXPECT_TRUE(has(md, "**Incidents supplémentaires attendus sur la période" + kNbsp + ": +3,2 [+1,1" + kNbsp +
                          "; +5,8]** (intervalle à 80" + kNbsp + "%, p10-p90)"))
      << md;
  EXPECT_TRUE(has(md, "soit +12" + kNbsp + "% par rapport à la référence")) << md;
  EXPECT_TRUE(has(md, "26,4 incidents attendus [22-30]")) << md;
  EXPECT_TRUE(has(md, "Le scénario augmente le nombre attendu d'incidents")) << md;
  EXPECT_FALSE(has(md, "aucun changement")) << md;
  EXPECT_TRUE(has(md, "bruit de Poisson")) << md;
  EXPECT_TRUE(has(md, "| 2 | (hors des zones nommées) |")) << md;
  EXPECT_TRUE(has(md, "Plus forte variation le dimanche 17 mars, 21 h-22 h" + kNbsp +
                          ": +0,90 incident [+0,27" + kNbsp + "; +1,6]"))
      << md;
  EXPECT_TRUE(has(md, "### Issu des données (modèle ajusté)")) << md;
  EXPECT_TRUE(has(md, "### Hypothèses (non estimées à partir des données)")) << md;
  EXPECT_TRUE(has(md, "**vacances scolaires** (`school_holiday`, modèle `sepp`)" + kNbsp +
                          ": moyenne sur la période 0 sans le scénario, 1 avec" + kNbsp +
                          "; coefficient ajusté β = -0,26, d'où un taux ×0,77 (issu des données)"))
      << md;
  EXPECT_TRUE(has(md, "- **match**" + kNbsp + ": événement (match)" + kNbsp + "; zone" + kNbsp +
                          ": un cercle de 1000 m autour de lon 5.3959, lat 43.2698 (314 mailles)"))
      << md;
  EXPECT_TRUE(has(md, "(314 mailles)" + kNbsp + "; dimanche 17 mars 2019 de 21 h à 23 h (UTC+01:00)")) << md;
  EXPECT_TRUE(has(md, "affluence 60" + kNbsp + "000" + kNbsp +
                          "; effet 0,5 (écart-type 0,25), élasticité 0,5" + kNbsp +
                          ": incidents attendus dans la zone ×2,22 (hypothèse)."))
      << md;
  EXPECT_TRUE(has(md, "les polygones de prado.geojson")) << md;
  EXPECT_TRUE(has(md, "Fondement" + kNbsp + ": assumption: Vigie's default for a match.")) << md;
  EXPECT_TRUE(has(md, "*Hypothèse" + kNbsp + ":* Event 'match'")) << md;
  EXPECT_TRUE(has(md, "64 membres en 2 groupes")) << md;
  EXPECT_TRUE(has(md, "## Confidentialité")) << md;
  EXPECT_TRUE(has(md, "4210 mailles publiées")) << "4210 has 4 digits: no grouping in French\n" << md;
  // No English left in the French headings.
  EXPECT_FALSE(has(md, "## Where")) << md;
  EXPECT_FALSE(has(md, "From data")) << md;
}

TEST(ScenarioReport, IntervalAcrossZeroSaysThereCouldBeNoChange) {
  json d = scenarioDoc();
  d["totals"]["delta"] = totals(0.4, -0.7, 1.6);
  const std::string en = scenarioMarkdown(d, "en");
  EXPECT_TRUE(has(en, "+0.40 [-0.70, +1.6]")) << en;
  EXPECT_TRUE(has(en, "**The interval includes 0: there could be no change.**")) << en;
  EXPECT_FALSE(has(en, "raises the expected incidents")) << en;
  const std::string fr = scenarioMarkdown(d, "fr");
  EXPECT_TRUE(has(fr, "+0,40 [-0,70" + kNbsp + "; +1,6]")) << fr;
  EXPECT_TRUE(has(fr, "**L'intervalle contient 0" + kNbsp + ": il pourrait n'y avoir aucun changement.**"))
      << fr;
}

TEST(ScenarioReport, FewerIncidentsAreSaidAsSuch) {
  json d = scenarioDoc();
  d["totals"]["delta"] = totals(-2.1, -3.0, -1.2);
  const std::string en = scenarioMarkdown(d, "en");
  EXPECT_TRUE(has(en, ": -2.1 [-3, -1.2]**")) << en;
  EXPECT_TRUE(has(en, "-8% against the baseline")) << en;
  EXPECT_TRUE(has(en, "The scenario lowers the expected incidents")) << en;
  EXPECT_FALSE(has(en, "could be no change")) << en;
}

TEST(ScenarioReport, MarginsAreShownOnlyWhenTheyWidenTheWindow) {
  json d = scenarioDoc();
  d["sources"][1]["start"] = "2019-03-17T20:00";  // the engine may write the offset on the active times only
  d["sources"][1]["end"] = "2019-03-17T23:00";
  const std::string en = scenarioMarkdown(d, "en");
  const auto patrols = en.find("- **patrols**");
  ASSERT_NE(patrols, std::string::npos) << en;
  const std::string line = en.substr(patrols, en.find('\n', patrols) - patrols);
  EXPECT_FALSE(has(line, "margins")) << line;
  EXPECT_TRUE(has(en.substr(0, patrols), "acting with its margins")) << "the match's 2 h margins\n" << en;
}

TEST(ScenarioReport, NoDataEffectAndNoSourceAreSaid) {
  json d = scenarioDoc();
  d["covariate_changes"] = json::array();
  d["sources"] = nullptr;
  d["assumptions"] = json::array();
  const std::string en = scenarioMarkdown(d, "en");
  EXPECT_TRUE(has(en, "None: the scenario changes no covariate of the fitted model")) << en;
  EXPECT_TRUE(has(en, "No event, works or intervention in the scenario.")) << en;
  EXPECT_FALSE(has(en, "*Assumption:*")) << en;
}

TEST(ScenarioReport, LongWindowsGiveThePeakWithoutATable) {
  json d = scenarioDoc();
  d["per_step"] = json::array();
  for (int k = 0; k < 60; ++k)
    d["per_step"].push_back(stepRow("2019-03-17T00:00+01:00", 1.0, k == 42 ? 2.0 : 0.1, 0.0, 3.0));
  d["peak_step"] = nullptr;  // the report finds the largest change itself
  const std::string en = scenarioMarkdown(d, "en");
  EXPECT_TRUE(has(en, "Largest change on Sunday 17 March, 00:00-01:00: +2 incidents [0, +3] (+200%)")) << en;
  EXPECT_TRUE(has(en, "The 60 per-step figures are in scenario.json")) << en;
  EXPECT_FALSE(has(en, "| Step |")) << en;
}

TEST(ScenarioReport, NullAndMissingMembersDegradeWithAPhrase) {
  json d = scenarioDoc();
  for (const char* key : {"totals", "per_step", "peak_step", "top_cells", "areas", "privacy", "covariates",
                          "covariate_changes", "sources", "assumptions", "members", "groups",
                          "parameter_draws", "grid", "forecast_start", "issued_utc", "outputs"})
    d[key] = nullptr;
  d["scenario"]["start"] = nullptr;
  d["scenario"]["name"] = nullptr;
  for (const std::string lang : {"en", "fr"}) {
    std::string md;
    ASSERT_NO_THROW(md = scenarioMarkdown(d, lang)) << lang;
    EXPECT_FALSE(md.empty());
  }
  const std::string en = scenarioMarkdown(d, "en");
  EXPECT_TRUE(has(en, "# Scenario: inputs/marseille/scenarios/velodrome_match.ini")) << en;
  EXPECT_TRUE(has(en, "The change in expected incidents is not available in scenario.json.")) << en;
  EXPECT_TRUE(has(en, "Per-step figures: not available.")) << en;
  EXPECT_TRUE(has(en, "No area file is configured")) << en;
  EXPECT_TRUE(has(en, "Publication rule: not described in scenario.json.")) << en;
  EXPECT_TRUE(has(en, "Ensemble: n/a members")) << en;
  EXPECT_TRUE(has(en, "- `scenario/delta.h5`: the maps")) << "outputs null: the engine's files are listed\n"
                                                          << en;

  // Members of the wrong type, null inside entries, and whole documents that are not objects.
  json odd = scenarioDoc();
  odd["totals"]["delta"] = {{"expected", "three"}, {"p10", nullptr}, {"p90", 5.0}};
  odd["sources"][0] = {{"type", 3}, {"multiplier", nullptr}};
  odd["top_cells"][0] = {{"rank", nullptr}, {"lat", "x"}};
  odd["per_step"][3] = nullptr;
  odd["areas"] = {{"name", "not a list"}};
  odd["covariates"]["scenario"]["overrides"] = "tmax_c=35";
  EXPECT_NO_THROW((void)scenarioMarkdown(odd, "en"));
  EXPECT_NO_THROW((void)scenarioMarkdown(odd, "fr"));
  EXPECT_NO_THROW((void)scenarioMarkdown(json::object(), "en"));
  EXPECT_NO_THROW((void)scenarioMarkdown(json(nullptr), "fr"));
  EXPECT_NO_THROW((void)scenarioMarkdown(json::array({1, 2}), "en"));
}

TEST(ScenarioReport, BadLangIsAUsageError) {
  try {
    (void)scenarioMarkdown(scenarioDoc(), "de");
    FAIL() << "lang 'de' accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    EXPECT_TRUE(has(e.what(), "'de'")) << e.what();
  }
  EXPECT_THROW((void)scenarioMarkdown(scenarioDoc(), ""), Error);
  EXPECT_THROW((void)scenarioMarkdown(scenarioDoc(), "EN"), Error);
}

class ReportFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("vigie_scenario_report_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }
  fs::path m_dir;
};

std::string readFile(const fs::path& p) {
  std::ifstream is(p, std::ios::binary);
  std::ostringstream os;
  os << is.rdbuf();
  return os.str();
}

TEST_F(ReportFiles, WritesScenarioMdInTheDocumentsLanguage) {
  json d = scenarioDoc();
  d["lang"] = "fr";
  const auto names = writeScenarioReport(d, m_dir / "scenario");
  ASSERT_EQ(names, std::vector<std::string>{"scenario.md"});
  const fs::path md = m_dir / "scenario" / "scenario.md";
  ASSERT_TRUE(fs::is_regular_file(md));
  EXPECT_EQ(readFile(md), scenarioMarkdown(d, "fr"));
  EXPECT_FALSE(fs::exists(m_dir / "scenario" / "scenario.md.tmp"));
  // Rewriting replaces the file.
  d["lang"] = nullptr;  // English when absent
  (void)writeScenarioReport(d, m_dir / "scenario");
  EXPECT_EQ(readFile(md), scenarioMarkdown(d, "en"));
}

TEST_F(ReportFiles, BadLangWritesNothing) {
  json d = scenarioDoc();
  d["lang"] = "es";
  try {
    (void)writeScenarioReport(d, m_dir);
    FAIL() << "lang 'es' accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
  }
  EXPECT_FALSE(fs::exists(m_dir));
}

}  // namespace
