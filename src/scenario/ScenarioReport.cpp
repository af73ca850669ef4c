#include "scenario/ScenarioReport.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

#include "forecast/ReportText.hpp"

namespace vigie::scenario {

using nlohmann::json;

namespace {

// The tolerant access to scenario.json, the language, numbers, dates and file writing are shared with the
// forecast's summary.
using namespace forecast::report_text;  // NOLINT(google-build-using-namespace)

// ---- Numbers.

/// "0.250" -> "0.25", "1.000" -> "1".
std::string dropTrailingZeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

/// An incident count: integers as integers, about three significant digits from 0.01 up, two below (a cell's
/// expected incidents over a few hours are often ten-thousandths); with `sign`, a "+" before positive values,
/// so a change reads as one.
std::string count(std::optional<double> v, Lang lang, bool sign = false) {
  if (!v) return notAvailable(lang);
  const double a = std::abs(*v);
  if (a == 0.0) return "0";
  const std::string plus = (sign && *v > 0) ? "+" : "";
  if (a < 1e-6) return plus + localise(*v < 0 ? "-<0.000001" : "<0.000001", lang);
  int decimals = a >= 99.5 ? 0 : a >= 0.995 ? 1 : a >= 0.0995 ? 2 : 3;
  if (a < 0.00995) {
    // Two significant digits, counted on the value rounded to them (0.000998 is 0.0010, not 0.00100).
    std::array<char, 32> two{};
    std::snprintf(two.data(), two.size(), "%.1e", a);
    decimals = static_cast<int>(std::ceil(-std::log10(std::strtod(two.data(), nullptr)) - 1e-9)) + 1;
  }
  return plus + localise(dropZeroFraction(fixed(*v, decimals)), lang);
}

/// A plain parameter value (a coefficient, a covariate mean, an effect): up to three decimals, trailing zeros
/// dropped.
std::string plain(std::optional<double> v, Lang lang) {
  if (!v) return notAvailable(lang);
  const double a = std::abs(*v);
  return localise(dropTrailingZeros(fixed(*v, a >= 1000 ? 0 : 3)), lang);
}

/// A relative change as a signed percentage: "+12%", "-4.5%", "+0.3%" ("+12 %" in French).
std::string signedPercent(std::optional<double> fraction, Lang lang) {
  if (!fraction) return notAvailable(lang);
  const double x = 100.0 * *fraction;
  const double a = std::abs(x);
  std::string s;
  if (a == 0.0)
    s = "0";
  else if (a < 0.1)
    s = x < 0 ? "-<0.1" : "+<0.1";
  else
    s = (x > 0 ? "+" : "") + dropZeroFraction(fixed(x, a < 9.95 ? 1 : 0));
  return localise(s, lang) + (lang == Lang::Fr ? " %" : "%");
}

/// "[+1.1, +5.8]" ("[+1,1 ; +5,8]" in French): the 80% interval of a change, which may hold negative values,
/// hence no dash between the bounds. Empty when a bound is absent.
std::string changeInterval(std::optional<double> lo, std::optional<double> hi, Lang lang) {
  if (!lo || !hi) return "";
  return "[" + count(lo, lang, true) + (lang == Lang::Fr ? " ; " : ", ") + count(hi, lang, true) + "]";
}

/// "[22-30]" for counts (never negative).
std::string countInterval(std::optional<double> lo, std::optional<double> hi, Lang lang) {
  if (!lo || !hi) return "";
  return "[" + count(lo, lang) + "-" + count(hi, lang) + "]";
}

std::string multiplier(std::optional<double> m, Lang lang) {
  if (!m) return notAvailable(lang);
  return "×" + localise(fixed(*m, 2), lang);
}

std::string incidentsWord(std::optional<double> v, Lang lang) {
  if (lang == Lang::Fr) return (v && std::abs(*v) < 2.0) ? "incident" : "incidents";
  return (v && std::abs(*v) == 1.0) ? "incident" : "incidents";
}

// ---- Dates: scenario.json holds local ISO times ("2019-03-17T18:00+01:00", or without the offset).

/// Whether two local times are the same instant on the clock; the offset may be written on one only.
bool sameTime(const std::string& a, const std::string& b) {
  const Stamp x = parseStamp(a);
  const Stamp y = parseStamp(b);
  if (!x.ok || !y.ok) return a == b;
  return x.year == y.year && x.month == y.month && x.day == y.day && x.hour == y.hour &&
         x.minute == y.minute && (x.offset.empty() || y.offset.empty() || x.offset == y.offset);
}

/// A half-open window [start, end) in words: "Sunday 17 March 2019, 21:00 to 23:00 (UTC+01:00)" on one day,
/// "from Sunday 17 March 2019, 17:00 to Monday 18 March 2019, 02:00 (UTC+01:00)" across days; in French
/// "dimanche 17 mars 2019 de 21 h à 23 h", "du dimanche 17 mars 2019 à 17 h au lundi 18 mars 2019 à 2 h".
/// An end at midnight closes the previous day.
std::string windowText(const std::string& start, const std::string& end, Lang lang) {
  const Stamp a = parseStamp(start);
  const Stamp b = parseStamp(end);
  if (!a.ok || !b.ok) {
    const std::string s = start.empty() ? notAvailable(lang) : start;
    const std::string e = end.empty() ? notAvailable(lang) : end;
    return lang == Lang::Fr ? "du " + s + " au " + e : "from " + s + " to " + e;
  }
  const std::string offset = a.offset == b.offset ? offsetText(a.offset) : "";
  const std::string a_off = a.offset == b.offset ? "" : offsetText(a.offset);
  const std::string b_off = a.offset == b.offset ? "" : offsetText(b.offset);
  const bool same_day = a.year == b.year && a.month == b.month && a.day == b.day;
  if (same_day) {
    if (lang == Lang::Fr)
      return dayText(a, lang, true) + " de " + clock(a.hour, a.minute, lang) + a_off + " à " +
             clock(b.hour, b.minute, lang) + b_off + offset;
    return dayText(a, lang, true) + ", " + clock(a.hour, a.minute, lang) + a_off + " to " +
           clock(b.hour, b.minute, lang) + b_off + offset;
  }
  if (lang == Lang::Fr)
    return "du " + dayText(a, lang, true) + " à " + clock(a.hour, a.minute, lang) + a_off + " au " +
           dayText(b, lang, true) + " à " + clock(b.hour, b.minute, lang) + b_off + offset;
  return "from " + dayText(a, lang, true) + ", " + clock(a.hour, a.minute, lang) + a_off + " to " +
         dayText(b, lang, true) + ", " + clock(b.hour, b.minute, lang) + b_off + offset;
}

/// The step starting at `raw`: "Sunday 17 March, 21:00-22:00" or "Sunday 17 March" (and the French forms);
/// the raw string for an unknown step.
std::string stepText(const std::string& raw, const std::string& step, Lang lang) {
  const Stamp t = parseStamp(raw);
  if (!t.ok) return raw.empty() ? notAvailable(lang) : raw;
  if (step == "hour")
    return dayText(t, lang, false) + ", " + clock(t.hour, t.minute, lang) + "-" +
           clock((t.hour + 1) % 24, t.minute, lang);
  if (step == "day") return dayText(t, lang, false);
  return raw;
}

/// "9 hourly steps" / "9 pas horaires".
std::string stepsText(std::size_t n, const std::string& step, Lang lang) {
  const bool one = n == 1;
  const std::string k = std::to_string(n);
  if (lang == Lang::Fr) {
    const std::string unit = step == "hour"  ? (one ? " horaire" : " horaires")
                             : step == "day" ? (one ? " journalier" : " journaliers")
                                             : (step.empty() ? "" : " (" + step + ")");
    return k + " pas" + unit;
  }
  const std::string unit = step == "hour" ? " hourly" : step == "day" ? " daily" : "";
  return k + unit + (one ? " step" : " steps") + (unit.empty() && !step.empty() ? " (" + step + ")" : "");
}

// ---- Names in words.

std::string sourceTypeWords(const std::string& type, Lang lang) {
  static const std::map<std::string_view, Words> kWords = {
      {"event", {"event", "événement"}},
      {"works", {"works", "travaux"}},
      {"intervention", {"intervention", "intervention"}},
  };
  const auto it = kWords.find(type);
  if (it == kWords.end()) return type.empty() ? notAvailable(lang) : type;
  return std::string(lang == Lang::Fr ? it->second.fr : it->second.en);
}

std::string eventKindWords(const std::string& kind, Lang lang) {
  static const std::map<std::string_view, Words> kWords = {
      {"match", {"match", "match"}},          {"concert", {"concert", "concert"}},
      {"festival", {"festival", "festival"}}, {"gathering", {"gathering", "rassemblement"}},
      {"market", {"market", "marché"}},       {"demonstration", {"demonstration", "manifestation"}},
  };
  const auto it = kWords.find(kind);
  if (it == kWords.end()) return kind;
  return std::string(lang == Lang::Fr ? it->second.fr : it->second.en);
}

/// The engine describes areas in English ("a circle of 1000 m around lon 5.3959, lat 43.2698", "the polygons
/// of FILE"); the French report translates those two forms and keeps anything else as is.
std::string areaText(const std::string& raw, Lang lang) {
  if (raw.empty()) return notAvailable(lang);
  if (lang == Lang::En) return raw;
  constexpr std::string_view kCircle = "a circle of ";
  constexpr std::string_view kAround = " m around ";
  constexpr std::string_view kPolygons = "the polygons of ";
  if (raw.rfind(kCircle, 0) == 0) {
    const auto around = raw.find(kAround, kCircle.size());
    if (around != std::string::npos)
      return "un cercle de " + localise(raw.substr(kCircle.size(), around - kCircle.size()), lang) +
             " m autour de " + raw.substr(around + kAround.size());
  }
  if (raw.rfind("a ", 0) == 0) {  // "a 1000 m circle around ..."
    const auto circle = raw.find(" m circle around ");
    if (circle != std::string::npos)
      return "un cercle de " + localise(raw.substr(2, circle - 2), lang) + " m autour de " +
             raw.substr(circle + std::string_view(" m circle around ").size());
  }
  if (raw.rfind(kPolygons, 0) == 0) return "les polygones de " + raw.substr(kPolygons.size());
  return raw;
}

std::string modelWords(const std::string& name, Lang lang) {
  static const std::map<std::string_view, Words> kWords = {
      {"sepp",
       {"self-exciting point process: past events, places and calendar",
        "processus ponctuel auto-excitant : événements passés, lieux et calendrier"}},
      {"blend", {"blend of the enabled models", "mélange des modèles activés"}},
  };
  const auto it = kWords.find(name);
  if (it == kWords.end()) return name.empty() ? notAvailable(lang) : "`" + name + "`";
  return "`" + name + "` (" + std::string(lang == Lang::Fr ? it->second.fr : it->second.en) + ")";
}

std::string fileWords(const std::string& path, Lang lang) {
  static const std::map<std::string_view, Words> kWords = {
      {"delta.h5",
       {"the maps of the baseline, the scenario and their difference (HDF5; open delta.h5.xmf in ParaView or "
        "VisIt)",
        "les cartes de la référence, du scénario et de leur différence (HDF5 ; ouvrir delta.h5.xmf dans "
        "ParaView ou VisIt)"}},
      {"delta.h5.xmf", {"the maps' XDMF description", "la description XDMF des cartes"}},
      {"scenario.json",
       {"every figure of this report, machine-readable",
        "tous les chiffres de ce rapport, lisibles par programme"}},
      {"scenario.md", {"this report", "ce rapport"}},
      {"map_scenario.png",
       {"baseline, scenario and difference maps side by side (scripts/scenario_maps.py; drawn when "
        "forecast.plots is true)",
        "cartes de la référence, du scénario et de la différence côte à côte (scripts/scenario_maps.py ; "
        "dessinées si forecast.plots vaut true)"}},
  };
  const auto slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto it = kWords.find(base);
  if (it == kWords.end()) return "`" + path + "`";
  return "`" + path + "`" + (lang == Lang::Fr ? " : " : ": ") +
         std::string(lang == Lang::Fr ? it->second.fr : it->second.en);
}

// ---- The report, section by section.

class Report {
 public:
  Report(const json& doc, Lang lang)
      : m_doc(doc),
        m_t{lang},
        m_lang(lang),
        m_scenario(object(doc, "scenario")),
        m_totals(object(doc, "totals")) {}

