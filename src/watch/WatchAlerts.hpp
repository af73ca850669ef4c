#pragma once
/// The alerts of `vigie watch`: significant scan clusters as records (alerts.jsonl, alerts.geojson, a line
/// on stdout), and the book of active alerts that keeps a cluster seen on consecutive cycles one alert.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigie::watch {

/// An alert still open: a cluster seen within the last watch.dedup_cycles cycles.
struct ActiveAlert {
  std::string id;
  std::vector<std::int64_t> cells;  ///< global indices, sorted
  std::int64_t first_cycle = 0;
  std::int64_t last_cycle = 0;
  std::int64_t cycles_seen = 1;
};

/// The open alerts.
class AlertBook {
 public:
  /// The open alert a cluster of `cells` (any order) continues: one that shares a cell with it and was seen
  /// at most `dedup_cycles` cycles before `cycle`; nullptr when the cluster is new.
  [[nodiscard]] ActiveAlert* continued(const std::vector<std::int64_t>& cells, std::int64_t cycle,
                                       int dedup_cycles);
  /// Opens an alert.
  void open(ActiveAlert alert);
  /// Forgets the alerts last seen more than `dedup_cycles` cycles before `cycle`.
  void expire(std::int64_t cycle, int dedup_cycles);
  [[nodiscard]] const std::vector<ActiveAlert>& alerts() const noexcept { return m_alerts; }

  [[nodiscard]] nlohmann::json toJson() const;
  /// Error(InputData) for a malformed document.
  static AlertBook fromJson(const nlohmann::json& doc);

 private:
  std::vector<ActiveAlert> m_alerts;
};

/// One readable line for a terminal or a log: when, how many observed against expected, where, p and the
/// recurrence interval.
[[nodiscard]] std::string alertLine(const nlohmann::json& alert);

/// Not collective. Appends one JSON object per line to `path` and fsyncs it (the file is created if absent).
void appendJsonLines(const std::filesystem::path& path, const std::vector<nlohmann::json>& records);
/// Not collective. Creates `path` empty if it does not exist.
void touch(const std::filesystem::path& path);
/// Not collective. Keeps the lines of `path` whose "cycle" is below `cycles_done` (rewritten through a
/// temporary file and a rename); returns how many were dropped. A last line without a newline (a crash during
/// an append) is dropped too.
std::int64_t keepCyclesBelow(const std::filesystem::path& path, std::int64_t cycles_done);
/// Not collective. Every record of a JSON-lines file.
[[nodiscard]] std::vector<nlohmann::json> readJsonLines(const std::filesystem::path& path);
/// Not collective. alerts.geojson (RFC 7946) from the alert records: a Point at each centre with the alert's
/// properties (geometry null on a lattice grid), written through a temporary file and a rename.
void writeAlertsGeoJson(const std::filesystem::path& path, const std::vector<nlohmann::json>& alerts);

}  // namespace vigie::watch
