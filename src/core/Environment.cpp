#include "core/Environment.hpp"

#include <omp.h>
#include <petscsys.h>

#include "core/Error.hpp"

namespace vigie::core {

Environment::Environment(int& argc, char**& argv, const std::vector<std::string>& petsc_args) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    VIGIE_CHECK_MPI(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
    m_owns_mpi = true;
  }
  VIGIE_CHECK_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &m_comm));
  MPI_Comm_rank(m_comm, &m_rank);
  MPI_Comm_size(m_comm, &m_size);
  m_threads = omp_get_max_threads();

  // PETSc parses its own argv copy: only the pass-through options, never Vigie's long options.
  std::vector<std::string> storage;
  storage.emplace_back(argc > 0 ? argv[0] : "vigie");
  storage.insert(storage.end(), petsc_args.begin(), petsc_args.end());
  std::vector<char*> pargv;
  for (auto& s : storage) pargv.push_back(s.data());
  pargv.push_back(nullptr);
  int pargc = static_cast<int>(storage.size());
  char** pargv_ptr = pargv.data();
  PETSC_COMM_WORLD = m_comm;
  VIGIE_CHECK_PETSC(PetscInitialize(&pargc, &pargv_ptr, nullptr, nullptr));
}

Environment::~Environment() {
  PetscFinalize();
  if (m_comm != MPI_COMM_NULL) MPI_Comm_free(&m_comm);
  if (m_owns_mpi) MPI_Finalize();
}

int worldRank() noexcept {
  int initialised = 0;
  int finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (!initialised || finalised) return 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace vigie::core