  std::string build() {
    title();
    headline();
    where();
    when();
    drivers();
    covariates();
    ensemble();
    privacy();
    files();
    return m_lang == Lang::Fr ? frenchSpacing(m_out.str()) : m_out.str();
  }

 private:
  [[nodiscard]] const json& total(std::string_view which) const { return object(m_totals, which); }

  void title() {
    const std::string name =
        text(m_scenario, "name", text(m_scenario, "file", m_t("(unnamed scenario)", "(scénario sans nom)")));
    m_out << "# " << m_t("Scenario: ", "Scénario : ") << name << "\n\n";
    const json& steps = array(m_doc, "per_step");
    const std::string step = text(m_scenario, "step");
    m_out << "**" << m_t("Window:", "Période :") << "** "
          << windowText(text(m_scenario, "start"), text(m_scenario, "end"), m_lang);
    if (!steps.empty()) m_out << m_t("; ", " ; ") << stepsText(steps.size(), step, m_lang);
    m_out << ".  \n";
    m_out << m_t("Case ", "Cas ") << "`" << text(m_doc, "case", "?") << "`. "
          << m_t("Baseline: the same forecast without the scenario, started ",
                 "Référence : la même prévision sans le scénario, commencée le ")
          << stampText(text(m_doc, "forecast_start"), m_lang) << ". " << m_t("Issued ", "Émis le ")
          << stampText(text(m_doc, "issued_utc"), m_lang) << ".";
    const std::string file = text(m_scenario, "file");
    if (!file.empty()) m_out << m_t(" Scenario file: ", " Fichier du scénario : ") << "`" << file << "`.";
    m_out << "\n\n";
    const std::string description = text(m_scenario, "description");
    if (!description.empty()) m_out << "> " << cell(description) << "\n\n";
  }

