#include "forecast/ReportText.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <system_error>

#include "core/Error.hpp"

namespace vigie::forecast::report_text {

using core::Error;
using core::ExitCode;
using nlohmann::json;

const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> number(const json& j) {
  if (!j.is_number()) return std::nullopt;
  const double v = j.get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<double> number(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m ? number(*m) : std::nullopt;
}

std::optional<long long> integer(const json& j, std::string_view key) {
  const auto v = number(j, key);
  if (!v || std::abs(*v) > 1e15) return std::nullopt;
  return std::llround(*v);
}

std::string text(const json& j, std::string_view key, const std::string& fallback) {
  const json* m = member(j, key);
  return (m && m->is_string()) ? m->get<std::string>() : fallback;
}

const json& array(const json& j, std::string_view key) {
  static const json empty = json::array();
  const json* m = member(j, key);
  return (m && m->is_array()) ? *m : empty;
}

const json& object(const json& j, std::string_view key) {
  static const json empty = json::object();
  const json* m = member(j, key);
  return (m && m->is_object()) ? *m : empty;
}

Lang parseLang(const std::string& lang, std::string_view what) {
  if (lang == "en") return Lang::En;
  if (lang == "fr") return Lang::Fr;
  throw Error(ExitCode::Usage,
              std::string(what) + ": lang '" + lang + "' is not supported (output.lang: fr or en)");
}

std::string fixed(double v, int decimals) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", decimals, v);
  return buf.data();
}

std::string dropZeroFraction(std::string s) {
  const auto dot = s.find('.');
  if (dot != std::string::npos && s.find_first_not_of('0', dot + 1) == std::string::npos) s.erase(dot);
  return s;
}

std::string localise(const std::string& s, Lang lang) {
  const auto first = s.find_first_of("0123456789");
  if (first == std::string::npos) return s;
  auto end = s.find_first_not_of("0123456789", first);
  if (end == std::string::npos) end = s.size();
  std::string digits = s.substr(first, end - first);
  if (digits.size() >= (lang == Lang::Fr ? 5U : 4U)) {
    const std::string sep = lang == Lang::Fr ? "\u00a0" : ",";
    std::string grouped;
    for (std::size_t k = 0; k < digits.size(); ++k) {
      if (k > 0 && (digits.size() - k) % 3 == 0) grouped += sep;
      grouped += digits[k];
    }
    digits = grouped;
  }
  std::string rest = s.substr(end);
  if (lang == Lang::Fr && !rest.empty() && rest[0] == '.') rest[0] = ',';
  return s.substr(0, first) + digits + rest;
}

std::string notAvailable(Lang lang) {
  return lang == Lang::Fr ? "n.d." : "n/a";
}

std::string frenchSpacing(std::string s) {
  static const std::array<std::pair<std::string_view, std::string_view>, 7> kRules = {{
      {" :", "\u00a0:"},
      {" ;", "\u00a0;"},
      {" !", "\u00a0!"},
      {" ?", "\u00a0?"},
      {" %", "\u00a0%"},
      {"« ", "«\u00a0"},
      {" »", "\u00a0»"},
  }};
  for (const auto& [from, to] : kRules) {
    std::size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
      s.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
  return s;
}

std::string cell(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string joinList(const std::vector<std::string>& items, Lang lang) {
  std::string out;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k > 0) out += (k + 1 == items.size()) ? (lang == Lang::Fr ? " et " : " and ") : ", ";
    out += items[k];
  }
  return out;
}

std::string areaName(const json& j, Lang lang) {
  const json* area = member(j, "area");
  return (area && area->is_string()) ? area->get<std::string>()
                                     : Tr{lang}("(outside the named areas)", "(hors des zones nommées)");
}

std::string locationLink(std::optional<double> lat, std::optional<double> lon, Lang lang) {
  if (!lat || !lon) return notAvailable(lang);
  const std::string la = fixed(*lat, 4);
  const std::string lo = fixed(*lon, 4);
  return "[" + la + ", " + lo + "](https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=17/" +
         la + "/" + lo + ")";
}

Stamp parseStamp(const std::string& s) {
  Stamp t;
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    const auto r = std::from_chars(s.data() + pos, s.data() + pos + n, out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + n;
  };
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digits(0, 4, t.year) || !digits(5, 2, t.month) ||
      !digits(8, 2, t.day))
    return t;
  std::size_t pos = 10;
  if (s.size() >= 16 && (s[10] == 'T' || s[10] == ' ') && s[13] == ':') {
    if (!digits(11, 2, t.hour) || !digits(14, 2, t.minute)) return t;
    pos = 16;
    if (pos + 3 <= s.size() && s[pos] == ':') pos += 3;
    while (pos < s.size() && (s[pos] == '.' || (s[pos] >= '0' && s[pos] <= '9'))) ++pos;
  }
  t.offset = s.substr(pos);
  const std::chrono::year_month_day ymd{std::chrono::year{t.year}, std::chrono::month{unsigned(t.month)},
                                        std::chrono::day{unsigned(t.day)}};
  t.ok = ymd.ok() && t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60;
  return t;
}

