#include "forecast/Products.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/Error.hpp"
#include "forecast/ReportText.hpp"

namespace vigie::forecast {

using core::Error;
using core::ExitCode;
using nlohmann::json;

namespace {

using namespace report_text;  // NOLINT(google-build-using-namespace): the shared text helpers

// ---- Tolerant access: forecast.json is read as it comes (forecast/ReportText.hpp).

/// The member's value when present and positive, else 0 (plain doubles: GCC 12 misreads optionals here).
double positive(const json* j, std::string_view key) {
  const auto v = j ? number(*j, key) : std::nullopt;
  return (v && *v > 0.0) ? *v : 0.0;
}

/// The horizon the summary leads with: doc["main_horizon"], else the first horizon; nullptr when none.
const json* mainHorizon(const json& doc) {
  const json& hs = array(doc, "horizons");
  const std::string name = text(doc, "main_horizon");
  for (const auto& h : hs)
    if (h.is_object() && text(h, "name") == name) return &h;
  for (const auto& h : hs)
    if (h.is_object()) return &h;
  return nullptr;
}

// ---- Language and number formatting.

/// An event count or rate: integers as integers, about three significant digits otherwise.
std::string count(std::optional<double> v, Lang lang) {
  if (!v) return notAvailable(lang);
  const double a = std::abs(*v);
  if (a == 0.0) return "0";
  if (a < 0.001) return localise(*v < 0 ? "-<0.001" : "<0.001", lang);
  const int decimals = a >= 99.5 ? 0 : a >= 0.995 ? 1 : a >= 0.0995 ? 2 : 3;
  return localise(dropZeroFraction(fixed(*v, decimals)), lang);
}

/// A probability in [0, 1] as a percentage ("33%", "4.5%", "<0.1%", ">99%"; "33 %" in French).
std::string percent(std::optional<double> p, Lang lang) {
  if (!p) return notAvailable(lang);
  const double x = 100.0 * *p;
  std::string s;
  if (x <= 0.0)
    s = "0";
  else if (x < 0.1)
    s = "<0.1";
  else if (x < 9.95)
    s = dropZeroFraction(fixed(x, 1));
  else if (x > 99.5 && x < 100.0)
    s = ">99";
  else
    s = fixed(x, 0);
  return localise(s, lang) + (lang == Lang::Fr ? " %" : "%");
}

std::string decimals(std::optional<double> v, int d, Lang lang, bool sign = false) {
  if (!v) return notAvailable(lang);
  std::string s = fixed(*v, d);
  if (sign && *v >= 0) s = "+" + s;
  return localise(s, lang);
}

/// "[150-193]" for counts (never negative).
std::string countInterval(std::optional<double> lo, std::optional<double> hi, Lang lang) {
  if (!lo || !hi) return "";
  return "[" + count(lo, lang) + "-" + count(hi, lang) + "]";
}

/// "[0.95, 1.07]" ("[0,95 ; 1,07]" in French), for values that may be negative.
std::string ciText(const json* ci, int d, Lang lang, bool sign = false) {
  if (!ci || !ci->is_array() || ci->size() != 2) return "";
  const auto lo = number((*ci)[0]);
  const auto hi = number((*ci)[1]);
  if (!lo || !hi) return "";
  return "[" + decimals(lo, d, lang, sign) + (lang == Lang::Fr ? " ; " : ", ") + decimals(hi, d, lang, sign) +
         "]";
}

std::string multiplier(std::optional<double> m, Lang lang) {
  return "×" + decimals(m, 2, lang);
}

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// ---- Dates: forecast.json holds local ISO times ("2019-01-01T00:00+01:00").

std::string hourRange(int hour, Lang lang) {
  return clock(hour, 0, lang) + "-" + clock(hour + 1, 0, lang);
}

std::string dateText(const std::string& raw, Lang lang) {
  const Stamp t = parseStamp(raw);
  if (!t.ok) return raw.empty() ? notAvailable(lang) : raw;
  return dayText(t, lang, true);
}

// ---- Horizons and steps in words.

struct StepUnit {
  std::string_view en, en_plural, fr, fr_plural;
  bool fr_feminine;
  std::string_view en_average, fr_average;  // "the hourly average" / "la moyenne horaire"
};

std::optional<StepUnit> stepUnit(const std::string& step) {
  if (step == "hour") return StepUnit{"hour", "hours", "heure", "heures", true, "hourly", "horaire"};
  if (step == "day") return StepUnit{"day", "days", "jour", "jours", false, "daily", "journalière"};
  if (step == "week") return StepUnit{"week", "weeks", "semaine", "semaines", true, "weekly", "hebdomadaire"};
  if (step == "month") return StepUnit{"month", "months", "mois", "mois", false, "monthly", "mensuelle"};
  return std::nullopt;
}

/// "the next 24 hours" / "les 24 prochaines heures"; "the next month" / "le mois à venir".
std::string horizonText(const json& h, Lang lang) {
  const auto unit = stepUnit(text(h, "step"));
  const auto n = integer(h, "steps");
  if (!unit || !n || *n < 1) {
    const std::string name = text(h, "name", "?");
    return lang == Lang::Fr ? "l'horizon " + name : "the horizon " + name;
  }
  if (lang == Lang::En)
    return *n == 1 ? "the next " + std::string(unit->en)
                   : "the next " + std::to_string(*n) + " " + std::string(unit->en_plural);
  if (*n == 1) {
    if (text(h, "step") == "hour") return "l'heure à venir";
    return std::string(unit->fr_feminine ? "la " : "le ") + std::string(unit->fr) + " à venir";
  }
  return std::string(unit->fr_feminine ? "les " : "les ") + std::to_string(*n) +
         (unit->fr_feminine ? " prochaines " : " prochains ") + std::string(unit->fr_plural);
}

/// The step starting at `raw`: "Tuesday 1 January, 18:00-19:00", "Saturday 5 January", "week of Monday 7
/// January", "January 2019" (and the French forms); the raw string for an unknown step.
std::string stepText(const std::string& raw, const std::string& step, Lang lang) {
  const Stamp t = parseStamp(raw);
  if (!t.ok) return raw.empty() ? notAvailable(lang) : raw;
  if (step == "hour") return dayText(t, lang, false) + ", " + hourRange(t.hour, lang);
  if (step == "day") return dayText(t, lang, false);
  if (step == "week") return (lang == Lang::Fr ? "semaine du " : "week of ") + dayText(t, lang, false);
  if (step == "month") {
    return monthName(t.month, lang) + " " + std::to_string(t.year);
  }
  return raw;
}

std::string eventsWord(std::optional<double> v, Lang lang) {
  if (lang == Lang::Fr) return (v && std::abs(*v) < 2.0) ? "événement" : "événements";
  return (v && *v == 1.0) ? "event" : "events";
}

// ---- Factors, models and categories in words.

/// The factors other than the weather and calendar covariates (forecast/ReportText.hpp has those).
const std::map<std::string_view, Words>& placeFactorWords() {
  static const std::map<std::string_view, Words> kWords = {
      {"nightlife_density",
       {"nightlife venues nearby (bars, clubs)", "lieux de vie nocturne à proximité (bars, discothèques)"}},
      {"beaches_density", {"beaches nearby", "plages à proximité"}},
      {"landmarks_density",
       {"landmarks and tourist sites nearby", "monuments et sites touristiques à proximité"}},
      {"stadium_density", {"stadium nearby", "stade à proximité"}},
      {"past_incidents_here",
       {"past incidents at this place (its background rate against the average cell)",
        "incidents passés à cet endroit (son taux de fond rapporté à la maille moyenne)"}},
      {"recent_events",
       {"recent events nearby (self-excitation)", "événements récents à proximité (auto-excitation)"}},
  };
  return kWords;
}

bool knownFactor(const std::string& name) {
  return placeFactorWords().count(name) > 0 || covariateWords().count(name) > 0;
}

/// A factor name in words; an unknown name as is.
std::string factorName(const std::string& name, Lang lang) {
  const auto& w = placeFactorWords();
  const auto it = w.find(name);
  if (it == w.end()) return covariateName(name, lang);
  return std::string(lang == Lang::Fr ? it->second.fr : it->second.en);
}

std::string modelWords(const std::string& name, Lang lang) {
  static const std::map<std::string_view, Words> kWords = {
      {"kde", {"smoothed map of past events", "carte lissée des événements passés"}},
      {"history",
       {"long-run average of past events per cell", "moyenne à long terme des événements passés par maille"}},
      {"naive", {"recent events per cell", "événements récents par maille"}},
      {"prospective",
       {"recent events nearby (prospective hotspots)",
        "événements récents à proximité (points chauds prospectifs)"}},
      {"sepp",
       {"self-exciting point process: past events, places and calendar",
        "processus ponctuel auto-excitant : événements passés, lieux et calendrier"}},
  };
  const auto it = kWords.find(name);
  if (it == kWords.end()) return "`" + name + "`";
  return "`" + name + "` (" + std::string(lang == Lang::Fr ? it->second.fr : it->second.en) + ")";
}

std::string categoryWords(const std::string& name, Lang lang) {
  if (name == "road_injury")
    return lang == Lang::Fr ? "accidents corporels de la circulation" : "road injury collisions";
  return name;
}

std::string fileWords(const std::string& name, Lang lang) {
  static const std::map<std::string_view, Words> kWords = {
      {"forecast.h5",
       {"the maps (HDF5; open forecast.h5.xmf in ParaView or VisIt)",
        "les cartes (HDF5 ; ouvrir forecast.h5.xmf dans ParaView ou VisIt)"}},
      {"forecast.h5.xmf", {"the maps' XDMF description", "la description XDMF des cartes"}},
      {"forecast.json",
       {"every figure of this summary, machine-readable",
        "tous les chiffres de ce résumé, lisibles par programme"}},
      {"summary.md", {"this summary", "ce résumé"}},
      {"hotspots.geojson",
       {"the hotspot cells of every horizon, for QGIS or a web map",
        "les mailles les plus à risque de chaque horizon, pour QGIS ou une carte web"}},
      {"risk_by_area.csv",
       {"expected events per area and horizon (spreadsheet)",
        "événements attendus par zone et par horizon (tableur)"}},
      {"risk_by_area_hour.csv",
       {"expected events per area and hour of day (spreadsheet)",
        "événements attendus par zone et par heure de la journée (tableur)"}},
  };
  const auto it = kWords.find(name);
  if (it == kWords.end()) return "`" + name + "`";
  return "`" + name + "`: " + std::string(lang == Lang::Fr ? it->second.fr : it->second.en);
}

// ---- The backtest's verdict.

enum class Verdict {
  Unknown,           ///< no skill member
  NoBacktest,        ///< skill.available is false
  NoComparison,      ///< a backtest without a PAI ratio
  NotClearlyBetter,  ///< ratio below 1.2, or its 95% interval reaches down to 1
  ClearlyBetter,     ///< ratio at least 1.2 and its 95% interval above 1
  BetterUnconfirmed  ///< ratio at least 1.2 without an interval
};

constexpr double kClearRatio = 1.2;

Verdict verdict(const json& doc) {
  const json* s = member(doc, "skill");
  if (!s || !s->is_object()) return Verdict::Unknown;
  const json* avail = member(*s, "available");
  if (!avail || !avail->is_boolean() || !avail->get<bool>()) return Verdict::NoBacktest;
  const auto ratio = number(*s, "pai5_ratio");
  if (!ratio) return Verdict::NoComparison;
  const json* ci = member(*s, "pai5_ratio_ci95");
  const bool ci_ok = ci && ci->is_array() && ci->size() == 2 && number((*ci)[0]) && number((*ci)[1]);
  if (*ratio < kClearRatio || (ci_ok && (*ci)[0].get<double>() <= 1.0)) return Verdict::NotClearlyBetter;
  return ci_ok ? Verdict::ClearlyBetter : Verdict::BetterUnconfirmed;
}

// ---- The summary, section by section.

class Summary {
 public:
  Summary(const json& doc, Lang lang) : m_doc(doc), m_t{lang}, m_lang(lang), m_main(mainHorizon(doc)) {}