  void headline() {
    const json& delta = total("delta");
    const auto e = number(delta, "expected");
    const auto lo = number(delta, "p10");
    const auto hi = number(delta, "p90");
    if (!e) {
      m_out << "**"
            << m_t("The change in expected incidents is not available in scenario.json.",
                   "La variation du nombre attendu d'incidents n'est pas disponible dans scenario.json.")
            << "**\n\n";
    } else {
      const std::string iv = changeInterval(lo, hi, m_lang);
      m_out << "**"
            << m_t("Expected extra incidents over the window: ",
                   "Incidents supplémentaires attendus sur la période : ")
            << count(e, m_lang, true);
      if (!iv.empty())
        m_out << " " << iv << "**" << m_t(" (80% interval, p10-p90)", " (intervalle à 80 %, p10-p90)");
      else
        m_out << "**" << m_t(" (interval not available)", " (intervalle non disponible)");
      const auto base = number(total("baseline"), "expected");
      if (base && *base > 0.0)
        m_out << m_t(", that is ", ", soit ") << signedPercent(*e / *base, m_lang)
              << m_t(" against the baseline", " par rapport à la référence");
      else
        m_out << m_t("; relative change not available (no baseline total)",
                     " ; variation relative non disponible (pas de total de référence)");
      m_out << ".\n\n";
      // What the sign of the interval says, in plain words.
      if (lo && hi) {
        if (*lo == 0.0 && *hi == 0.0 && *e == 0.0)
          m_out << m_t("The scenario changes no expected incident over the window.",
                       "Le scénario ne change aucun incident attendu sur la période.")
                << "\n\n";
        else if (*lo <= 0.0 && *hi >= 0.0)
          m_out << "**"
                << m_t("The interval includes 0: there could be no change.",
                       "L'intervalle contient 0 : il pourrait n'y avoir aucun changement.")
                << "**\n\n";
        else if (*lo > 0.0)
          m_out << m_t("The scenario raises the expected incidents: the whole interval is above 0.",
                       "Le scénario augmente le nombre attendu d'incidents : tout l'intervalle est au-dessus "
                       "de 0.")
                << "\n\n";
        else
          m_out << m_t("The scenario lowers the expected incidents: the whole interval is below 0.",
                       "Le scénario diminue le nombre attendu d'incidents : tout l'intervalle est en dessous "
                       "de 0.")
                << "\n\n";
      }
      m_out << "- " << m_t("Without the scenario (baseline): ", "Sans le scénario (référence) : ")
            << totalText(total("baseline")) << "\n";
      m_out << "- " << m_t("With the scenario: ", "Avec le scénario : ") << totalText(total("scenario"))
            << "\n";
    }
    m_out << "\n*"
          << m_t("Intervals are over expected counts (the ensemble's spread); they leave out the chance "
                 "variation "
                 "of the incidents themselves (Poisson noise), so the number actually recorded varies more.",
                 "Les intervalles portent sur les nombres attendus (la dispersion de l'ensemble) ; ils ne "
                 "comprennent pas la variation aléatoire des incidents eux-mêmes (bruit de Poisson) : le "
                 "nombre "
                 "réellement enregistré varie davantage.")
          << "*\n\n";
  }

