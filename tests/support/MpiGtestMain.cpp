// The one gtest main for every Vigie test program: it starts MPI and PETSc through the Environment,
// keeps the printer on rank 0 only and makes every rank return the same exit code.
#include <gtest/gtest.h>
#include <mpi.h>

#include "core/Environment.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int result = 0;
  {
    vigie::core::Environment env(argc, argv, {});
    if (env.rank() != 0) {
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
    }
    const int local = RUN_ALL_TESTS();
    MPI_Allreduce(&local, &result, 1, MPI_INT, MPI_MAX, env.comm());
  }
  return result;
}
