#pragma once
/// Running work on some ranks while every rank learns whether it failed.
#include <mpi.h>

#include <functional>

namespace vigie::core {

/// Collective. Runs `work` on the ranks where `active` is true. If it throws on any rank, every rank throws
/// the error of the lowest failing rank, marked collective, so a bad input on one rank never leaves the
/// others waiting in a later collective call.
void runAgreed(MPI_Comm comm, bool active, const std::function<void()>& work);

/// Collective. runAgreed with only rank 0 active.
void runOnRoot(MPI_Comm comm, const std::function<void()>& work);

}  // namespace vigie::core