  std::string build() {
    title();
    headline();
    where();
    when();
    drivers();
    skill();
    inputs();
    privacy();
    method();
    files();
    return m_lang == Lang::Fr ? frenchSpacing(m_out.str()) : m_out.str();
  }

 private:
  void title() {
    const std::string case_name = text(m_doc, "case", m_t("(unnamed case)", "(cas sans nom)"));
    std::vector<std::string> cats;
    for (const auto& c : array(m_doc, "categories"))
      if (c.is_string()) cats.push_back(categoryWords(c.get<std::string>(), m_lang));
    m_out << "# " << m_t("Forecast for ", "Prévision pour ") << case_name;
    if (!cats.empty()) m_out << m_t(": ", " : ") << joinList(cats, m_lang);
    m_out << "\n\n";
    m_out << "**" << m_t("Forecast start", "Début de la prévision") << m_t(":", " :") << "** "
          << stampText(text(m_doc, "forecast_start"), m_lang) << "  \n";
    m_out << m_t("Issued ", "Émise le ") << stampText(text(m_doc, "issued_utc"), m_lang)
          << m_t("; events recorded from ", " ; événements enregistrés depuis le ")
          << dateText(text(m_doc, "data_start"), m_lang) << ".\n\n";
  }

  void headline() {
    if (!m_main) {
      m_out << m_t("**No forecast horizon in forecast.json: there are no figures to report.**",
                   "**Aucun horizon de prévision dans forecast.json : aucun chiffre à présenter.**")
            << "\n\n";
      return;
    }
    const json* total = member(*m_main, "total");
    const json empty = json::object();
    const json& tot = total ? *total : empty;
    const auto e = number(tot, "expected");
    const std::string iv = countInterval(number(tot, "p10"), number(tot, "p90"), m_lang);
    m_out << "**" << capitalise(m_t("over ", "sur ") + horizonText(*m_main, m_lang)) << m_t(": ", " : ")
          << count(e, m_lang) << " " << eventsWord(e, m_lang) << " "
          << m_t("expected", e && std::abs(*e) < 2 ? "attendu" : "attendus");
    if (!iv.empty())
      m_out << " " << iv << "**" << m_t(" (80% interval, p10-p90).", " (intervalle à 80 %, p10-p90).");
    else
      m_out << "**" << m_t(" (interval not available).", " (intervalle non disponible).");
    m_out << "\n\n" << reliabilityLine() << "\n\n";

    const json& hs = array(m_doc, "horizons");
    if (hs.size() > 1) {
      m_out << "| " << m_t("Period", "Période") << " | " << m_t("Expected events", "Événements attendus")
            << " | " << m_t("80% interval (p10-p90)", "Intervalle à 80 % (p10-p90)") << " |\n|---|---|---|\n";
      for (const auto& h : hs) {
        if (!h.is_object()) continue;
        const json* ht = member(h, "total");
        const json& t = ht ? *ht : empty;
        std::string iv2 = countInterval(number(t, "p10"), number(t, "p90"), m_lang);
        if (iv2.size() >= 2) iv2 = iv2.substr(1, iv2.size() - 2);
        m_out << "| " << cell(capitalise(horizonText(h, m_lang))) << " | "
              << count(number(t, "expected"), m_lang) << " | " << (iv2.empty() ? notAvailable(m_lang) : iv2)
              << " |\n";
      }
      m_out << "\n";
    }
  }

