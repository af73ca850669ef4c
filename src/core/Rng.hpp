#pragma once
/// Counter-based random streams keyed by (seed, global id, step): the draws of a cell or an agent
/// do not depend on which rank owns it, so random trajectories are identical at any rank count.
#include <Random123/philox.h>

#include <cstdint>

namespace vigie::core {

/// One stream of Philox4x32-10 draws. The key is the 64-bit seed; the counter holds the 64-bit global id,
/// the step and a draw index, so a stream yields 2^32 x 4 draws before it would repeat.
class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t global_id, std::uint32_t step) noexcept;

  /// Next 32 random bits.
  std::uint32_t nextU32() noexcept;
  /// Uniform double in the open interval (0, 1), 53 random bits.
  double uniform() noexcept;
  /// Standard normal deviate (Box-Muller on two uniforms).
  double normal() noexcept;
  /// Poisson deviate with the given mean (mean >= 0): inversion below 10, PTRS (Hormann 1993) above.
  std::uint64_t poisson(double mean) noexcept;

 private:
  void refill() noexcept;
  r123::Philox4x32 m_gen;
  r123::Philox4x32::key_type m_key{};
  r123::Philox4x32::ctr_type m_ctr{};
  r123::Philox4x32::ctr_type m_out{};
  int m_used = 4;
};

}  // namespace vigie::core