  std::string totalText(const json& t) const {
    const auto e = number(t, "expected");
    std::string s = count(e, m_lang) + " " + incidentsWord(e, m_lang) + " " +
                    m_t("expected", e && std::abs(*e) < 2 ? "attendu" : "attendus");
    const std::string iv = countInterval(number(t, "p10"), number(t, "p90"), m_lang);
    if (!iv.empty()) s += " " + iv;
    return s + ".";
  }

  void where() {
    m_out << "## " << m_t("Where", "Où") << "\n\n";
    const json& cells = array(m_doc, "top_cells");
    const std::size_t n = std::min<std::size_t>(5, cells.size());
    if (n == 0) {
      m_out << m_t("No published cell is listed in scenario.json (top_cells).",
                   "Aucune maille publiée n'est indiquée dans scenario.json (top_cells).")
            << "\n\n";
    } else {
      const auto cell_m = number(object(m_doc, "grid"), "cell_m");
      m_out << m_t("The ", "Les ") << n << " " << m_t("published cells", "mailles publiées");
      if (cell_m && *cell_m > 0)
        m_out << " (" << count(cell_m, m_lang) << " m × " << count(cell_m, m_lang) << " m)";
      m_out << m_t(" where the scenario changes the expected incidents most:",
                   " où le scénario modifie le plus le nombre attendu d'incidents :")
            << "\n\n";
      m_out << "| # | " << m_t("Area", "Zone") << " | " << m_t("Location (lat, lon)", "Position (lat, lon)")
            << " | " << m_t("Baseline", "Référence") << " | " << m_t("Scenario", "Scénario") << " | "
            << m_t("Change [p10, p90]", "Variation [p10 ; p90]") << " |\n|---|---|---|---|---|---|\n";
      for (std::size_t k = 0; k < n; ++k) cellRow(cells[k], k + 1);
      m_out << "\n";
    }
    areas();
  }

