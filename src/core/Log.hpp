#pragma once
/// Root-only logging with UTC timestamps; errors may be printed by any rank.
#include <sstream>
#include <string>

namespace vigie::core {

enum class LogLevel { Debug, Info, Warning, Error };

/// Not collective. Prints on rank 0 of MPI_COMM_WORLD only (Error prints on every rank, tagged with it).
void logMessage(LogLevel level, const std::string& message);
/// Sets the lowest level printed (default Info; VIGIE_LOG_LEVEL=debug in the environment lowers it).
void setLogLevel(LogLevel level);
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
