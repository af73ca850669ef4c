#pragma once
/// Vigie's exception type, exit codes and the throwing checks for MPI, PETSc and HDF5 calls.
#include <stdexcept>
#include <string>

namespace vigie::core {

/// Process exit codes; the table in docs/cli.md is the user-facing copy of this enum.
enum class ExitCode : int {
  Ok = 0,
  Internal = 1,     ///< a bug or an unexpected library failure
  Usage = 2,        ///< bad command line or configuration (unknown key, malformed value)
  InputData = 3,    ///< an input file is missing, unreadable or malformed
  Io = 4,           ///< an output could not be written
  Locked = 5,       ///< another run holds output.dir
  AuditFailed = 6,  ///< `vigie audit verify` found a broken chain
  Numerical = 7,    ///< a solver failed or produced non-finite values
  Interrupted = 8,  ///< stopped by SIGTERM/SIGINT after writing a checkpoint; rerun with --restart to resume
};

/// An error with the exit code the process should end with.
/// `collective` is true when every rank is known to throw the same error at the same point
/// (for instance a configuration error found while every rank parses the same file); main then
/// finalises cleanly instead of calling MPI_Abort.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& what, bool collective = false)
      : std::runtime_error(what), m_code(code), m_collective(collective) {}
  [[nodiscard]] ExitCode code() const noexcept { return m_code; }
  [[nodiscard]] bool collective() const noexcept { return m_collective; }

 private:
  ExitCode m_code;
  bool m_collective;
};

[[noreturn]] void throwMpiError(int err, const char* expr, const char* file, int line);
[[noreturn]] void throwPetscError(int err, const char* expr, const char* file, int line);
[[noreturn]] void throwHdf5Error(const char* expr, const char* file, int line);

}  // namespace vigie::core

/// Throws vigie::core::Error if an MPI call does not return MPI_SUCCESS.
#define VIGIE_CHECK_MPI(expr)                                                                         \
  do {                                                                                                \
    const int vigie_mpi_err_ = (expr);                                                                \
    if (vigie_mpi_err_ != 0) ::vigie::core::throwMpiError(vigie_mpi_err_, #expr, __FILE__, __LINE__); \
  } while (0)

/// Throws vigie::core::Error if a PETSc call returns a non-zero PetscErrorCode.
#define VIGIE_CHECK_PETSC(expr)                                                                             \
  do {                                                                                                      \
    const int vigie_petsc_err_ = static_cast<int>(expr);                                                    \
    if (vigie_petsc_err_ != 0) ::vigie::core::throwPetscError(vigie_petsc_err_, #expr, __FILE__, __LINE__); \
  } while (0)

/// Throws vigie::core::Error if an HDF5 call returns a negative value (herr_t or hid_t).
#define VIGIE_CHECK_H5(expr)                                                         \
  ([&]() {                                                                           \
    auto vigie_h5_ret_ = (expr);                                                     \
    if (vigie_h5_ret_ < 0) ::vigie::core::throwHdf5Error(#expr, __FILE__, __LINE__); \
    return vigie_h5_ret_;                                                            \
  }())
