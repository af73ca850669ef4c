// The planner-facing products of `vigie forecast` (summary.md, hotspots.geojson, risk_by_area*.csv), built
// from a synthetic forecast.json document that follows the schema: key figures in both languages, the plain
// warning when the model is not clearly better than the baseline, table shapes, GeoJSON rings, and documents
// with missing members.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "forecast/Products.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vigie::core::Error;
using vigie::core::ExitCode;
using namespace vigie::forecast;

// A 200 m cell as a lon/lat ring near Marseille (counterclockwise, closed), or open / clockwise on request.
json cellRing(double lon, double lat, bool close = true, bool clockwise = false) {
  const double d = 0.0025;
  json r = json::array({{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}});
  if (clockwise) r = json::array({{lon, lat}, {lon, lat + d}, {lon + d, lat + d}, {lon + d, lat}});
  if (close) r.push_back(r[0]);
  return r;
}

json hotspot(int rank, double expected, const json& area, const json& factors, const json& ring) {
  return {{"rank", rank},
          {"i", 100 + rank},
          {"j", 80 + rank},
          {"x", 893000.0 + 200.0 * rank},
          {"y", 6241600.0 + 200.0 * rank},
          {"lon", 5.37 + 0.0025 * rank},
          {"lat", 43.29 + 0.001 * rank},
          {"cell_lonlat", ring},
          {"expected", expected},
          {"p_any", 1.0 - std::exp(-expected)},
          {"p10", expected * 0.7},
          {"p90", expected * 1.3},
          {"area", area},
          {"factors", factors}};
}

json factor(const std::string& name, double m) {
  return {{"name", name}, {"multiplier", m}, {"meaning", "one standard deviation (0.8) more " + name}};
}

json horizon(const std::string& name, const std::string& step, int steps,
             const std::vector<std::string>& starts, const std::vector<double>& expected, int peak,
             const json& hotspots) {
  json h = {{"name", name}, {"step", step}, {"steps", steps}, {"step_starts", starts}};
  h["step_days"] = json::array();
  h["per_step"] = json::array();
  double total = 0.0;
  for (const double e : expected) {
    h["step_days"].push_back(step == "hour" ? 1.0 / 24.0 : step == "day" ? 1.0 : 31.0);
    h["per_step"].push_back(
        {{"expected", e}, {"p10", std::floor(e * 0.6)}, {"p50", std::round(e)}, {"p90", std::ceil(e * 1.4)}});
    total += e;
  }
  h["total"] = {{"expected", total},
                {"p10", std::floor(total * 0.85)},
                {"p50", std::round(total)},
                {"p90", std::ceil(total * 1.13)}};
  h["peak_step"] = peak;
  h["hotspots"] = hotspots;
  return h;
}

