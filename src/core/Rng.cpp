#include "core/Rng.hpp"

#include <cmath>
#include <numbers>

namespace vigie::core {

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t global_id, std::uint32_t step) noexcept {
  m_key[0] = static_cast<std::uint32_t>(seed);
  m_key[1] = static_cast<std::uint32_t>(seed >> 32);
  m_ctr[0] = static_cast<std::uint32_t>(global_id);
  m_ctr[1] = static_cast<std::uint32_t>(global_id >> 32);
  m_ctr[2] = step;
  m_ctr[3] = 0;
}

void RandomStream::refill() noexcept {
  m_out = m_gen(m_ctr, m_key);
  ++m_ctr[3];
  m_used = 0;
}

std::uint32_t RandomStream::nextU32() noexcept {
  if (m_used == 4) refill();
  return m_out[static_cast<std::size_t>(m_used++)];
}

double RandomStream::uniform() noexcept {
  const std::uint64_t hi = nextU32() >> 5;  // 27 bits
  const std::uint64_t lo = nextU32() >> 6;  // 26 bits
  const std::uint64_t bits = (hi << 26) | lo;
  // (bits + 0.5) / 2^53 is never 0 or 1.
  return (static_cast<double>(bits) + 0.5) * 0x1.0p-53;
}

double RandomStream::normal() noexcept {
  const double u1 = uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t RandomStream::poisson(double mean) noexcept {
  if (!(mean > 0.0)) return 0;
  if (mean < 10.0) {
    // Inversion by sequential search: exact, and cheap for small means.
    double u = uniform();
    double p = std::exp(-mean);
    double cdf = p;
    std::uint64_t k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cdf += p;
    }
    return k;
  }
  // PTRS: transformed rejection with squeeze (W. Hormann, 1993).
  const double slam = std::sqrt(mean);
  const double loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -mean + k * loglam - std::lgamma(k + 1.0))
      return static_cast<std::uint64_t>(k);
  }
}

}  // namespace vigie::core