  void cellRow(const json& c, std::size_t fallback_rank) {
    const auto rank = integer(c, "rank");
    const std::string area_name = areaName(c, m_lang);
    const std::string where = locationLink(number(c, "lat"), number(c, "lon"), m_lang);
    const std::string iv = changeInterval(number(c, "delta_p10"), number(c, "delta_p90"), m_lang);
    m_out << "| " << (rank ? *rank : static_cast<long long>(fallback_rank)) << " | " << cell(area_name)
          << " | " << where << " | " << count(number(c, "baseline"), m_lang) << " | "
          << count(number(c, "scenario"), m_lang) << " | " << count(number(c, "delta"), m_lang, true)
          << (iv.empty() ? "" : " " + iv) << " |\n";
  }

  void areas() {
    const json* areas = member(m_doc, "areas");
    if (!areas || !areas->is_array()) {
      m_out << noAreaFileText(m_lang) << "\n\n";
      return;
    }
    std::vector<const json*> rows;
    for (const auto& a : *areas)
      if (number(a, "delta")) rows.push_back(&a);
    std::stable_sort(rows.begin(), rows.end(), [](const json* a, const json* b) {
      return std::abs(*number(*a, "delta")) > std::abs(*number(*b, "delta"));
    });
    while (!rows.empty() && *number(*rows.back(), "delta") == 0.0) rows.pop_back();
    if (rows.empty()) {
      m_out << m_t("The scenario changes no area's expected incidents.",
                   "Le scénario ne modifie le nombre attendu d'incidents d'aucune zone.")
            << "\n\n";
      return;
    }
    m_out << m_t("Areas with the largest change:", "Zones les plus touchées :") << "\n\n";
    const std::size_t n = std::min<std::size_t>(5, rows.size());
    for (std::size_t k = 0; k < n; ++k) {
      const json& a = *rows[k];
      const auto d = number(a, "delta");
      m_out << k + 1 << ". **" << text(a, "name", "?") << "**" << m_t(": ", " : ") << count(d, m_lang, true)
            << " " << incidentsWord(d, m_lang);
      const std::string iv = changeInterval(number(a, "delta_p10"), number(a, "delta_p90"), m_lang);
      if (!iv.empty()) m_out << " " << iv;
      const auto base = number(a, "baseline");
      const auto with = number(a, "scenario");
      if (base && with) {
        m_out << " (" << count(base, m_lang) << " → " << count(with, m_lang) << m_t(" expected", " attendus");
        if (*base > 0) m_out << m_t(", ", ", ") << signedPercent(*d / *base, m_lang);
        m_out << ")";
      }
      m_out << "\n";
    }
    m_out << "\n";
  }

