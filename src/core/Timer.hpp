#pragma once
/// Scoped phase timers, accumulated per name and reported as min/max over ranks.
#include <mpi.h>

#include <chrono>
#include <map>
#include <string>

namespace vigie::core {

/// Accumulated wall time and call count of each named phase on this rank.
class TimerRegistry {
 public:
  static TimerRegistry& instance();
  void add(const std::string& name, double seconds);
  [[nodiscard]] const std::map<std::string, std::pair<double, long>>& totals() const { return m_totals; }
  /// Collective. Logs one line per phase on rank 0: calls, min and max seconds over ranks.
  void report(MPI_Comm comm) const;
  void clear() { m_totals.clear(); }

 private:
  std::map<std::string, std::pair<double, long>> m_totals;
};

/// Adds the lifetime of this object to the named phase.
class ScopedTimer {
 public:
  explicit ScopedTimer(std::string name)
      : m_name(std::move(name)), m_start(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    const auto dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    TimerRegistry::instance().add(m_name, dt);
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  std::string m_name;
  std::chrono::steady_clock::time_point m_start;
};

}  // namespace vigie::core