/// The synthetic forecast.json: three horizons (24 hours, 7 days, a month of 171.2 events [145-194]), six
/// hotspots in the month (five are listed), four areas (one whose name holds a comma), a skill ratio of 1.005
/// without interval.
json makeDoc() {
  json doc;
  doc["schema_version"] = 1;
  doc["case"] = "marseille";
  doc["lang"] = "en";
  doc["issued_utc"] = "2026-11-29T12:00:00Z";
  doc["crs"] = "EPSG:2154";
  doc["grid"] = {{"x0", 880000.0}, {"y0", 6230000.0}, {"cell_m", 200.0}, {"nx", 120}, {"ny", 100}};
  doc["data_start"] = "2018-01-01T00:00+01:00";
  doc["forecast_start"] = "2019-01-01T00:00+01:00";
  doc["categories"] = {"road_injury"};
  doc["model"] = "blend";
  doc["models"] = {"sepp", "kde"};
  doc["blend_weights"] = {{"sepp", 0.62}, {"kde", 0.38}};
  doc["members"] = 32;
  doc["parameter_draws"] = true;
  doc["covariates"] = {
      {"source", "climatology"},
      {"weather", "climatology of Marignane 1980-2024 for the same calendar days (+-7 days)"},
      {"calendar", "public holidays FR by rule; school holidays zone B table"},
      {"overrides", {{"tmax_c", 35.0}}}};

  // next_24h: hourly steps from midnight, peak at 18:00 (step 18).
  std::vector<std::string> hours;
  std::vector<double> per_hour;
  for (int h = 0; h < 24; ++h) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2019-01-01T%02d:00+01:00", h);
    hours.emplace_back(buf);
    per_hour.push_back(h == 18 ? 0.9 : 0.2);
  }
  const json hot24 =
      json::array({hotspot(1, 0.05, "Marseille 1er Arrondissement", json::array(), cellRing(5.3725, 43.291)),
                   hotspot(2, 0.04, nullptr, json::array(), cellRing(5.375, 43.292))});
  // next_7d: daily steps, peak on Saturday 5 January (step 4).
  const std::vector<std::string> days = {
      "2019-01-01T00:00+01:00", "2019-01-02T00:00+01:00", "2019-01-03T00:00+01:00", "2019-01-04T00:00+01:00",
      "2019-01-05T00:00+01:00", "2019-01-06T00:00+01:00", "2019-01-07T00:00+01:00"};
  const json hot7 =
      json::array({hotspot(1, 0.12, "Marseille 1er Arrondissement", json::array(), cellRing(5.3725, 43.291)),
                   hotspot(2, 0.10, "Marseille 2e Arrondissement", json::array(), cellRing(5.375, 43.292)),
                   hotspot(3, 0.09, nullptr, json::array(), cellRing(5.3775, 43.293))});
  // next_month: 171.2 events; total p10 = floor(145.52) = 145, p90 = ceil(193.456) = 194.
  json hotm = json::array();
  hotm.push_back(hotspot(1, 0.41, "Marseille 1er Arrondissement",
                         json::array({factor("nightlife_density", 2.31), factor("landmarks_density", 1.4)}),
                         cellRing(5.3725, 43.291, false)));  // open ring: the GeoJSON closes it
  hotm.push_back(hotspot(2, 0.37, "Marseille 2e Arrondissement",
                         json::array({factor("beaches_density", 1.9), factor("school_holiday", 0.8)}),
                         cellRing(5.375, 43.292, true, true)));  // clockwise: the GeoJSON turns it
  hotm.push_back(hotspot(3, 0.33, "Marseille 1er Arrondissement",
                         json::array({factor("nightlife_density", 1.8)}), cellRing(5.3775, 43.293)));
  hotm.push_back(
      hotspot(4, 0.30, nullptr, json::array({factor("custom_layer_xyz", 1.3)}), cellRing(5.38, 43.294)));
  hotm.push_back(hotspot(5, 0.28, "Marseille 7e Arrondissement", json::array(), cellRing(5.3825, 43.295)));
  hotm.push_back(hotspot(6, 0.27, "Sixth Hotspot Area", json::array(), cellRing(5.385, 43.296)));
  doc["horizons"] =
      json::array({horizon("next_24h", "hour", 24, hours, per_hour, 18, hot24),
                   horizon("next_7d", "day", 7, days, {5.0, 5.5, 5.2, 6.0, 9.1, 7.0, 4.9}, 4, hot7),
                   horizon("next_month", "month", 1, {"2019-01-01T00:00+01:00"}, {171.2}, 0, hotm)});
  doc["main_horizon"] = "next_month";

  json list = json::array();
  const std::vector<std::pair<std::string, double>> areas = {{"Marseille 1er Arrondissement", 8.1},
                                                             {"Vieux-Port, Panier", 12.4},
                                                             {"Marseille 2e Arrondissement", 6.3},
                                                             {"Marseille 7e Arrondissement", 2.2}};
  for (const auto& [name, e] : areas) {
    json a = {{"name", name}, {"cells", 180}};
    a["horizons"] = {{"next_24h", {{"expected", e / 31.0}, {"p10", 0.0}, {"p50", 0.0}, {"p90", 1.0}}},
                     {"next_7d", {{"expected", e / 4.4}, {"p10", 0.0}, {"p50", 2.0}, {"p90", 4.0}}},
                     {"next_month",
                      {{"expected", e},
                       {"p10", std::floor(e * 0.6)},
                       {"p50", std::round(e)},
                       {"p90", std::ceil(e * 1.5)}}}};
    a["by_hour"] = json::array();
    for (int h = 0; h < 24; ++h) a["by_hour"].push_back(e / 24.0);
    list.push_back(a);
  }
  doc["areas"] = {{"file", "arrondissements.geojson"}, {"name_property", "nom"}, {"list", list}};
  doc["outline"] = nullptr;
  json shares = json::array();
  for (int h = 0; h < 24; ++h)
    shares.push_back(h == 17 ? 0.08 : h == 18 ? 0.075 : h == 8 ? 0.07 : 0.775 / 21.0);
  doc["hour_profile"] = {{"source", "hour of day of the 2018 events"}, {"shares", shares}};
  doc["skill"] = {{"available", true},
                  {"windows", 6},
                  {"bin", "month"},
                  {"best_baseline", "kde"},
                  {"model", "sepp"},
                  {"pai5", 8.29},
                  {"baseline_pai5", 8.26},
                  {"pai5_ratio", 1.005},
                  {"pai5_ratio_ci95", nullptr},
                  {"dloglik", 0.01},
                  {"dloglik_ci95", nullptr},
                  {"interval_available", false}};
  doc["privacy"] = {{"min_count", 3},
                    {"radius_m", 300.0},
                    {"published_cells", 5000},
                    {"suppressed_cells", 12000},
                    {"rule", "a cell is shown when at least min_count events lie within radius_m"}};
  doc["outputs"] = {"forecast.h5", "forecast.h5.xmf", "forecast.json"};
  return doc;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

