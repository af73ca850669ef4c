#pragma once
/// Reductions whose floating-point result does not depend on the number of ranks.
#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

namespace vigie::core {

/// Collective. Sum of values given with their global indices, added in increasing global index order on
/// rank 0 and broadcast, so the result is bit-identical at any decomposition. Cost: O(total count) data
/// moved to rank 0; meant for diagnostics and scores, not inner loops.
double orderedSum(MPI_Comm comm, std::span<const std::int64_t> global_index, std::span<const double> values);

/// Collective. Integer sum (exact at any rank count).
std::int64_t sumInt(MPI_Comm comm, std::int64_t local);
/// Collective. Maximum and minimum (exact at any rank count).
double maxDouble(MPI_Comm comm, double local);
double minDouble(MPI_Comm comm, double local);
/// Collective. True on every rank if `local` is true on any rank.
bool anyTrue(MPI_Comm comm, bool local);

}  // namespace vigie::core