  /// One line under the headline, so the backtest's verdict is read with the figures.
  std::string reliabilityLine() const {
    const json* s = member(m_doc, "skill");
    const std::string base = s ? "`" + text(*s, "best_baseline", "?") + "`" : "";
    std::string line = m_t("*Reliability: ", "*Fiabilité : ");
    switch (verdict(m_doc)) {
      case Verdict::NotClearlyBetter:
        line += m_t("in the backtest the model is not clearly better than the simple baseline ",
                    "lors du backtest, le modèle n'est pas nettement meilleur que la référence simple ") +
                base + m_t(" (see below).", " (voir plus bas).");
        break;
      case Verdict::ClearlyBetter:
        line += m_t("in the backtest the model does clearly better than the simple baseline ",
                    "lors du backtest, le modèle fait nettement mieux que la référence simple ") +
                base + ".";
        break;
      case Verdict::BetterUnconfirmed:
        line += m_t("in the backtest the model did better than the simple baseline ",
                    "lors du backtest, le modèle a fait mieux que la référence simple ") +
                base + m_t(", without an interval to confirm it.", ", sans intervalle pour le confirmer.");
        break;
      case Verdict::NoBacktest:
        line += m_t("unknown, no backtest was run.", "inconnue, aucun backtest n'a été réalisé.");
        break;
      case Verdict::NoComparison:
      case Verdict::Unknown:
        line += m_t("unknown (see below).", "inconnue (voir plus bas).");
        break;
    }
    return line + "*";
  }