  void when() {
    m_out << "## " << m_t("When", "Quand") << "\n\n";
    const json& steps = array(m_doc, "per_step");
    const std::string step = text(m_scenario, "step");
    if (steps.empty()) {
      m_out << m_t("Per-step figures: not available.", "Chiffres par pas : non disponibles.") << "\n\n";
      return;
    }
    long long peak = integer(m_doc, "peak_step").value_or(-1);
    if (peak < 0 || peak >= static_cast<long long>(steps.size())) {
      // No valid peak in the document: the step with the largest change (first on ties).
      peak = -1;
      double best = 0.0;
      for (std::size_t k = 0; k < steps.size(); ++k) {
        const auto d = number(steps[k], "delta");
        if (d && (peak < 0 || std::abs(*d) > best)) {
          best = std::abs(*d);
          peak = static_cast<long long>(k);
        }
      }
    }
    if (peak >= 0) {
      const json& s = steps[static_cast<std::size_t>(peak)];
      const auto d = number(s, "delta");
      m_out << m_t("Largest change ", "Plus forte variation ")
            << (step == "hour" || step == "day" ? m_t("on ", "le ") : "")
            << stepText(text(s, "start"), step, m_lang) << m_t(": ", " : ") << count(d, m_lang, true) << " "
            << incidentsWord(d, m_lang);
      const std::string iv = changeInterval(number(s, "delta_p10"), number(s, "delta_p90"), m_lang);
      if (!iv.empty()) m_out << " " << iv;
      const auto base = number(s, "baseline");
      if (d && base && *base > 0) m_out << " (" << signedPercent(*d / *base, m_lang) << ")";
      m_out << ".\n\n";
    }
    constexpr std::size_t kMaxRows = 48;
    if (steps.size() < 2) return;
    if (steps.size() > kMaxRows) {
      m_out << m_t("The ", "Les ") << steps.size()
            << m_t(" per-step figures are in scenario.json (per_step) and delta.h5.",
                   " chiffres par pas sont dans scenario.json (per_step) et delta.h5.")
            << "\n\n";
      return;
    }
    m_out << "| " << m_t("Step", "Pas") << " | " << m_t("Baseline", "Référence") << " | "
          << m_t("Scenario", "Scénario") << " | " << m_t("Change [p10, p90]", "Variation [p10 ; p90]")
          << " |\n|---|---|---|---|\n";
    for (std::size_t k = 0; k < steps.size(); ++k) {
      const json& s = steps[k];
      const bool is_peak = static_cast<long long>(k) == peak;
      const std::string iv = changeInterval(number(s, "delta_p10"), number(s, "delta_p90"), m_lang);
      const std::string change = count(number(s, "delta"), m_lang, true) + (iv.empty() ? "" : " " + iv);
      m_out << "| " << cell(stepText(text(s, "start"), step, m_lang)) << " | "
            << count(number(s, "baseline"), m_lang) << " | " << count(number(s, "scenario"), m_lang) << " | "
            << (is_peak ? "**" + change + "**" : change) << " |\n";
    }
    m_out << "\n";
  }

  void drivers() {
    m_out << "## " << m_t("What drives it: data and assumptions", "Ce qui l'explique : données et hypothèses")
          << "\n\n";
    m_out << m_t("Two kinds of effect make up the change. **From data**: estimated by fitting the model to "
                 "past "
                 "incidents. **Assumption**: a value set by Vigie's defaults or by the scenario file, not "
                 "estimated from data; the result is only as good as these values.",
                 "La variation combine deux sortes d'effets. **Issu des données** : estimé en ajustant le "
                 "modèle "
                 "aux incidents passés. **Hypothèse** : une valeur fixée par les valeurs par défaut de Vigie "
                 "ou "
                 "par le fichier du scénario, non estimée à partir des données ; le résultat ne vaut que ce "
                 "que "
                 "valent ces valeurs.")
          << "\n\n";

    m_out << "### " << m_t("From data (fitted model)", "Issu des données (modèle ajusté)") << "\n\n";
    const json& changes = array(m_doc, "covariate_changes");
    std::size_t shown = 0;
    for (const auto& c : changes) {
      if (!c.is_object()) continue;
      ++shown;
      const std::string name = text(c, "name", "?");
      const std::string readable = covariateName(name, m_lang);
      m_out << "- **" << readable << "**" << (readable != name ? " (`" + name + "`" : " (")
            << m_t(", model ", ", modèle ") << "`" << text(c, "model", "?") << "`)"
            << m_t(": mean over the window ", " : moyenne sur la période ")
            << plain(number(c, "z_baseline"), m_lang) << m_t(" without the scenario, ", " sans le scénario, ")
            << plain(number(c, "z_scenario"), m_lang)
            << m_t(" with it; fitted coefficient ", " avec ; coefficient ajusté ")
            << "β = " << plain(number(c, "beta"), m_lang) << m_t(", so the rate ", ", d'où un taux ")
            << multiplier(number(c, "factor"), m_lang) << m_t(" (from data).", " (issu des données).")
            << "\n";
    }
    if (shown == 0)
      m_out << m_t("None: the scenario changes no covariate of the fitted model (no weather or calendar "
                   "change, "
                   "or the model does not use them).",
                   "Aucun effet : le scénario ne modifie aucune covariable du modèle ajusté (pas de "
                   "changement de "
                   "météo "
                   "ou de calendrier, ou le modèle ne les utilise pas).")
            << "\n";
    m_out << "\n";

    m_out << "### "
          << m_t("Assumptions (not estimated from data)", "Hypothèses (non estimées à partir des données)")
          << "\n\n";
    std::size_t sources = 0;
    for (const auto& s : array(m_doc, "sources")) {
      if (!s.is_object()) continue;
      ++sources;
      sourceLine(s);
    }
    if (sources == 0)
      m_out << m_t("No event, works or intervention in the scenario.",
                   "Aucun événement, travaux ou intervention dans le scénario.")
            << "\n";
    m_out << "\n";
    std::vector<std::string> stated;
    for (const auto& a : array(m_doc, "assumptions"))
      if (a.is_string() && !a.get<std::string>().empty()) stated.push_back(a.get<std::string>());
    if (!stated.empty()) {
      m_out << m_t("Every assumption, as the engine records it:",
                   "Toutes les hypothèses, telles que le moteur les enregistre (en anglais) :")
            << "\n\n";
      for (const auto& a : stated)
        m_out << "- *" << m_t("Assumption", "Hypothèse") << m_t(":* ", " :* ") << a << "\n";
      m_out << "\n";
    }
  }

