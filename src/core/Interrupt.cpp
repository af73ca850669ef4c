#include "core/Interrupt.hpp"

#include <cstdlib>

#include "core/Error.hpp"

namespace vigie::core {

namespace {

// Written by the signal handler, read by the polling code: sig_atomic_t is the only type a handler may
// write portably.
volatile std::sig_atomic_t g_stop = 0;

extern "C" void onStopSignal(int /*signal*/) {
  g_stop = 1;
}

}  // namespace

StopSignals::StopSignals() {
  g_stop = 0;
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a signal arriving inside a blocking read or MPI progress call must not turn it into an error.
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, &m_old_term);
  sigaction(SIGINT, &action, &m_old_int);
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &m_old_term, nullptr);
  sigaction(SIGINT, &m_old_int, nullptr);
}

bool localStopRequested() noexcept {
  return g_stop != 0;
}

bool stopRequested(MPI_Comm comm) {
  int local = localStopRequested() ? 1 : 0;
  int any = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, comm));
  return any != 0;
}

void faultPoint(const std::string& name, std::int64_t step) {
  const char* fault = std::getenv("VIGIE_FAULT");
  if (fault != nullptr && name + ":" + std::to_string(step) == fault) std::raise(SIGTERM);
}

bool shouldResume(MPI_Comm comm, const std::filesystem::path& checkpoint, bool restart) {
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  int exists = rank == 0 && std::filesystem::exists(checkpoint) ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (restart && exists == 0)
    throw Error(ExitCode::InputData, "--restart: no checkpoint " + checkpoint.string(), true);
  if (restart) return true;
  const char* count = std::getenv("SLURM_RESTART_COUNT");
  return exists != 0 && count != nullptr && std::atol(count) > 0;
}

}  // namespace vigie::core
