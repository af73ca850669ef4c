#include "core/Collective.hpp"

#include <string>

#include "core/Error.hpp"

namespace vigie::core {

void runAgreed(MPI_Comm comm, bool active, const std::function<void()>& work) {
  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
  int code = 0;
  std::string message;
  if (active) {
    try {
      work();
    } catch (const Error& e) {
      code = static_cast<int>(e.code());
      message = e.what();
    } catch (const std::exception& e) {
      code = static_cast<int>(ExitCode::Internal);
      message = e.what();
    }
  }
  int failing = code != 0 ? rank : size;
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &failing, 1, MPI_INT, MPI_MIN, comm));
  if (failing == size) return;
  int length = static_cast<int>(message.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&code, 1, MPI_INT, failing, comm));
  VIGIE_CHECK_MPI(MPI_Bcast(&length, 1, MPI_INT, failing, comm));
  message.resize(static_cast<std::size_t>(length));
  VIGIE_CHECK_MPI(MPI_Bcast(message.data(), length, MPI_CHAR, failing, comm));
  throw Error(static_cast<ExitCode>(code), message, true);
}

void runOnRoot(MPI_Comm comm, const std::function<void()>& work) {
  int rank = 0;
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  runAgreed(comm, rank == 0, work);
}

}  // namespace vigie::core
