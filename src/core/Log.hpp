#pragma once
/// Root-only logging with UTC timestamps; errors may be printed by any rank.
/// Two formats: text lines "[2026-11-29T06:58:00Z] info: message", or (vigie --json-log) one JSON object per
/// line,
/// {"time":"2026-11-29T06:58:00Z","level":"info","message":"..."} (errors add "rank"), on the same streams.
#include <sstream>
#include <string>

namespace vigie::core {

enum class LogLevel { Debug, Info, Warning, Error };
enum class LogFormat { Text, Json };

/// Not collective. Prints on rank 0 of MPI_COMM_WORLD only (Error prints on every rank, tagged with it).
/// Debug and Info go to standard output, Warning and Error to standard error.
void logMessage(LogLevel level, const std::string& message);
/// Not collective. A final error reported once for the whole program (a usage error, or an error every rank
/// threw): "vigie: message" on standard error in text format, a JSON error line in JSON format. Prints on the
/// calling rank whatever the level threshold; the caller picks the rank.
void logFinalError(const std::string& message);
/// Sets the lowest level printed (default Info; VIGIE_LOG_LEVEL=debug|warning|error in the environment sets
/// it).
void setLogLevel(LogLevel level);
/// The lowest level printed.
LogLevel logLevel();
/// Sets the line format (default Text; vigie --json-log sets Json).
void setLogFormat(LogFormat format);
/// The format in use.
LogFormat logFormat();
/// One log line, without its newline, in the current format. `rank` < 0: no rank in the line.
std::string formatLogLine(LogLevel level, const std::string& message, int rank);
/// Current UTC time as ISO-8601 with seconds, e.g. 2026-11-29T06:58:00Z.
std::string utcNowIso();

}  // namespace vigie::core

#define VIGIE_LOG_(level, expr)                            \
  do {                                                     \
    std::ostringstream vigie_log_os_;                      \
    vigie_log_os_ << expr;                                 \
    ::vigie::core::logMessage(level, vigie_log_os_.str()); \
  } while (0)
#define VIGIE_LOG_DEBUG(expr) VIGIE_LOG_(::vigie::core::LogLevel::Debug, expr)
#define VIGIE_LOG_INFO(expr) VIGIE_LOG_(::vigie::core::LogLevel::Info, expr)
#define VIGIE_LOG_WARN(expr) VIGIE_LOG_(::vigie::core::LogLevel::Warning, expr)
#define VIGIE_LOG_ERROR(expr) VIGIE_LOG_(::vigie::core::LogLevel::Error, expr)
