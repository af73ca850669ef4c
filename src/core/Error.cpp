#include "core/Error.hpp"

#include <mpi.h>
#include <petscsys.h>

#include <sstream>

namespace vigie::core {

void throwMpiError(int err, const char* expr, const char* file, int line) {
  char msg[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(err, msg, &len);
  std::ostringstream os;
  os << "MPI error " << err << " (" << std::string(msg, static_cast<std::size_t>(len)) << ") in " << expr
     << " at " << file << ":" << line;
  throw Error(ExitCode::Internal, os.str());
}

void throwPetscError(int err, const char* expr, const char* file, int line) {
  const char* text = nullptr;
  PetscErrorMessage(static_cast<PetscErrorCode>(err), &text, nullptr);
  std::ostringstream os;
  os << "PETSc error " << err << " (" << (text ? text : "unknown") << ") in " << expr << " at " << file << ":"
     << line;
  throw Error(ExitCode::Internal, os.str());
}

void throwHdf5Error(const char* expr, const char* file, int line) {
  std::ostringstream os;
  os << "HDF5 call failed: " << expr << " at " << file << ":" << line;
  throw Error(ExitCode::Io, os.str());
}

}  // namespace vigie::core
