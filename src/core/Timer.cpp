#include "core/Timer.hpp"

#include <vector>

#include "core/Log.hpp"

namespace vigie::core {

TimerRegistry& TimerRegistry::instance() {
  static TimerRegistry registry;
  return registry;
}

void TimerRegistry::add(const std::string& name, double seconds) {
  auto& entry = m_totals[name];
  entry.first += seconds;
  entry.second += 1;
}

void TimerRegistry::report(MPI_Comm comm) const {
  // Phases can differ between ranks; report the union so every rank takes part in the same reductions.
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string names;
  for (const auto& [name, value] : m_totals) names += name + '\n';
  int len = static_cast<int>(names.size());
  int size = 0;
  MPI_Comm_size(comm, &size);
  std::vector<int> lens(static_cast<std::size_t>(size));
  MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm);
  std::vector<int> displs(lens.size(), 0);
  int total = 0;
  for (std::size_t r = 0; r < lens.size(); ++r) {
    displs[r] = total;
    total += lens[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Allgatherv(names.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, comm);
  std::map<std::string, int> uni;
  std::size_t start = 0;
  while (start < all.size()) {
    const auto end = all.find('\n', start);
    uni[all.substr(start, end - start)] = 0;
    start = end + 1;
  }
  for (const auto& [name, unused] : uni) {
    const auto it = m_totals.find(name);
    double t = it == m_totals.end() ? 0.0 : it->second.first;
    long calls = it == m_totals.end() ? 0 : it->second.second;
    double tmin = 0;
    double tmax = 0;
    long cmax = 0;
    MPI_Reduce(&t, &tmin, 1, MPI_DOUBLE, MPI_MIN, 0, comm);
    MPI_Reduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
    MPI_Reduce(&calls, &cmax, 1, MPI_LONG, MPI_MAX, 0, comm);
    if (rank == 0)
      VIGIE_LOG_INFO("timer " << name << ": calls " << cmax << ", min " << tmin << " s, max " << tmax
                              << " s");
  }
}

}  // namespace vigie::core
