#pragma once
/// The run's output folder: created on demand and locked for the run's lifetime.
#include <mpi.h>

#include <filesystem>

namespace vigie::core {

/// Creates `output.dir` and takes an exclusive lock on `<dir>/.vigie.lock` (rank 0, flock), so a second run
/// on the same folder refuses with ExitCode::Locked. The kernel drops the lock if the process dies, so a
/// crashed run never leaves a stale lock behind. Once locked, leftover temporary files (`*.tmp-*`, from a run
/// killed before it could rename them into place) are removed.
class OutputDir {
 public:
  /// Collective. Throws Error(Locked) on every rank if another process holds the lock, Error(Io) if the
  /// folder cannot be created.
  OutputDir(MPI_Comm comm, std::filesystem::path dir);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return m_dir; }
  /// `dir / name`.
  [[nodiscard]] std::filesystem::path file(const std::string& name) const { return m_dir / name; }

 private:
  std::filesystem::path m_dir;
  int m_fd = -1;
};

}  // namespace vigie::core