  void sourceLine(const json& s) {
    const std::string type = text(s, "type");
    const std::string kind = text(s, "kind");
    m_out << "- **" << text(s, "name", "?") << "**" << m_t(": ", " : ") << sourceTypeWords(type, m_lang);
    if (!kind.empty()) m_out << " (" << eventKindWords(kind, m_lang) << ")";
    m_out << m_t("; area: ", " ; zone : ") << areaText(text(s, "area"), m_lang);
    if (const auto cells = integer(s, "cells"))
      m_out << " (" << localise(std::to_string(*cells), m_lang) << " "
            << (*cells == 1 ? m_t("cell", "maille") : m_t("cells", "mailles")) << ")";
    m_out << m_t("; ", " ; ") << windowText(text(s, "start"), text(s, "end"), m_lang);
    const std::string a0 = text(s, "active_start");
    const std::string a1 = text(s, "active_end");
    if ((!a0.empty() || !a1.empty()) && (!sameTime(a0, text(s, "start")) || !sameTime(a1, text(s, "end"))))
      m_out << m_t(", acting with its margins ", ", effet appliqué avec ses marges ")
            << (parseStamp(a0).ok && parseStamp(a1).ok ? windowText(a0, a1, m_lang)
                                                       : a0 + m_t(" to ", " à ") + a1);
    if (const auto crowd = number(s, "crowd"))
      m_out << m_t("; crowd ", " ; affluence ") << localise(fixed(*crowd, 0), m_lang);
    m_out << m_t("; effect ", " ; effet ") << plain(number(s, "effect"), m_lang) << " ("
          << m_t("sd ", "écart-type ") << plain(number(s, "effect_sd"), m_lang) << ")";
    if (const auto el = number(s, "elasticity"))
      m_out << m_t(", elasticity ", ", élasticité ") << plain(el, m_lang);
    m_out << m_t(": expected incidents inside ", " : incidents attendus dans la zone ")
          << multiplier(number(s, "multiplier"), m_lang) << m_t(" (assumption)", " (hypothèse)") << ".";
    const std::string basis = text(s, "basis");
    m_out << m_t(" Basis: ", " Fondement : ")
          << (basis.empty() ? m_t("not stated", "non indiqué") : cell(basis)) << (basis.empty() ? "." : "");
    if (!basis.empty() && std::string_view(".!?").find(basis.back()) == std::string_view::npos) m_out << ".";
    m_out << "\n";
  }

  std::string overridesText(const json& c) const {
    const json* ov = member(c, "overrides");
    std::vector<std::string> items;
    if (ov && ov->is_object())
      for (const auto& [k, v] : ov->items()) {
        const auto x = number(v);
        items.push_back("`" + k + "` = " +
                        (x               ? plain(x, m_lang)
                         : v.is_string() ? v.get<std::string>()
                                         : v.dump()));
      }
    else if (ov && ov->is_string() && !ov->get<std::string>().empty())
      items.push_back("`" + ov->get<std::string>() + "`");
    return items.empty() ? m_t("none", "aucune") : joinList(items, m_lang);
  }

  void covariates() {
    m_out << "## " << m_t("Covariates: baseline and scenario", "Covariables : référence et scénario")
          << "\n\n";
    const json* c = member(m_doc, "covariates");
    if (!c || !c->is_object()) {
      m_out << m_t("Covariates: not described in scenario.json.",
                   "Covariables : non décrites dans scenario.json.")
            << "\n\n";
      return;
    }
    const json& b = object(*c, "baseline");
    const json& s = object(*c, "scenario");
    auto orNa = [&](const std::string& v) { return v.empty() ? notAvailable(m_lang) : v; };
    m_out << "| | " << m_t("Baseline", "Référence") << " | " << m_t("Scenario", "Scénario")
          << " |\n|---|---|---|\n";
    m_out << "| " << m_t("Future weather and calendar", "Météo et calendrier à venir") << " | "
          << cell(covariateSourceWords(text(b, "source"), m_lang)) << " | "
          << cell(covariateSourceWords(text(s, "source"), m_lang)) << " |\n";
    m_out << "| " << m_t("Weather", "Météo") << " | " << cell(orNa(text(b, "weather"))) << " | "
          << cell(orNa(text(s, "weather"))) << " |\n";
    m_out << "| " << m_t("Calendar", "Calendrier") << " | " << cell(orNa(text(b, "calendar"))) << " | "
          << cell(orNa(text(s, "calendar"))) << " |\n";
    m_out << "| " << m_t("Values set", "Valeurs imposées") << " | " << cell(overridesText(b)) << " | "
          << cell(overridesText(s)) << " |\n\n";
  }

