#pragma once
/// Graceful stops of long runs: SIGTERM/SIGINT (what a batch scheduler sends before its time limit, or a
/// user's Ctrl-C) set a flag that the run polls at points where it can write a checkpoint and exit, and a
/// fault injection hook that lets a test raise that signal at a chosen step.
#include <mpi.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>

namespace vigie::core {

/// While an object lives, SIGTERM and SIGINT only set a process-wide flag (an async-signal-safe write of a
/// volatile sig_atomic_t) instead of ending the process; the destructor puts the previous handlers back, so
/// the rest of the program keeps the default behaviour. The flag is cleared on construction. Objects do not
/// nest.
class StopSignals {
 public:
  /// Not collective. Installs the handlers with sigaction and clears the flag.
  StopSignals();
  /// Not collective. Restores the handlers that were installed before.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction m_old_term {};
  struct sigaction m_old_int {};
};

/// Not collective. Whether this process received SIGTERM or SIGINT while a StopSignals object lived.
[[nodiscard]] bool localStopRequested() noexcept;

/// Collective. Whether any rank of `comm` received SIGTERM or SIGINT: an MPI_Allreduce (MAX) of the local
/// flags, so that every rank takes the same decision at the same point even when the signal reached only one
/// of them.
[[nodiscard]] bool stopRequested(MPI_Comm comm);

/// Not collective. Test hook: raises SIGTERM on this process when the environment variable VIGIE_FAULT equals
/// "<name>:<step>" (e.g. VIGIE_FAULT=simulate:30), which simulates a scheduler's stop at a known point of a
/// run. Does nothing otherwise; production runs never set the variable.
void faultPoint(const std::string& name, std::int64_t step);

/// Collective. Whether a run resumes from `checkpoint`: always with `restart` (Error(InputData) on every rank
/// when the checkpoint does not exist), and on a Slurm requeue (SLURM_RESTART_COUNT > 0) when it exists.
[[nodiscard]] bool shouldResume(MPI_Comm comm, const std::filesystem::path& checkpoint, bool restart);

}  // namespace vigie::core
