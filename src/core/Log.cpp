#include "core/Log.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/Environment.hpp"

namespace vigie::core {
namespace {

LogLevel initialLevel() {
  const char* env = std::getenv("VIGIE_LOG_LEVEL");
  if (env == nullptr) return LogLevel::Info;
  const std::string_view v(env);
  if (v == "debug") return LogLevel::Debug;
  if (v == "warning") return LogLevel::Warning;
  if (v == "error") return LogLevel::Error;
  return LogLevel::Info;
}

LogLevel& threshold() {
  static LogLevel level = initialLevel();
  return level;
}

LogFormat& format() {
  static LogFormat value = LogFormat::Text;
  return value;
}

const char* tag(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "?";
}

std::string jsonLine(LogLevel level, const std::string& message, int rank) {
  nlohmann::ordered_json line;
  line["time"] = utcNowIso();
  line["level"] = tag(level);
  line["message"] = message;
  if (rank >= 0) line["rank"] = rank;
  // Messages quote file contents, which need not be UTF-8: invalid bytes become U+FFFD instead of throwing.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void setLogLevel(LogLevel level) {
  threshold() = level;
}

LogLevel logLevel() {
  return threshold();
}

LogFormat logFormat() {
  return format();
}

void setLogFormat(LogFormat value) {
  format() = value;
}

std::string utcNowIso() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string formatLogLine(LogLevel level, const std::string& message, int rank) {
  if (format() == LogFormat::Json) return jsonLine(level, message, rank);
  // append() rather than "lit" + string: gcc 12 reports a false -Wrestrict on the latter.
  std::string line = std::string("[").append(utcNowIso()).append("] ");
  if (level == LogLevel::Error && rank >= 0)
    return line + "vigie error (rank " + std::to_string(rank) + "): " + message;
  return line + tag(level) + ": " + message;
}

void logMessage(LogLevel level, const std::string& message) {
  if (level < threshold()) return;
  const int rank = worldRank();
  if (level == LogLevel::Error) {
    std::cerr << formatLogLine(level, message, rank) << std::endl;
    return;
  }
  if (rank != 0) return;
  auto& os = level == LogLevel::Warning ? std::cerr : std::cout;
  os << formatLogLine(level, message, -1) << std::endl;
}

void logFinalError(const std::string& message) {
  if (format() == LogFormat::Json) {
    std::cerr << jsonLine(LogLevel::Error, message, -1) << std::endl;
  } else {
    std::cerr << "vigie: " << message << std::endl;
  }
}

}  // namespace vigie::core