  void ensemble() {
    m_out << "## " << m_t("Ensemble and method", "Ensemble et méthode") << "\n\n";
    m_out << "- " << m_t("Model: ", "Modèle : ") << modelWords(text(m_doc, "model"), m_lang) << ".\n";
    const auto members = integer(m_doc, "members");
    const auto groups = integer(m_doc, "groups");
    const json* draws = member(m_doc, "parameter_draws");
    m_out << "- " << m_t("Ensemble: ", "Ensemble : ")
          << (members ? std::to_string(*members) : notAvailable(m_lang)) << m_t(" members", " membres");
    if (groups)
      m_out << m_t(" in ", " en ") << *groups << " "
            << (*groups == 1 ? m_t("group", "groupe") : m_t("groups", "groupes"));
    if (draws && draws->is_boolean())
      m_out << (draws->get<bool>()
                    ? m_t(", drawing the model parameters within their uncertainty",
                          ", qui tirent les paramètres du modèle dans leur incertitude")
                    : m_t(", with the model parameters fixed", ", avec les paramètres du modèle fixés"));
    m_out << m_t("; each member runs the baseline and the scenario, and each assumed effect varies across "
                 "members "
                 "with its standard deviation (sd above).",
                 " ; chaque membre calcule la référence et le scénario, et chaque effet supposé varie d'un "
                 "membre "
                 "à l'autre selon son écart-type (indiqué plus haut).")
          << "\n";
    m_out << "- "
          << m_t("Intervals: the 10th and 90th percentiles over the members (80% interval) of the expected "
                 "counts; the Poisson noise of actual incidents is not included.",
                 "Intervalles : du 10e au 90e centile des membres (intervalle à 80 %) des nombres attendus ; "
                 "le "
                 "bruit de Poisson des incidents réels n'est pas inclus.")
          << "\n\n";
  }

  void privacy() {
    const json* p = privacySection(m_out, m_doc, m_lang, {"The scenario", "Le scénario"}, "scenario.json",
                                   [&](std::optional<double> v) { return count(v, m_lang); });
    if (!p) return;
    m_out << m_t(". The cells listed above are published cells.",
                 ". Les mailles citées plus haut sont des mailles publiées.")
          << "\n\n";
  }

  void files() {
    m_out << "## " << m_t("Files", "Fichiers") << "\n\n";
    // The engine's files first (this report is written before the document lists them all), then anything
    // else the document lists; the map is drawn after this report, when forecast.plots is true.
    std::vector<std::string> names = {"scenario/delta.h5", "scenario/delta.h5.xmf", "scenario/scenario.json",
                                      "scenario/scenario.md", "scenario/map_scenario.png"};
    const auto base = [](const std::string& n) {
      const auto slash = n.find_last_of('/');
      return slash == std::string::npos ? n : n.substr(slash + 1);
    };
    for (const auto& o : array(m_doc, "outputs")) {
      if (!o.is_string()) continue;
      const std::string n = o.get<std::string>();
      if (std::none_of(names.begin(), names.end(), [&](const std::string& k) { return base(k) == base(n); }))
        names.push_back(n);
    }
    for (const auto& n : names) m_out << "- " << fileWords(n, m_lang) << "\n";
  }

  const json& m_doc;
  Tr m_t;
  Lang m_lang;
  const json& m_scenario;
  const json& m_totals;
  std::ostringstream m_out;
};

}  // namespace

std::string scenarioMarkdown(const nlohmann::json& doc, const std::string& lang) {
  return Report(doc, parseLang(lang, "scenario report")).build();
}

std::vector<std::string> writeScenarioReport(const nlohmann::json& doc, const std::filesystem::path& dir) {
  // Built before the folder is touched, so a bad lang writes nothing.
  const std::string md = scenarioMarkdown(doc, text(doc, "lang", "en"));
  writeFiles(dir, {{"scenario.md", md}});
  return {"scenario.md"};
}

}  // namespace vigie::scenario