namespace {

constexpr std::array<std::string_view, 7> kDaysEn = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                     "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 7> kDaysFr = {"dimanche", "lundi",    "mardi", "mercredi",
                                                     "jeudi",    "vendredi", "samedi"};
constexpr std::array<std::string_view, 12> kMonthsEn = {"January",   "February", "March",    "April",
                                                        "May",       "June",     "July",     "August",
                                                        "September", "October",  "November", "December"};
constexpr std::array<std::string_view, 12> kMonthsFr = {"janvier",   "février", "mars",     "avril",
                                                        "mai",       "juin",    "juillet",  "août",
                                                        "septembre", "octobre", "novembre", "décembre"};

}  // namespace

std::string monthName(int month, Lang lang) {
  const auto m = static_cast<std::size_t>(month - 1);
  return std::string(lang == Lang::Fr ? kMonthsFr[m] : kMonthsEn[m]);
}

std::string dayText(const Stamp& t, Lang lang, bool with_year) {
  const std::chrono::weekday wd{std::chrono::sys_days{
      std::chrono::year{t.year} / std::chrono::month{unsigned(t.month)} / std::chrono::day{unsigned(t.day)}}};
  const auto m = static_cast<std::size_t>(t.month - 1);
  std::string s;
  if (lang == Lang::Fr)
    s = std::string(kDaysFr[wd.c_encoding()]) + " " + (t.day == 1 ? "1er" : std::to_string(t.day)) + " " +
        std::string(kMonthsFr[m]);
  else
    s = std::string(kDaysEn[wd.c_encoding()]) + " " + std::to_string(t.day) + " " + std::string(kMonthsEn[m]);
  if (with_year) s.append(" ").append(std::to_string(t.year));  // not " " + ...: GCC 12 warns (-Wrestrict)
  return s;
}

std::string clock(int hour, int minute, Lang lang) {
  std::array<char, 16> buf{};
  if (lang == Lang::Fr) {
    if (minute == 0)
      std::snprintf(buf.data(), buf.size(), "%d h", hour);
    else
      std::snprintf(buf.data(), buf.size(), "%d h %02d", hour, minute);
  } else {
    std::snprintf(buf.data(), buf.size(), "%02d:%02d", hour, minute);
  }
  return buf.data();
}

std::string offsetText(const std::string& offset) {
  if (offset.empty()) return "";
  if (offset == "Z") return " (UTC)";
  return " (UTC" + offset + ")";
}

std::string stampText(const std::string& raw, Lang lang) {
  const Stamp t = parseStamp(raw);
  if (!t.ok) return raw.empty() ? notAvailable(lang) : raw;
  return dayText(t, lang, true) + (lang == Lang::Fr ? " à " : ", ") + clock(t.hour, t.minute, lang) +
         offsetText(t.offset);
}