  void where() {
    m_out << "## " << m_t("Where", "Où") << "\n\n";
    if (m_main) {
      const json& hot = array(*m_main, "hotspots");
      const std::size_t n = std::min<std::size_t>(5, hot.size());
      if (n == 0) {
        m_out << m_t("No hotspot cell in the document for ", "Aucune maille à risque dans le document pour ")
              << horizonText(*m_main, m_lang) << ".\n\n";
      } else {
        const json* grid = member(m_doc, "grid");
        const double cell_m = positive(grid, "cell_m");
        m_out << m_t("The ", "Les ") << n << " " << m_t("cells", "mailles");
        if (cell_m > 0.0) m_out << " (" << count(cell_m, m_lang) << " m × " << count(cell_m, m_lang) << " m)";
        m_out << m_t(" with the most expected events over ", " où le plus d'événements sont attendus sur ")
              << horizonText(*m_main, m_lang) << m_t(":", " :") << "\n\n";
        m_out << "| # | " << m_t("Area", "Zone") << " | " << m_t("Location (lat, lon)", "Position (lat, lon)")
              << " | " << m_t("Expected events [p10-p90]", "Événements attendus [p10-p90]") << " | "
              << m_t("Chance of at least one event", "Probabilité d'au moins un événement") << " | "
              << m_t("Main factors", "Principaux facteurs") << " |\n|---|---|---|---|---|---|\n";
        for (std::size_t k = 0; k < n; ++k) hotspotRow(hot[k], k + 1);
        m_out << "\n";
      }
    }
    areas();
  }

  void hotspotRow(const json& h, std::size_t fallback_rank) {
    const auto rank = integer(h, "rank");
    const std::string area_name = areaName(h, m_lang);
    const std::string where = locationLink(number(h, "lat"), number(h, "lon"), m_lang);
    std::vector<std::string> factors;
    for (const auto& f : array(h, "factors")) {
      if (factors.size() == 3) break;
      const std::string name = text(f, "name");
      if (name.empty()) continue;
      factors.push_back(factorName(name, m_lang) + " " + multiplier(number(f, "multiplier"), m_lang));
    }
    const std::string iv = countInterval(number(h, "p10"), number(h, "p90"), m_lang);
    m_out << "| " << (rank ? *rank : static_cast<long long>(fallback_rank)) << " | " << cell(area_name)
          << " | " << where << " | " << count(number(h, "expected"), m_lang) << (iv.empty() ? "" : " " + iv)
          << " | " << m_t("about ", "environ ") << percent(number(h, "p_any"), m_lang) << " | "
          << cell(factors.empty() ? m_t("none listed", "aucun indiqué") : joinList(factors, m_lang))
          << " |\n";
  }

  void areas() {
    const json* areas = member(m_doc, "areas");
    if (!areas) {
      m_out << noAreaFileText(m_lang) << "\n\n";
      return;
    }
    const std::string main_name = m_main ? text(*m_main, "name") : "";
    struct Row {
      std::string name;
      std::optional<double> expected, p10, p90;
      std::optional<long long> cells;
    };
    std::vector<Row> rows;
    for (const auto& a : array(*areas, "list")) {
      const json* hs = member(a, "horizons");
      const json* v = hs ? member(*hs, main_name) : nullptr;
      if (!v) continue;
      rows.push_back({text(a, "name", "?"), number(*v, "expected"), number(*v, "p10"), number(*v, "p90"),
                      integer(a, "cells")});
    }
    rows.erase(std::remove_if(rows.begin(), rows.end(), [](const Row& r) { return !r.expected; }),
               rows.end());
    if (rows.empty()) {
      m_out << m_t("No area has figures for ", "Aucune zone n'a de chiffres pour ")
            << (m_main ? horizonText(*m_main, m_lang) : m_t("the main horizon", "l'horizon principal"))
            << ".\n\n";
      return;
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return *a.expected > *b.expected; });
    const json* total = m_main ? member(*m_main, "total") : nullptr;
    const double city = positive(total, "expected");
    const json* grid = member(m_doc, "grid");
    const double cell_m = positive(grid, "cell_m");
    const std::string file = text(*areas, "file");
    m_out << m_t("Areas with the most expected events", "Zones où le plus d'événements sont attendus");
    if (!file.empty()) m_out << " (`" << file << "`)";
    m_out << m_t(":", " :") << "\n\n";
    const std::size_t n = std::min<std::size_t>(3, rows.size());
    for (std::size_t k = 0; k < n; ++k) {
      const Row& r = rows[k];
      m_out << k + 1 << ". **" << r.name << "**" << m_t(": ", " : ") << count(r.expected, m_lang) << " "
            << eventsWord(r.expected, m_lang);
      const std::string iv = countInterval(r.p10, r.p90, m_lang);
      if (!iv.empty()) m_out << " " << iv;
      std::vector<std::string> notes;
      if (city > 0.0)
        notes.push_back(percent(*r.expected / city, m_lang) +
                        m_t(" of the city total", " du total de la ville"));
      if (r.cells && *r.cells > 0 && cell_m > 0.0) {
        const double km2 = static_cast<double>(*r.cells) * cell_m * cell_m / 1e6;
        const double density = *r.expected / km2;
        notes.push_back(count(density, m_lang) + " " + eventsWord(density, m_lang) +
                        m_t(" per km²", " par km²"));
      }
      if (!notes.empty()) {
        m_out << " (" << notes[0];
        for (std::size_t q = 1; q < notes.size(); ++q) m_out << m_t("; ", " ; ") << notes[q];
        m_out << ")";
      }
      m_out << "\n";
    }
    m_out << "\n";
  }

