#pragma once
/// Per-event factors: the effect of a condition estimated from what the source records at each event, for
/// cases whose time bins are too coarse to fit it from counts (BAAC gives the month only, but the weather at
/// every accident).
///
/// For rain, with a of the n events whose condition is known recorded in rain, and d of the D days of the
/// period with RR >= 1 mm at the weather station (the Météo-France "jour de pluie"):
///
///     RR = (a / n) / (d / D),   var(log RR) = (1 - a/n) / a + (1 - d/D) / d,
///     95% interval = RR * exp(-/+ 1.959964 * sqrt(var(log RR)))
///
/// the log-scale (Katz) interval of a ratio of two binomial proportions. It is chosen over a score
/// (Koopman) interval because the counts here are tens to hundreds, where the two agree, and it has a closed
/// form a reader can check by hand. When a or d is zero, 0.5 is added to a and d and 1 to n and D (the
/// Haldane-Anscombe correction) so that the ratio and interval stay finite. Heavy rain uses RR >= 10 mm.
/// What the interval leaves out (events of one wet day are not independent; a wet day is not wet at every
/// hour) is said in each factor's method text.
#include <cstdint>
#include <string>
#include <vector>

namespace vigie::core {
class Config;
}

namespace vigie::models {

/// One factor: how much more often events happen under a condition than the condition occurs.
struct EventFactor {
  std::string name;           ///< "rain" or "heavy_rain"
  double relative_risk;       ///< (events_with / events_known) / (days_with / days_total)
  double lo95;                ///< lower end of the 95% interval
  double hi95;                ///< upper end of the 95% interval
  std::int64_t events_with;   ///< events recorded under the condition (a)
  std::int64_t events_known;  ///< events whose condition is recorded (n)
  std::int64_t days_with;     ///< days of the period with the condition at the station (d)
  std::int64_t days_total;    ///< days of the period with the station's value (D)
  std::string method;         ///< a sentence saying how it was estimated
};

/// A ratio of two proportions with its 95% interval.
struct ShareRatio {
  double estimate;      ///< (a / n) / (d / D)
  double lo95;          ///< lower end of the 95% log-scale (Katz) interval
  double hi95;          ///< upper end
  bool zero_corrected;  ///< a or d was zero: 0.5 was added to a and d and 1 to n and D
};

/// Not collective. (a / n) / (d / D) with its 95% log-scale (Katz) interval. Throws core::Error(Internal)
/// unless 0 <= a <= n, 0 <= d <= D and n, D > 0.
ShareRatio shareRatio(std::int64_t a, std::int64_t n, std::int64_t d, std::int64_t days);

/// Not collective. Per-event factors for the case: rain, then heavy rain when the profile names heavy-rain
/// codes. Empty when there is no event file, no profile, no [conditions] section in the profile, or no
/// weather file (`covariates.weather`). Every well-formed row of every `ingest.events` file counts, inside
/// the grid and mask or not: the factor describes the source. The days are those of `ingest.coverage` (closed
/// periods only), else the profile's time.year_fixed, else the years seen in its time.year column.
/// The condition column is read in its own pass (plain or gzip CSV). An empty field, or a code listed in
/// conditions.unknown (BAAC: -1), is unknown; a value that is not an integer code, or a code in neither
/// conditions.codes nor conditions.unknown, throws core::Error(InputData, "<file>:<line>: <reason>"), as does
/// a header without the column, an unclosed quote, a corrupt gzip stream, no event with a known condition, or
/// no weather day in the period. An open-ended coverage or no way to tell the period throws
/// core::Error(Usage).
std::vector<EventFactor> eventFactors(const core::Config& config);

}  // namespace vigie::models
