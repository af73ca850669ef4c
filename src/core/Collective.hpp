#pragma once
/// Running work on rank 0 while every rank learns whether it failed.
#include <mpi.h>

#include <functional>

namespace vigie::core {

/// Collective. Runs `work` on rank 0 only; if it throws, every rank throws the same Error (collective), so no
/// rank is left waiting in a later collective call.
void runOnRoot(MPI_Comm comm, const std::function<void()>& work);

}  // namespace vigie::core