  void when() {
    m_out << "## " << m_t("When", "Quand") << "\n\n";
    bool any = false;
    for (const auto& h : array(m_doc, "horizons")) {
      const json& steps = array(h, "per_step");
      if (steps.size() < 2) continue;
      long long peak = integer(h, "peak_step").value_or(-1);
      if (peak < 0 || peak >= static_cast<long long>(steps.size())) {
        // The document names no valid peak: take the step with the highest expected total (first on ties).
        peak = -1;
        double best = -1.0;
        for (std::size_t k = 0; k < steps.size(); ++k) {
          const auto e = number(steps[k], "expected");
          if (e && *e > best) {
            best = *e;
            peak = static_cast<long long>(k);
          }
        }
      }
      if (peak < 0) continue;
      any = true;
      const auto k = static_cast<std::size_t>(peak);
      const json& s = steps[k];
      const std::string step = text(h, "step");
      const json& starts = array(h, "step_starts");
      const std::string start =
          (k < starts.size() && starts[k].is_string()) ? starts[k].get<std::string>() : "";
      const auto e = number(s, "expected");
      m_out << "- " << capitalise(horizonText(h, m_lang)) << m_t(": peak ", " : pic ")
            << (step == "hour" || step == "day" ? m_t("on ", "le ")
                : step == "week"                ? m_t("in the ", "")
                                                : m_t("in ", "en "))
            << (start.empty() ? m_t("step ", "pas ") + std::to_string(k) : stepText(start, step, m_lang))
            << m_t(" with ", " avec ") << count(e, m_lang) << " " << eventsWord(e, m_lang) << " "
            << m_t("expected", e && std::abs(*e) < 2 ? "attendu" : "attendus");
      const std::string iv = countInterval(number(s, "p10"), number(s, "p90"), m_lang);
      if (!iv.empty()) m_out << " " << iv;
      const json* total = member(h, "total");
      const double te = positive(total, "expected");
      const auto unit = stepUnit(step);
      if (e && te > 0.0 && unit) {
        const double ratio = *e / (te / static_cast<double>(steps.size()));
        m_out << " (" << decimals(ratio, 1, m_lang) << m_t(" times the ", " fois la moyenne ")
              << (m_lang == Lang::Fr ? unit->fr_average : unit->en_average) << m_t(" average", "") << ")";
      }
      m_out << ".\n";
    }
    if (!any)
      m_out << "- "
            << m_t("Every horizon is a single step: no peak within a horizon.",
                   "Chaque horizon ne compte qu'un pas : pas de pic à l'intérieur d'un horizon.")
            << "\n";
    hourProfile();
    m_out << "\n";
  }

  void hourProfile() {
    const json* hp = member(m_doc, "hour_profile");
    std::vector<std::pair<double, int>> by_share;
    if (hp) {
      const json& shares = array(*hp, "shares");
      if (shares.size() == 24)
        for (int k = 0; k < 24; ++k)
          if (const auto s = number(shares[static_cast<std::size_t>(k)])) by_share.emplace_back(*s, k);
    }
    if (by_share.size() != 24) {
      m_out << "- " << m_t("Hours of day: not available.", "Heures de la journée : non disponible.") << "\n";
      return;
    }
    std::stable_sort(by_share.begin(), by_share.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> top;
    for (std::size_t k = 0; k < 3; ++k)
      top.push_back(hourRange(by_share[k].second, m_lang) + " (" + percent(by_share[k].first, m_lang) + ")");
    m_out << "- "
          << m_t("Busiest hours of the day (share of the events): ",
                 "Heures les plus chargées de la journée (part des événements) : ")
          << joinList(top, m_lang);
    const std::string source = text(*hp, "source");
    if (!source.empty()) m_out << m_t(" (source: ", " (source : ") << source << ")";
    m_out << ".\n";
  }

  void drivers() {
    m_out << "## " << m_t("What drives it", "Ce qui l'explique") << "\n\n";
    struct Agg {
      int hotspots = 0;
      double lo = 0.0, hi = 0.0;
      bool has_value = false;
      std::string meaning;
    };
    std::map<std::string, Agg> agg;
    std::vector<std::string> order;  // first appearance, so equal counts keep the document's order
    std::size_t n_hot = 0;
    if (m_main) {
      for (const auto& h : array(*m_main, "hotspots")) {
        ++n_hot;
        for (const auto& f : array(h, "factors")) {
          const std::string name = text(f, "name");
          if (name.empty()) continue;
          auto [it, fresh] = agg.try_emplace(name);
          if (fresh) order.push_back(name);
          Agg& a = it->second;
          ++a.hotspots;
          if (const auto m = number(f, "multiplier")) {
            a.lo = a.has_value ? std::min(a.lo, *m) : *m;
            a.hi = a.has_value ? std::max(a.hi, *m) : *m;
            a.has_value = true;
          }
          if (a.meaning.empty()) a.meaning = text(f, "meaning");
        }
      }
    }
    if (order.empty()) {
      m_out
          << m_t("No factor is recorded for the hotspot cells (the forecast model has no covariates, or the "
                 "document lists none).",
                 "Aucun facteur n'est indiqué pour les mailles à risque (le modèle de prévision n'a pas de "
                 "covariables, ou le document n'en donne pas).")
          << "\n\n";
      return;
    }
    std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
      return agg[a].hotspots > agg[b].hotspots;
    });
    m_out << m_t("Factors that change the expected number of events in the hotspot cells (multiplier of the "
                 "event rate; above 1 raises it, below 1 lowers it):",
                 "Facteurs qui modifient le nombre attendu d'événements dans les mailles à risque "
                 "(multiplicateur "
                 "du taux d'événements ; au-dessus de 1 il l'augmente, en dessous il le diminue) :")
          << "\n\n";
    for (const auto& name : order) {
      const Agg& a = agg[name];
      const bool known = knownFactor(name);
      m_out << "- **" << factorName(name, m_lang) << "**";
      if (known) m_out << " (`" << name << "`)";
      m_out << m_t(": ", " : ");
      if (a.has_value) {
        const bool up = a.lo >= 1.0;
        const bool down = a.hi <= 1.0;
        m_out << (up     ? m_t("raises the rate ", "augmente le taux ")
                  : down ? m_t("lowers the rate ", "diminue le taux ")
                         : m_t("changes the rate ", "modifie le taux "))
              << multiplier(a.lo, m_lang);
        if (decimals(a.hi, 2, m_lang) != decimals(a.lo, 2, m_lang))
          m_out << m_t(" to ", " à ") << multiplier(a.hi, m_lang);
      } else {
        m_out << m_t("multiplier not available", "multiplicateur non disponible");
      }
      m_out << m_t(", in ", ", dans ") << a.hotspots << m_t(" of the ", " des ") << n_hot
            << m_t(" hotspot cells", " mailles à risque");
      if (!known && m_lang == Lang::En && !a.meaning.empty()) m_out << " (per " << a.meaning << ")";
      m_out << ".\n";
    }
    m_out << "\n";
  }