#define EXPECT_HAS(text, what) EXPECT_TRUE(contains(text, what)) << "missing: " << (what) << "\n" << (text)
#define EXPECT_LACKS(text, what) \
  EXPECT_FALSE(contains(text, what)) << "unexpected: " << (what) << "\n" << (text)

const std::string kNbsp = "\u00a0";
const std::string kWarnEn = "the model is not clearly better than the simple baseline";
const std::string kWarnFr = "le modèle n'est pas nettement meilleur que la référence simple";

TEST(ForecastProducts, EnglishSummaryHoldsTheKeyFigures) {
  const std::string md = summaryMarkdown(makeDoc(), "en");
  EXPECT_HAS(md, "# Forecast for marseille: road injury collisions");
  EXPECT_HAS(md, "Tuesday 1 January 2019, 00:00 (UTC+01:00)");
  EXPECT_HAS(md, "**Over the next month: 171 events expected [145-194]** (80% interval, p10-p90)");
  EXPECT_HAS(md,
             "*Reliability: in the backtest the model is not clearly better than the simple baseline `kde`");
  // Where: the top five hotspots of the month, not the sixth; the top three areas by expected events.
  EXPECT_HAS(md, "Marseille 1er Arrondissement");
  EXPECT_HAS(md, "(outside the named areas)");
  EXPECT_HAS(md, "about 34%");  // p_any of the first hotspot: 1 - exp(-0.41) = 0.336
  EXPECT_HAS(md, "0.41 [0.29-0.53]");
  EXPECT_LACKS(md, "Sixth Hotspot Area");
  EXPECT_HAS(md, "1. **Vieux-Port, Panier**: 12.4 events [7-19]");
  EXPECT_HAS(md, "3. **Marseille 2e Arrondissement**");
  EXPECT_LACKS(md, "4. **");
  // When: peak hour of the next 24 hours, peak day of the next 7 days, busiest hours of the day.
  EXPECT_HAS(md, "The next 24 hours: peak on Tuesday 1 January, 18:00-19:00");
  EXPECT_HAS(md, "The next 7 days: peak on Saturday 5 January with 9.1 events expected [5-13]");
  EXPECT_HAS(md, "17:00-18:00 (8%), 18:00-19:00 (7.5%) and 08:00-09:00 (7%)");
  // What drives it: known names in words, unknown names as is.
  EXPECT_HAS(md, "nightlife venues nearby");
  EXPECT_HAS(md, "×1.80 to ×2.31, in 2 of the 6 hotspot cells");
  EXPECT_HAS(md, "school holidays");
  EXPECT_HAS(md, "lowers the rate ×0.80");
  EXPECT_HAS(md, "custom_layer_xyz");
  // Skill, not hidden.
  EXPECT_HAS(md, "model 8.29, baseline 8.26");
  EXPECT_HAS(md, "Ratio model / baseline: 1.00; interval not available (6 windows)");
  EXPECT_HAS(md, "6 monthly windows");
  EXPECT_HAS(md, kWarnEn);
  EXPECT_HAS(md, "it only predicts the obvious");
  // Inputs, privacy, method, files.
  EXPECT_HAS(md, "climatology of Marignane");
  EXPECT_HAS(md, "`tmax_c` = 35");
  EXPECT_HAS(md, "no person-level data");
  EXPECT_HAS(md, "at least 3 events were recorded within 300 m");
  EXPECT_HAS(md, "5,000 cells published, 12,000 suppressed");
  EXPECT_HAS(md, "blend of `sepp` (62%) and `kde` (38%)");
  EXPECT_HAS(md, "32 members");
  for (const char* f : {"forecast.h5", "forecast.json", "summary.md", "hotspots.geojson", "risk_by_area.csv",
                        "risk_by_area_hour.csv"})
    EXPECT_HAS(md, std::string("`") + f + "`");
}