const std::map<std::string_view, Words>& covariateWords() {
  static const std::map<std::string_view, Words> kWords = {
      {"school_holiday", {"school holidays", "vacances scolaires"}},
      {"public_holiday", {"public holiday", "jour férié"}},
      {"weekend", {"weekend (Saturday or Sunday)", "week-end (samedi ou dimanche)"}},
      {"rain_day", {"rainy day (at least 1 mm)", "jour de pluie (au moins 1 mm)"}},
      {"rain_mm", {"amount of rain", "cumul de pluie"}},
      {"tmax_c", {"maximum temperature", "température maximale"}},
      {"tmin_c", {"minimum temperature", "température minimale"}},
      {"tmean_c", {"mean temperature", "température moyenne"}},
      {"wind_mean_ms", {"mean wind speed", "vitesse moyenne du vent"}},
      {"gust_max_ms", {"strongest wind gust", "rafale maximale"}},
      {"thunder_days", {"thunderstorm", "orage"}},
      {"fog_days", {"fog", "brouillard"}},
  };
  return kWords;
}

std::string covariateName(const std::string& name, Lang lang) {
  const auto& w = covariateWords();
  const auto it = w.find(name);
  if (it == w.end()) return name;
  return std::string(lang == Lang::Fr ? it->second.fr : it->second.en);
}

std::string covariateSourceWords(const std::string& source, Lang lang) {
  const Tr t{lang};
  if (source == "climatology")
    return t("climatology (typical weather for these dates, not a weather forecast)",
             "climatologie (temps habituel à ces dates, pas une prévision météo)");
  if (source == "scenario")
    return t("a scenario (values set by the user)", "un scénario (valeurs fixées par l'utilisateur)");
  if (source == "none")
    return t("none (the model uses no weather or calendar covariate)",
             "aucune (le modèle n'utilise aucune covariable météo ou calendaire)");
  return source.empty() ? notAvailable(lang) : source;
}

const json* privacySection(std::ostream& out, const json& doc, Lang lang, const Words& subject,
                           std::string_view file, const CountText& count) {
  const Tr t{lang};
  out << "## " << t("Privacy", "Confidentialité") << "\n\n";
  out << "- " << t(subject.en, subject.fr)
      << t(" uses no person-level data: only counts of events per cell and time.",
           " n'utilise aucune donnée individuelle : seulement des nombres d'événements par maille et par "
           "période.")
      << "\n";
  const json* p = member(doc, "privacy");
  if (!p || !p->is_object()) {
    out << "- " << t("Publication rule: not described in ", "Règle de publication : non décrite dans ")
        << file << ".\n\n";
    return nullptr;
  }
  const auto min_count = integer(*p, "min_count");
  out << "- " << t("A cell is published only when at least ", "Une maille n'est publiée que si au moins ")
      << (min_count ? std::to_string(*min_count) : notAvailable(lang))
      << t(" events were recorded within ", " événements ont été enregistrés à moins de ")
      << count(number(*p, "radius_m")) << t(" m of it", " m") << t("; ", " ; ")
      << count(number(*p, "published_cells")) << t(" cells published, ", " mailles publiées, ")
      << count(number(*p, "suppressed_cells")) << t(" suppressed", " masquées");
  return p;
}

std::string noAreaFileText(Lang lang) {
  return Tr{lang}("No area file is configured (forecast.areas): no figures per area.",
                  "Aucun fichier de zones n'est configuré (forecast.areas) : pas de chiffres par zone.");
}

namespace {

void writeAtomically(const std::filesystem::path& path, const std::string& content) {
  const auto tmp = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    os << content;
    if (!os.flush()) throw Error(ExitCode::Io, tmp.string() + ": cannot write");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(ExitCode::Io, path.string() + ": cannot rename the temporary file: " + ec.message());
}

}  // namespace

void writeFiles(const std::filesystem::path& dir,
                const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ExitCode::Io, dir.string() + ": cannot create the folder: " + ec.message());
  for (const auto& [name, content] : files) writeAtomically(dir / name, content);
}

}  // namespace vigie::forecast::report_text