  void skill() {
    m_out << "## " << m_t("How reliable is it", "Quelle fiabilité ?") << "\n\n";
    const json* s = member(m_doc, "skill");
    if (!s || !s->is_object()) {
      m_out << m_t("forecast.json holds no skill information: how well this forecast does is unknown.",
                   "forecast.json ne contient aucune mesure de fiabilité : la qualité de cette prévision est "
                   "inconnue.")
            << "\n\n";
      return;
    }
    const json* avail = member(*s, "available");
    if (!avail || !avail->is_boolean() || !avail->get<bool>()) {
      const std::string reason = text(*s, "reason", m_t("no reason given", "raison non indiquée"));
      m_out << m_t("**No backtest was run** (", "**Aucun backtest n'a été réalisé** (") << reason
            << m_t("), so this forecast has not been checked against past events nor compared with simple "
                   "baselines. Run `vigie backtest` before relying on it.",
                   "), donc cette prévision n'a été ni vérifiée sur les événements passés ni comparée à des "
                   "références simples. Lancez `vigie backtest` avant de vous y fier.")
            << "\n\n";
      return;
    }
    const auto windows = integer(*s, "windows");
    const std::string model = text(*s, "model", "?");
    const std::string base = text(*s, "best_baseline", "?");
    m_out << m_t("Backtest on ", "Backtest sur ") << windowsText(windows, text(*s, "bin"))
          << m_t(": model ", " : modèle ") << modelWords(model, m_lang)
          << m_t(" against the best simple baseline ", " contre la meilleure référence simple ")
          << modelWords(base, m_lang) << ".\n\n";
    m_out << "- "
          << m_t("PAI@5% (how many times more events fall in the 5% of cells flagged than their share of "
                 "the area): model ",
                 "PAI@5 % (combien de fois plus d'événements tombent dans les 5 % de mailles signalées que "
                 "leur part de la surface) : modèle ")
          << decimals(number(*s, "pai5"), 2, m_lang) << m_t(", baseline ", ", référence ")
          << decimals(number(*s, "baseline_pai5"), 2, m_lang) << ".\n";
    const auto ratio = number(*s, "pai5_ratio");
    const json* ratio_ci = member(*s, "pai5_ratio_ci95");
    const std::string rci = ciText(ratio_ci, 2, m_lang);
    const std::string no_interval = m_t("interval not available (", "intervalle non disponible (") +
                                    (windows ? std::to_string(*windows) : std::string("?")) +
                                    m_t(" windows)", " fenêtres)");
    m_out << "- " << m_t("Ratio model / baseline: ", "Rapport modèle / référence : ")
          << decimals(ratio, 2, m_lang)
          << (rci.empty() ? m_t("; ", " ; ") + no_interval
                          : " " + rci + m_t(" (95% interval)", " (intervalle à 95 %)"))
          << ".\n";
    const std::string dci = ciText(member(*s, "dloglik_ci95"), 3, m_lang, true);
    m_out << "- "
          << m_t("Log-likelihood gain per event (above 0: the model fits past events better): ",
                 "Gain de log-vraisemblance par événement (au-dessus de 0 : le modèle colle mieux aux "
                 "événements passés) : ")
          << decimals(number(*s, "dloglik"), 3, m_lang, true)
          << (dci.empty() ? m_t("; ", " ; ") + no_interval
                          : " " + dci + m_t(" (95% interval)", " (intervalle à 95 %)"))
          << ".\n\n";

    const Verdict v = verdict(m_doc);
    if (v == Verdict::NoComparison) {
      m_out << m_t("The comparison with the baseline is not available.",
                   "La comparaison avec la référence n'est pas disponible.")
            << "\n\n";
    } else if (v == Verdict::NotClearlyBetter) {
      m_out
          << m_t("**Warning: the model is not clearly better than the simple baseline** (",
                 "**Attention : le modèle n'est pas nettement meilleur que la référence simple** (")
          << "`" << base << "`"
          << m_t("). Its hotspots mostly repeat where events were already frequent: the objection \"it only "
                 "predicts the obvious\" is fair. Read the maps as a summary of known risk, not as new "
                 "information.",
                 "). Ses mailles à risque reprennent surtout les lieux où les événements étaient déjà "
                 "fréquents : l'objection « il ne prédit que l'évidence » est fondée. Lisez les cartes comme "
                 "un résumé du risque connu, pas comme une information nouvelle.")
          << "\n\n";
    } else if (v == Verdict::ClearlyBetter) {
      m_out << m_t("The model does clearly better than the simple baseline (its 95% interval lies above 1).",
                   "Le modèle fait nettement mieux que la référence simple (son intervalle à 95 % est "
                   "au-dessus "
                   "de 1).")
            << "\n\n";
    } else {
      m_out << m_t("The model did better than the simple baseline on these windows, but without an interval "
                   "this is not established.",
                   "Le modèle a fait mieux que la référence simple sur ces fenêtres, mais sans intervalle ce "
                   "n'est pas établi.")
            << "\n\n";
    }
  }

