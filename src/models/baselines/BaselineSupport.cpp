#include "models/baselines/BaselineSupport.hpp"

#include <mpi.h>

#include <cmath>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

std::vector<double> maskedCounts(const grid::CityGrid& grid, std::span<const double> owned_counts) {
  const auto& mask = grid.ownedMask();
  std::vector<double> out(owned_counts.begin(), owned_counts.end());
  for (std::size_t k = 0; k < out.size() && k < mask.size(); ++k)
    if (mask[k] == 0) out[k] = 0.0;
  return out;
}

void checkBin(const std::string& model, double t0, double t1) {
  if (!(std::isfinite(t0) && std::isfinite(t1)) || t1 < t0)
    throw Error(ExitCode::Internal, "model " + model + ": observed bin [" + std::to_string(t0) + ", " +
                                        std::to_string(t1) + ") is not a forward interval");
}

void checkOwnedSize(const std::string& model, const grid::CityGrid& grid, std::size_t size) {
  const auto& box = grid.ownedBox();
  if (size != static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj))
    throw Error(ExitCode::Internal, "model " + model + ": span does not match the owned box");
}

double uniformValue(const std::string& model, const std::string& state, std::span<const double> owned) {
  if (owned.empty())
    throw Error(ExitCode::Internal, "model " + model + ": state '" + state + "' set from an empty span");
  const double v = owned[0];
  for (const double x : owned) {
    // Written as !(x == v) so that a NaN fails the test too.
    if (!(x == v) || !std::isfinite(x))
      throw Error(ExitCode::InputData,
                  "model " + model + ": state '" + state +
                      "' holds a scalar and must have the same finite value in every cell");
  }
  return v;
}

std::vector<double> gatherWholeGrid(const grid::CityGrid& grid, std::span<const double> owned,
                                    int components) {
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_size(grid.comm(), &size));
  const auto idx = grid.ownedGlobalIndices();
  if (owned.size() != idx.size() * static_cast<std::size_t>(components))
    throw Error(ExitCode::Internal, "gatherWholeGrid: owned values do not match the owned box");
  const int n = static_cast<int>(idx.size());
  std::vector<int> counts(static_cast<std::size_t>(size));
  VIGIE_CHECK_MPI(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, grid.comm()));
  std::vector<int> displs(static_cast<std::size_t>(size), 0);
  std::vector<int> value_counts(static_cast<std::size_t>(size));
  std::vector<int> value_displs(static_cast<std::size_t>(size), 0);
  int total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = total;
    value_counts[r] = counts[r] * components;
    value_displs[r] = total * components;
    total += counts[r];
  }
  std::vector<std::int64_t> all_idx(static_cast<std::size_t>(total));
  std::vector<double> all_val(static_cast<std::size_t>(total) * static_cast<std::size_t>(components));
  VIGIE_CHECK_MPI(MPI_Allgatherv(idx.data(), n, MPI_INT64_T, all_idx.data(), counts.data(), displs.data(),
                                 MPI_INT64_T, grid.comm()));
  VIGIE_CHECK_MPI(MPI_Allgatherv(owned.data(), n * components, MPI_DOUBLE, all_val.data(),
                                 value_counts.data(), value_displs.data(), MPI_DOUBLE, grid.comm()));
  const auto c = static_cast<std::size_t>(components);
  std::vector<double> global(static_cast<std::size_t>(grid.nx()) * static_cast<std::size_t>(grid.ny()) * c,
                             0.0);
  for (std::size_t k = 0; k < all_idx.size(); ++k)
    for (std::size_t q = 0; q < c; ++q)
      global[static_cast<std::size_t>(all_idx[k]) * c + q] = all_val[k * c + q];
  return global;
}

}  // namespace vigie::models
