#pragma once
/// MPI and PETSc start-up and teardown, in that order and in reverse.
#include <mpi.h>

#include <string>
#include <vector>

namespace vigie::core {

/// Owns MPI (initialised with MPI_THREAD_FUNNELED for OpenMP inside a rank) and PETSc.
/// Construct once in main; PETSc receives only the single-dash options the CLI passed through.
class Environment {
 public:
  /// Collective on MPI_COMM_WORLD. `petsc_args` are the options for PetscInitialize (argv[0] excluded).
  Environment(int& argc, char**& argv, const std::vector<std::string>& petsc_args);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// The communicator every Vigie object uses (a duplicate of MPI_COMM_WORLD).
  [[nodiscard]] MPI_Comm comm() const noexcept { return m_comm; }
  [[nodiscard]] int rank() const noexcept { return m_rank; }
  [[nodiscard]] int size() const noexcept { return m_size; }
  /// OpenMP threads per rank (omp_get_max_threads at start-up).
  [[nodiscard]] int threads() const noexcept { return m_threads; }

 private:
  MPI_Comm m_comm = MPI_COMM_NULL;
  int m_rank = 0;
  int m_size = 1;
  int m_threads = 1;
  bool m_owns_mpi = false;
};

/// Rank in MPI_COMM_WORLD, or 0 before MPI is initialised.
int worldRank() noexcept;

}  // namespace vigie::core