  std::string windowsText(std::optional<long long> n, const std::string& bin) const {
    const bool one = n && *n == 1;
    const std::string count_text = n ? std::to_string(*n) : std::string("?");
    static const std::map<std::string_view, std::array<std::string_view, 4>> kBins = {
        {"hour", {"hourly", "hourly", "horaire", "horaires"}},
        {"day", {"daily", "daily", "journalière", "journalières"}},
        {"week", {"weekly", "weekly", "hebdomadaire", "hebdomadaires"}},
        {"month", {"monthly", "monthly", "mensuelle", "mensuelles"}},
    };
    const auto it = kBins.find(bin);
    if (m_lang == Lang::Fr) {
      std::string s = count_text + (one ? " fenêtre" : " fenêtres");
      if (it != kBins.end()) return s + " " + std::string(one ? it->second[2] : it->second[3]);
      return bin.empty() ? s : s + " (pas : " + bin + ")";
    }
    if (it != kBins.end())
      return count_text + " " + std::string(it->second[0]) + (one ? " window" : " windows");
    const std::string s = count_text + (one ? " window" : " windows");
    return bin.empty() ? s : s + " (bin: " + bin + ")";
  }

  void inputs() {
    m_out << "## " << m_t("Inputs", "Données d'entrée") << "\n\n";
    const json* c = member(m_doc, "covariates");
    if (!c || !c->is_object()) {
      m_out << "- "
            << m_t("Covariates: not described in forecast.json.",
                   "Covariables : non décrites dans forecast.json.")
            << "\n\n";
      return;
    }
    const std::string source = text(*c, "source");
    m_out << "- " << m_t("Future weather and calendar: ", "Météo et calendrier à venir : ");
    m_out << covariateSourceWords(source, m_lang) << ".\n";
    const std::string weather = text(*c, "weather");
    const std::string calendar = text(*c, "calendar");
    m_out << "- " << m_t("Weather: ", "Météo : ") << (weather.empty() ? notAvailable(m_lang) : weather)
          << ".\n";
    m_out << "- " << m_t("Calendar: ", "Calendrier : ")
          << (calendar.empty() ? notAvailable(m_lang) : calendar) << ".\n";
    const json* ov = member(*c, "overrides");
    std::vector<std::string> items;
    if (ov && ov->is_object())
      for (const auto& [k, v] : ov->items()) {
        const auto x = number(v);
        items.push_back("`" + k + "` = " + (x ? localise(dropZeroFraction(fixed(*x, 3)), m_lang) : v.dump()));
      }
    m_out << "- " << m_t("Scenario overrides: ", "Valeurs imposées par le scénario : ")
          << (items.empty() ? m_t("none", "aucune") : joinList(items, m_lang)) << ".\n\n";
  }

  void privacy() {
    const json* p = privacySection(m_out, m_doc, m_lang, {"The forecast", "La prévision"}, "forecast.json",
                                   [&](std::optional<double> v) { return count(v, m_lang); });
    if (!p) return;
    m_out << ".\n";
    const std::string rule = text(*p, "rule");
    if (!rule.empty())
      m_out << "- " << m_t("Rule: ", "Règle : ") << rule
            << (std::string_view(".!?").find(rule.back()) == std::string_view::npos ? "." : "") << "\n";
    m_out << "\n";
  }

  void method() {
    m_out << "## " << m_t("Method", "Méthode") << "\n\n";
    const std::string model = text(m_doc, "model", "?");
    const json* w = member(m_doc, "blend_weights");
    m_out << "- " << m_t("Model: ", "Modèle : ");
    std::vector<std::pair<double, std::string>> weights;  // largest weight first
    if (w && w->is_object())
      for (const auto& [k, v] : w->items()) weights.emplace_back(number(v).value_or(-1.0), k);
    std::stable_sort(weights.begin(), weights.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> parts;
    for (const auto& [v, k] : weights)
      parts.push_back("`" + k + "` (" + percent(v >= 0.0 ? std::optional<double>(v) : std::nullopt, m_lang) +
                      ")");
    if (!parts.empty())
      m_out << m_t("blend of ", "mélange de ") << joinList(parts, m_lang);
    else
      m_out << modelWords(model, m_lang);
    m_out << ".\n";
    const auto members = integer(m_doc, "members");
    const json* draws = member(m_doc, "parameter_draws");
    const bool with_draws = draws && draws->is_boolean() && draws->get<bool>();
    m_out << "- " << m_t("Ensemble: ", "Ensemble : ")
          << (members ? std::to_string(*members) : notAvailable(m_lang)) << m_t(" members", " membres")
          << (with_draws
                  ? m_t(", drawing the model parameters within their uncertainty and the events at random",
                        ", qui tirent les paramètres du modèle dans leur incertitude et les événements au "
                        "hasard")
                  : m_t(", drawing the events at random (parameters fixed)",
                        ", qui tirent les événements au hasard (paramètres fixés)"))
          << m_t("; intervals are the 10th and 90th percentiles of the members (80% interval).",
                 " ; les intervalles vont du 10e au 90e centile des membres (intervalle à 80 %).")
          << "\n\n";
  }

  void files() {
    m_out << "## " << m_t("Files", "Fichiers") << "\n\n";
    std::vector<std::string> names;
    for (const auto& o : array(m_doc, "outputs"))
      if (o.is_string()) names.push_back(o.get<std::string>());
    for (const auto& p : forecastProductNames(m_doc))
      if (std::find(names.begin(), names.end(), p) == names.end()) names.push_back(p);
    for (const auto& n : names) m_out << "- " << fileWords(n, m_lang) << "\n";
  }

  const json& m_doc;
  Tr m_t;
  Lang m_lang;
  const json* m_main;
  std::ostringstream m_out;
};

// ---- Tables.

/// Shortest text that reads back to the same double; empty for an absent value.
std::string csvNumber(std::optional<double> v) {
  if (!v) return "";
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), *v);
  return std::string(buf.data(), r.ptr);
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// The cell ring, closed and counterclockwise (RFC 7946 section 3.1.6); null when not a valid ring.
json ring(const json& h) {
  const json& in = array(h, "cell_lonlat");
  json out = json::array();
  for (const auto& p : in) {
    if (!p.is_array() || p.size() < 2) return nullptr;
    const auto lon = number(p[0]);
    const auto lat = number(p[1]);
    if (!lon || !lat) return nullptr;
    out.push_back({*lon, *lat});
  }
  if (out.empty()) return nullptr;
  if (out.front() != out.back()) out.push_back(out.front());
  if (out.size() < 4) return nullptr;
  double twice_area = 0.0;  // shoelace: positive for a counterclockwise ring
  for (std::size_t k = 0; k + 1 < out.size(); ++k)
    twice_area += out[k][0].get<double>() * out[k + 1][1].get<double>() -
                  out[k + 1][0].get<double>() * out[k][1].get<double>();
  if (twice_area < 0.0) std::reverse(out.begin(), out.end());
  return out;
}

