#include "core/Reduce.hpp"

#include <algorithm>
#include <numeric>

#include "core/Error.hpp"

namespace vigie::core {

double orderedSum(MPI_Comm comm, std::span<const std::int64_t> global_index, std::span<const double> values) {
  if (global_index.size() != values.size())
    throw Error(ExitCode::Internal, "orderedSum: index and value spans differ in length");
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int n = static_cast<int>(values.size());
  std::vector<int> counts(static_cast<std::size_t>(size));
  VIGIE_CHECK_MPI(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm));
  std::vector<int> displs(counts.size(), 0);
  int total = 0;
  if (rank == 0) {
    for (std::size_t r = 0; r < counts.size(); ++r) {
      displs[r] = total;
      total += counts[r];
    }
  }
  std::vector<std::int64_t> all_idx(static_cast<std::size_t>(total));
  std::vector<double> all_val(static_cast<std::size_t>(total));
  VIGIE_CHECK_MPI(MPI_Gatherv(global_index.data(), n, MPI_INT64_T, all_idx.data(), counts.data(),
                              displs.data(), MPI_INT64_T, 0, comm));
  VIGIE_CHECK_MPI(MPI_Gatherv(values.data(), n, MPI_DOUBLE, all_val.data(), counts.data(), displs.data(),
                              MPI_DOUBLE, 0, comm));
  double sum = 0.0;
  if (rank == 0) {
    std::vector<std::size_t> order(all_idx.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return all_idx[a] < all_idx[b]; });
    for (const auto k : order) sum += all_val[k];
  }
  VIGIE_CHECK_MPI(MPI_Bcast(&sum, 1, MPI_DOUBLE, 0, comm));
  return sum;
}

std::int64_t sumInt(MPI_Comm comm, std::int64_t local) {
  std::int64_t out = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &out, 1, MPI_INT64_T, MPI_SUM, comm));
  return out;
}

double maxDouble(MPI_Comm comm, double local) {
  double out = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &out, 1, MPI_DOUBLE, MPI_MAX, comm));
  return out;
}

double minDouble(MPI_Comm comm, double local) {
  double out = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local, &out, 1, MPI_DOUBLE, MPI_MIN, comm));
  return out;
}

bool anyTrue(MPI_Comm comm, bool local) {
  int in = local ? 1 : 0;
  int out = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm));
  return out != 0;
}

}  // namespace vigie::core