TEST(ForecastProducts, FrenchSummaryHoldsTheKeyFiguresInFrench) {
  const std::string md = summaryMarkdown(makeDoc(), "fr");
  EXPECT_HAS(md, "# Prévision pour marseille" + kNbsp + ": accidents corporels de la circulation");
  EXPECT_HAS(md, "mardi 1er janvier 2019 à 0 h (UTC+01:00)");
  EXPECT_HAS(md, "**Sur le mois à venir" + kNbsp + ": 171 événements attendus [145-194]**");
  EXPECT_HAS(md, "intervalle à 80" + kNbsp + "%");
  EXPECT_HAS(md, "*Fiabilité" + kNbsp + ": lors du backtest, " + kWarnFr + " `kde`");
  EXPECT_HAS(md, "(hors des zones nommées)");
  EXPECT_HAS(md, "environ 34" + kNbsp + "%");
  EXPECT_HAS(md, "0,41 [0,29-0,53]");
  EXPECT_HAS(md, "1. **Vieux-Port, Panier**" + kNbsp + ": 12,4 événements [7-19]");
  EXPECT_HAS(md, "Les 24 prochaines heures" + kNbsp + ": pic le mardi 1er janvier, 18 h-19 h");
  EXPECT_HAS(md, "Les 7 prochains jours" + kNbsp + ": pic le samedi 5 janvier avec 9,1 événements attendus");
  EXPECT_HAS(md, "17 h-18 h (8" + kNbsp + "%), 18 h-19 h (7,5" + kNbsp + "%) et 8 h-9 h (7" + kNbsp + "%)");
  EXPECT_HAS(md, "lieux de vie nocturne à proximité");
  EXPECT_HAS(md, "vacances scolaires");
  EXPECT_HAS(md, "monuments et sites touristiques");
  EXPECT_HAS(md, "custom_layer_xyz");
  EXPECT_HAS(md, "modèle 8,29, référence 8,26");
  EXPECT_HAS(md, "intervalle non disponible (6 fenêtres)");
  EXPECT_HAS(md, "6 fenêtres mensuelles");
  EXPECT_HAS(md, kWarnFr);
  EXPECT_HAS(md, "«" + kNbsp + "il ne prédit que l'évidence" + kNbsp + "»");
  EXPECT_HAS(md, "aucune donnée individuelle");
  EXPECT_HAS(md, "5000 mailles publiées, 12" + kNbsp + "000 masquées");
  EXPECT_HAS(md, "mélange de `sepp` (62" + kNbsp + "%) et `kde` (38" + kNbsp + "%)");
  EXPECT_HAS(md, "32 membres");
  EXPECT_LACKS(md, "events expected");
  EXPECT_LACKS(md, "Sixth Hotspot Area");
}

