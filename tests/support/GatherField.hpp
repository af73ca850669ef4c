#pragma once
// Test helper: the whole field on every rank, in global index order, from each rank's owned values.
#include <mpi.h>

#include <vector>

#include "grid/CityGrid.hpp"

namespace vigie::testing {

/// Collective. Global array (index j * nx + i) from owned-box values.
inline std::vector<double> gatherGlobal(const grid::CityGrid& g, const std::vector<double>& owned) {
  int size = 1;
  MPI_Comm_size(g.comm(), &size);
  const auto idx = g.ownedGlobalIndices();
  const int n = static_cast<int>(idx.size());
  std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size), 0);
  MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, g.comm());
  int total = 0;
  for (int r = 0; r < size; ++r) {
    displs[static_cast<std::size_t>(r)] = total;
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<std::int64_t> all_idx(static_cast<std::size_t>(total));
  std::vector<double> all_val(static_cast<std::size_t>(total));
  MPI_Allgatherv(idx.data(), n, MPI_INT64_T, all_idx.data(), counts.data(), displs.data(), MPI_INT64_T,
                 g.comm());
  MPI_Allgatherv(owned.data(), n, MPI_DOUBLE, all_val.data(), counts.data(), displs.data(), MPI_DOUBLE,
                 g.comm());
  std::vector<double> global(static_cast<std::size_t>(g.nx()) * static_cast<std::size_t>(g.ny()), -1.0);
  for (std::size_t k = 0; k < all_idx.size(); ++k) global[static_cast<std::size_t>(all_idx[k])] = all_val[k];
  return global;
}

}  // namespace vigie::testing
