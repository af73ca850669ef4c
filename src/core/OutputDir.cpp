#include "core/OutputDir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "core/Error.hpp"

namespace vigie::core {

OutputDir::OutputDir(MPI_Comm comm, std::filesystem::path dir) : m_dir(std::move(dir)) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // 0 ok, 1 cannot create, 2 locked by another run.
  int status = 0;
  std::string reason;
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
    if (ec) {
      status = 1;
    } else {
      const auto lock = (m_dir / ".vigie.lock").string();
      m_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (m_fd < 0) {
        status = 1;
      } else if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        status = 2;
        ::close(m_fd);
        m_fd = -1;
      } else {
        // Holding the lock, no other run writes here: temporary files are leftovers of a killed run (a crash
        // before the rename that publishes a file). Remove them so they never pile up.
        for (const auto& entry : std::filesystem::directory_iterator(m_dir, ec)) {
          const auto name = entry.path().filename().string();
          if (entry.is_regular_file(ec) && name.find(".tmp-") != std::string::npos) {
            std::filesystem::remove(entry.path(), ec);
          }
        }
        // Record who holds the lock, for the operator who finds it.
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(m_fd, 0) == 0) {
          [[maybe_unused]] const auto n = ::write(m_fd, pid.data(), pid.size());
        }
      }
    }
  }
  VIGIE_CHECK_MPI(MPI_Bcast(&status, 1, MPI_INT, 0, comm));
  if (status == 1) throw Error(ExitCode::Io, m_dir.string() + ": cannot create the output folder", true);
  if (status == 2) {
    throw Error(ExitCode::Locked,
                m_dir.string() +
                    ": another Vigie run holds this output folder (lock file .vigie.lock); "
                    "wait for it or choose another output.dir",
                true);
  }
}

OutputDir::~OutputDir() {
  if (m_fd >= 0) {
    ::flock(m_fd, LOCK_UN);
    ::close(m_fd);
  }
}

}  // namespace vigie::core
