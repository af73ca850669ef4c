#pragma once
// Small helpers shared by the MPI tests.
#include <mpi.h>

namespace vigie::testing {

/// Rank in MPI_COMM_WORLD.
inline int commRank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

/// Size of MPI_COMM_WORLD.
inline int commSize() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

}  // namespace vigie::testing