TEST(ForecastProducts, WarningFollowsTheRatioAndItsInterval) {
  struct Case {
    double ratio;
    json ci;
    bool warn;
  };
  const std::vector<Case> cases = {{1.005, nullptr, true},
                                   {1.15, json::array({1.05, 1.25}), true},  // below 1.2
                                   {1.5, json::array({0.9, 2.1}), true},     // interval crosses 1
                                   {1.5, json::array({1.1, 2.0}), false},    // clearly better
                                   {1.3, nullptr, false}};                   // better, not established
  for (const auto& c : cases) {
    json doc = makeDoc();
    doc["skill"]["pai5_ratio"] = c.ratio;
    doc["skill"]["pai5_ratio_ci95"] = c.ci;
    if (c.ci.is_array()) doc["skill"]["dloglik_ci95"] = json::array({-0.01, 0.03});
    const std::string en = summaryMarkdown(doc, "en");
    const std::string fr = summaryMarkdown(doc, "fr");
    EXPECT_EQ(contains(en, kWarnEn), c.warn) << "ratio " << c.ratio << " ci " << c.ci.dump();
    EXPECT_EQ(contains(fr, kWarnFr), c.warn) << "ratio " << c.ratio << " ci " << c.ci.dump();
    if (c.ci.is_array()) {
      EXPECT_HAS(en, "(95% interval)");
      EXPECT_LACKS(en, "interval not available");
    }
    if (!c.warn && c.ci.is_array()) {
      EXPECT_HAS(en, "clearly better than the simple baseline");
      EXPECT_HAS(fr, "nettement mieux que la référence simple");
    }
  }
}

TEST(ForecastProducts, NoBacktestIsSaidPlainly) {
  json doc = makeDoc();
  doc["skill"] = {{"available", false}, {"reason", "backtest.json not found in output.dir"}};
  const std::string en = summaryMarkdown(doc, "en");
  EXPECT_HAS(en, "**No backtest was run** (backtest.json not found in output.dir)");
  EXPECT_HAS(en, "*Reliability: unknown, no backtest was run.*");
  EXPECT_LACKS(en, "PAI@5%");
  const std::string fr = summaryMarkdown(doc, "fr");
  EXPECT_HAS(fr, "**Aucun backtest n'a été réalisé** (backtest.json not found in output.dir)");
  EXPECT_HAS(fr, "*Fiabilité" + kNbsp + ": inconnue, aucun backtest n'a été réalisé.*");
}

