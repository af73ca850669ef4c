#include "core/Log.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
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

}  // namespace

void setLogLevel(LogLevel level) {
  threshold() = level;
}

std::string utcNowIso() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void logMessage(LogLevel level, const std::string& message) {
  if (level < threshold()) return;
  const int rank = worldRank();
  if (level == LogLevel::Error) {
    std::cerr << "[" << utcNowIso() << "] vigie error (rank " << rank << "): " << message << std::endl;
    return;
  }
  if (rank != 0) return;
  auto& os = level == LogLevel::Warning ? std::cerr : std::cout;
  os << "[" << utcNowIso() << "] " << tag(level) << ": " << message << std::endl;
}

}  // namespace vigie::core
