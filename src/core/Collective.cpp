#include "core/Collective.hpp"

#include <string>
#include <vector>

#include "core/Error.hpp"

namespace vigie::core {

void runOnRoot(MPI_Comm comm, const std::function<void()>& work) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int code = 0;
  std::string message;
  if (rank == 0) {
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
  VIGIE_CHECK_MPI(MPI_Bcast(&code, 1, MPI_INT, 0, comm));
  if (code == 0) return;
  int len = static_cast<int>(message.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&len, 1, MPI_INT, 0, comm));
  message.resize(static_cast<std::size_t>(len));
  VIGIE_CHECK_MPI(MPI_Bcast(message.data(), len, MPI_CHAR, 0, comm));
  throw Error(static_cast<ExitCode>(code), message, true);
}

}  // namespace vigie::core
