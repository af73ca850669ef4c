// Counter-based random streams: reproducible per key, independent across keys, right distributions.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/Rng.hpp"

namespace {

using vigie::core::RandomStream;

TEST(Rng, SameKeySameDrawsDifferentKeyDifferentDraws) {
  RandomStream a(42, 1000, 7);
  RandomStream b(42, 1000, 7);
  for (int k = 0; k < 100; ++k) EXPECT_EQ(a.nextU32(), b.nextU32());
  std::set<std::uint32_t> firsts;
  for (std::uint64_t id = 0; id < 64; ++id) firsts.insert(RandomStream(42, id, 7).nextU32());
  firsts.insert(RandomStream(43, 0, 7).nextU32());
  firsts.insert(RandomStream(42, 0, 8).nextU32());
  firsts.insert(RandomStream(42, std::uint64_t{1} << 40, 7).nextU32());
  EXPECT_EQ(firsts.size(), 67u);
}

TEST(Rng, UniformMomentsAndRange) {
  RandomStream r(1, 2, 3);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int k = 0; k < n; ++k) {
    const double u = r.uniform();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    s2 += u * u;
  }
  const double mean = s / n;
  const double var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(var, 1.0 / 12, 0.002);
}

TEST(Rng, NormalMoments) {
  RandomStream r(9, 9, 9);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int k = 0; k < n; ++k) {
    const double z = r.normal();
    s += z;
    s2 += z * z;
  }
  EXPECT_NEAR(s / n, 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
}

TEST(Rng, PoissonMeanAndVarianceOnBothBranches) {
  for (const double mean : {0.3, 4.0, 25.0, 400.0}) {
    RandomStream r(5, static_cast<std::uint64_t>(mean * 10), 0);
    const int n = 100000;
    double s = 0, s2 = 0;
    for (int k = 0; k < n; ++k) {
      const double x = static_cast<double>(r.poisson(mean));
      s += x;
      s2 += x * x;
    }
    const double m = s / n;
    const double v = s2 / n - m * m;
    EXPECT_NEAR(m, mean, 5 * std::sqrt(mean / n)) << "mean " << mean;
    EXPECT_NEAR(v / mean, 1.0, 0.05) << "mean " << mean;
  }
  RandomStream r(1, 1, 1);
  EXPECT_EQ(r.poisson(0.0), 0u);
}

}  // namespace
