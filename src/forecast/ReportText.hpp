#pragma once
/// What the forecast's summary.md (forecast/Products.cpp) and the scenario's scenario.md
/// (scenario/ScenarioReport.cpp) share to write their text: tolerant access to the JSON document they are
/// built from, French and English number, date and time formatting, French typography, Markdown cells,
/// covariates in words and the write-through-a-temporary-file. None of it is collective.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::forecast::report_text {

// ---- Tolerant access: the document is read as it comes; a missing, null or mistyped member is "absent".

/// The member `key` of an object; nullptr when `j` is not an object or the member is missing or null.
[[nodiscard]] const nlohmann::json* member(const nlohmann::json& j, std::string_view key);
/// A finite number; nullopt otherwise.
[[nodiscard]] std::optional<double> number(const nlohmann::json& j);
[[nodiscard]] std::optional<double> number(const nlohmann::json& j, std::string_view key);
/// A number rounded to the nearest integer; nullopt when absent or beyond 1e15.
[[nodiscard]] std::optional<long long> integer(const nlohmann::json& j, std::string_view key);
/// A string member, else `fallback`.
[[nodiscard]] std::string text(const nlohmann::json& j, std::string_view key,
                               const std::string& fallback = "");
/// An array member, else an empty array.
[[nodiscard]] const nlohmann::json& array(const nlohmann::json& j, std::string_view key);
/// An object member, else an empty object.
[[nodiscard]] const nlohmann::json& object(const nlohmann::json& j, std::string_view key);

// ---- Language and number formatting.

enum class Lang { En, Fr };

/// "en" or "fr"; anything else throws Error(Usage) naming `what` ("forecast summary", "scenario report").
[[nodiscard]] Lang parseLang(const std::string& lang, std::string_view what);

/// The text in the document's language.
struct Tr {
  Lang lang;
  [[nodiscard]] std::string operator()(std::string_view en, std::string_view fr) const {
    return std::string(lang == Lang::Fr ? fr : en);
  }
};

/// printf's "%.*f".
[[nodiscard]] std::string fixed(double v, int decimals);
/// "150.0" -> "150"; "0.30" stays, so values of one magnitude keep the same number of decimals.
[[nodiscard]] std::string dropZeroFraction(std::string s);
/// Decimal comma in French; thousands grouped with a comma in English (from 1,000) and a no-break space in
/// French (from 10 000, French typographic usage). The first run of digits only, so a sign or a prefix such
/// as "<" is kept.
[[nodiscard]] std::string localise(const std::string& s, Lang lang);
/// "n/a" / "n.d.".
[[nodiscard]] std::string notAvailable(Lang lang);
/// French typography: a no-break space before : ; ! ? % and inside « », so they never start a line.
[[nodiscard]] std::string frenchSpacing(std::string s);
/// Markdown table cells cannot hold '|' or line breaks.
[[nodiscard]] std::string cell(const std::string& s);
/// "a, b and c" / "a, b et c".
[[nodiscard]] std::string joinList(const std::vector<std::string>& items, Lang lang);
/// A cell's j["area"], else "(outside the named areas)".
[[nodiscard]] std::string areaName(const nlohmann::json& j, Lang lang);
/// "[43.2965, 5.3698](https://www.openstreetmap.org/...)" for a cell's centre; n/a without a position.
[[nodiscard]] std::string locationLink(std::optional<double> lat, std::optional<double> lon, Lang lang);

// ---- Dates: the documents hold local ISO times ("2019-01-01T00:00+01:00", or without the offset).

struct Stamp {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  std::string offset;  // "+01:00", "Z" or empty
  bool ok = false;
};

/// A local ISO time; ok is false when `s` is not one.
[[nodiscard]] Stamp parseStamp(const std::string& s);
/// "January" / "janvier" for month 1 to 12.
[[nodiscard]] std::string monthName(int month, Lang lang);
/// "Tuesday 1 January 2019" / "mardi 1er janvier 2019".
[[nodiscard]] std::string dayText(const Stamp& t, Lang lang, bool with_year);
/// "18:00" / "18 h" ("18 h 30").
[[nodiscard]] std::string clock(int hour, int minute, Lang lang);
/// " (UTC+01:00)", " (UTC)" for "Z", empty for no offset.
[[nodiscard]] std::string offsetText(const std::string& offset);
/// "Tuesday 1 January 2019, 00:00 (UTC+01:00)" / "mardi 1er janvier 2019 à 0 h (UTC+01:00)"; the raw
/// string when it is not a time, n/a when it is empty.
[[nodiscard]] std::string stampText(const std::string& raw, Lang lang);

// ---- Names in words.

struct Words {
  std::string_view en, fr;
};

/// The weather and calendar covariates a model may be fitted with, by name, in words.
[[nodiscard]] const std::map<std::string_view, Words>& covariateWords();
/// A covariate name in words (covariateWords); an unknown name as is.
[[nodiscard]] std::string covariateName(const std::string& name, Lang lang);
/// covariates.source ("climatology", "scenario", "none") in words; an unknown source as is, n/a when empty.
[[nodiscard]] std::string covariateSourceWords(const std::string& source, Lang lang);

// ---- Sections both documents write.

/// A count in the document's style (each document rounds its own way).
using CountText = std::function<std::string(std::optional<double>)>;

/// The "Privacy" section up to the end of its publication rule: the heading, the line saying that `subject`
/// ({"The forecast", "La prévision"}) uses no person-level data, then the rule of doc["privacy"], "- A cell
/// is published only when at least N events were recorded within R m of it; P cells published, S suppressed",
/// with R, P and S written by `count`; the caller ends that line. Returns doc["privacy"]; nullptr when it is
/// not an object, after a line saying that `file` does not describe it (the section is then complete).
const nlohmann::json* privacySection(std::ostream& out, const nlohmann::json& doc, Lang lang,
                                     const Words& subject, std::string_view file, const CountText& count);

/// The sentence for a document without areas (no forecast.areas configured).
[[nodiscard]] std::string noAreaFileText(Lang lang);

// ---- Files.

/// Creates `dir` if needed, then writes each (name, content) through a temporary file and a rename.
/// Throws Error(Io) when the folder or a file cannot be written.
void writeFiles(const std::filesystem::path& dir,
                const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace vigie::forecast::report_text