TEST(ForecastProducts, AreaTablesHaveOneRowPerAreaAndHorizonOrHour) {
  const json doc = makeDoc();
  const auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream is(text);
    for (std::string l; std::getline(is, l);) out.push_back(l);
    return out;
  };
  const auto rows = lines(areasCsv(doc));
  ASSERT_EQ(rows.size(), 1U + 4U * 3U);
  EXPECT_EQ(rows[0], "area,cells,horizon,expected,p10,p50,p90");
  EXPECT_EQ(rows[3], "Marseille 1er Arrondissement,180,next_month,8.1,4,8,13");
  EXPECT_EQ(rows[4].rfind("\"Vieux-Port, Panier\",180,next_24h,", 0), 0U) << rows[4];
  const auto hours = lines(areasHourCsv(doc));
  ASSERT_EQ(hours.size(), 1U + 4U * 24U);
  EXPECT_EQ(hours[0], "area,hour,expected");
  EXPECT_EQ(hours[24].rfind("Marseille 1er Arrondissement,23,", 0), 0U) << hours[24];
  EXPECT_EQ(hours[25].rfind("\"Vieux-Port, Panier\",0,", 0), 0U) << hours[25];
  double sum = 0.0;
  for (std::size_t k = 1; k <= 24; ++k) sum += std::stod(hours[k].substr(hours[k].rfind(',') + 1));
  EXPECT_NEAR(sum, 8.1, 1e-12);
}

TEST(ForecastProducts, HotspotsGeoJsonReadsBackWithClosedCounterclockwiseRings) {
  const json doc = makeDoc();
  const json fc = json::parse(hotspotsGeoJson(doc));
  EXPECT_EQ(fc["type"], "FeatureCollection");
  EXPECT_EQ(fc["schema_version"], 1);
  ASSERT_EQ(fc["features"].size(), 2U + 3U + 6U);
  int month = 0;
  for (const auto& f : fc["features"]) {
    EXPECT_EQ(f["type"], "Feature");
    ASSERT_EQ(f["geometry"]["type"], "Polygon");
    const json& ring = f["geometry"]["coordinates"][0];
    ASSERT_EQ(ring.size(), 5U) << f.dump();
    EXPECT_EQ(ring.front(), ring.back());
    double twice_area = 0.0;
    for (std::size_t k = 0; k + 1 < ring.size(); ++k)
      twice_area += ring[k][0].get<double>() * ring[k + 1][1].get<double>() -
                    ring[k + 1][0].get<double>() * ring[k][1].get<double>();
    EXPECT_GT(twice_area, 0.0) << "ring is not counterclockwise: " << ring.dump();
    const json& p = f["properties"];
    for (const char* key :
         {"rank", "horizon", "expected", "p_any", "p10", "p90", "area", "factors", "x", "y", "i", "j"})
      EXPECT_TRUE(p.contains(key)) << key;
    EXPECT_TRUE(p["factors"].is_array());
    if (p["horizon"] == "next_month") ++month;
  }
  EXPECT_EQ(month, 6);
  const json& first = fc["features"][5];
  EXPECT_EQ(first["properties"]["rank"], 1);
  EXPECT_EQ(first["properties"]["area"], "Marseille 1er Arrondissement");
  EXPECT_EQ(first["properties"]["factors"][0]["name"], "nightlife_density");
  EXPECT_EQ(first["properties"]["i"], 101);
  EXPECT_TRUE(fc["features"][1]["properties"]["area"].is_null());
}

class ProductFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    m_dir = fs::temp_directory_path() / ("vigie_test_products_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(stamp) + "_" + std::to_string(rd()));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
  fs::path m_dir;
};