json valueOrNull(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m ? *m : json(nullptr);
}

}  // namespace

std::vector<std::string> forecastProductNames(const nlohmann::json& doc) {
  std::vector<std::string> names = {"summary.md", "hotspots.geojson"};
  if (member(doc, "areas")) {
    names.emplace_back("risk_by_area.csv");
    names.emplace_back("risk_by_area_hour.csv");
  }
  return names;
}

std::string summaryMarkdown(const nlohmann::json& doc, const std::string& lang) {
  return Summary(doc, parseLang(lang, "forecast summary")).build();
}

std::string hotspotsGeoJson(const nlohmann::json& doc) {
  json fc;
  fc["type"] = "FeatureCollection";
  fc["schema_version"] = 1;
  fc["case"] = valueOrNull(doc, "case");
  fc["forecast_start"] = valueOrNull(doc, "forecast_start");
  fc["features"] = json::array();
  for (const auto& h : array(doc, "horizons")) {
    const std::string horizon = text(h, "name");
    for (const auto& s : array(h, "hotspots")) {
      json f;
      f["type"] = "Feature";
      const auto rank = integer(s, "rank");
      if (rank) f["id"] = horizon + "-" + std::to_string(*rank);
      const json r = ring(s);
      f["geometry"] =
          r.is_null() ? json(nullptr) : json{{"type", "Polygon"}, {"coordinates", json::array({r})}};
      json p;
      p["rank"] = valueOrNull(s, "rank");
      p["horizon"] = horizon;
      for (const char* key : {"expected", "p_any", "p10", "p90", "area"}) p[key] = valueOrNull(s, key);
      p["factors"] = array(s, "factors");
      for (const char* key : {"x", "y", "i", "j"}) p[key] = valueOrNull(s, key);
      f["properties"] = std::move(p);
      fc["features"].push_back(std::move(f));
    }
  }
  // One feature per line: small enough to read, and a diff shows which hotspot changed.
  json features = std::move(fc["features"]);
  fc.erase("features");
  std::string out = fc.dump();
  out.pop_back();  // the closing brace
  out += ",\"features\":[";
  for (std::size_t k = 0; k < features.size(); ++k) out += (k == 0 ? "\n" : ",\n") + features[k].dump();
  return out + "\n]}\n";
}

std::string areasCsv(const nlohmann::json& doc) {
  std::string out = "area,cells,horizon,expected,p10,p50,p90\n";
  const json* areas = member(doc, "areas");
  if (!areas) return out;
  std::vector<std::string> horizons;
  for (const auto& h : array(doc, "horizons")) horizons.push_back(text(h, "name"));
  for (const auto& a : array(*areas, "list")) {
    const json* ah = member(a, "horizons");
    for (const auto& name : horizons) {
      const json* v = ah ? member(*ah, name) : nullptr;
      const json empty = json::object();
      const json& vv = v ? *v : empty;
      out += csvField(text(a, "name")) + "," + csvNumber(number(a, "cells")) + "," + csvField(name) + "," +
             csvNumber(number(vv, "expected")) + "," + csvNumber(number(vv, "p10")) + "," +
             csvNumber(number(vv, "p50")) + "," + csvNumber(number(vv, "p90")) + "\n";
    }
  }
  return out;
}

std::string areasHourCsv(const nlohmann::json& doc) {
  std::string out = "area,hour,expected\n";
  const json* areas = member(doc, "areas");
  if (!areas) return out;
  for (const auto& a : array(*areas, "list")) {
    const json& by_hour = array(a, "by_hour");
    for (std::size_t h = 0; h < 24; ++h)
      out += csvField(text(a, "name")) + "," + std::to_string(h) + "," +
             csvNumber(h < by_hour.size() ? number(by_hour[h]) : std::nullopt) + "\n";
  }
  return out;
}

std::vector<std::string> writeForecastProducts(const nlohmann::json& doc, const std::filesystem::path& dir) {
  const std::string lang = text(doc, "lang", "en");
  // Everything is built before anything is written, so a bad document leaves no partial set of products.
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("summary.md", summaryMarkdown(doc, lang));
  files.emplace_back("hotspots.geojson", hotspotsGeoJson(doc));
  if (member(doc, "areas")) {
    files.emplace_back("risk_by_area.csv", areasCsv(doc));
    files.emplace_back("risk_by_area_hour.csv", areasHourCsv(doc));
  }
  writeFiles(dir, files);
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.first);
  return names;
}

}  // namespace vigie::forecast