TEST_F(ProductFiles, WritesEveryProductAtomically) {
  json doc = makeDoc();
  doc["lang"] = "fr";
  const auto names = writeForecastProducts(doc, m_dir);
  const std::vector<std::string> expected = {"summary.md", "hotspots.geojson", "risk_by_area.csv",
                                             "risk_by_area_hour.csv"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(forecastProductNames(doc), expected);
  int files = 0;
  for (const auto& e : fs::directory_iterator(m_dir)) {
    ++files;
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  }
  EXPECT_EQ(files, 4);
  std::ifstream is(m_dir / "summary.md");
  std::stringstream ss;
  ss << is.rdbuf();
  EXPECT_EQ(ss.str(), summaryMarkdown(doc, "fr"));
}

TEST_F(ProductFiles, NullAreasWriteNoAreaTables) {
  json doc = makeDoc();
  doc["areas"] = nullptr;
  const auto names = writeForecastProducts(doc, m_dir);
  EXPECT_EQ(names, (std::vector<std::string>{"summary.md", "hotspots.geojson"}));
  EXPECT_TRUE(fs::exists(m_dir / "summary.md"));
  EXPECT_FALSE(fs::exists(m_dir / "risk_by_area.csv"));
  EXPECT_FALSE(fs::exists(m_dir / "risk_by_area_hour.csv"));
  EXPECT_EQ(areasCsv(doc), "area,cells,horizon,expected,p10,p50,p90\n");
  const std::string md = summaryMarkdown(doc, "en");
  EXPECT_HAS(md, "No area file is configured");
  EXPECT_LACKS(md, "`risk_by_area.csv`");
}

TEST_F(ProductFiles, BadLangIsAUsageErrorAndWritesNothing) {
  try {
    (void)summaryMarkdown(makeDoc(), "de");
    FAIL() << "lang 'de' was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    EXPECT_HAS(std::string(e.what()), "'de'");
  }
  json doc = makeDoc();
  doc["lang"] = "es";
  EXPECT_THROW(writeForecastProducts(doc, m_dir), Error);
  EXPECT_FALSE(fs::exists(m_dir / "summary.md"));
  EXPECT_FALSE(fs::exists(m_dir / "hotspots.geojson"));
}

TEST(ForecastProducts, MissingMembersDegradeWithAPhrase) {
  // An empty document, and one where every optional member is null or of the wrong type.
  for (const std::string lang : {"en", "fr"}) {
    const std::string empty = summaryMarkdown(json::object(), lang);
    EXPECT_HAS(empty, lang == "en" ? "No forecast horizon" : "Aucun horizon");
    EXPECT_HAS(empty, lang == "en" ? "no skill information" : "aucune mesure de fiabilité");
  }
  json doc = makeDoc();
  for (const char* key : {"issued_utc", "forecast_start", "blend_weights", "members", "covariates",
                          "hour_profile", "privacy", "skill", "outputs", "grid"})
    doc[key] = nullptr;
  doc["horizons"][2]["total"] = nullptr;
  doc["horizons"][2]["hotspots"][0]["area"] = nullptr;
  doc["horizons"][2]["hotspots"][0]["p_any"] = "high";
  doc["horizons"][2]["hotspots"][1]["factors"] = nullptr;
  doc["horizons"][2]["hotspots"][2]["cell_lonlat"] = nullptr;
  doc["horizons"][1]["peak_step"] = nullptr;  // recomputed from per_step
  doc["areas"]["list"][1]["by_hour"] = nullptr;
  doc["skill"] = {{"available", true}, {"pai5_ratio", nullptr}};
  for (const std::string lang : {"en", "fr"}) {
    std::string md;
    ASSERT_NO_THROW(md = summaryMarkdown(doc, lang));
    EXPECT_HAS(md, lang == "en" ? "(interval not available)" : "(intervalle non disponible)");
    EXPECT_HAS(md, lang == "en" ? "Hours of day: not available." : "non disponible.");
    EXPECT_HAS(md, lang == "en" ? "The comparison with the baseline is not available."
                                : "La comparaison avec la référence n'est pas disponible.");
    EXPECT_HAS(md, lang == "en" ? "peak on Saturday 5 January" : "pic le samedi 5 janvier");
    EXPECT_HAS(md, lang == "en" ? "about n/a" : "environ n.d.");
  }
  const json fc = json::parse(hotspotsGeoJson(doc));
  EXPECT_TRUE(fc["features"][7]["geometry"].is_null());
  const std::string hours = areasHourCsv(doc);
  EXPECT_HAS(hours, "\"Vieux-Port, Panier\",5,\n");
}

}  // namespace
