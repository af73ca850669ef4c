#pragma once
/// The expectation-based Poisson space-time scan statistic (Kulldorff 2005; Neill 2009) with Monte Carlo
/// significance: the building block of the alerts of `vigie watch` (issue 9). It looks for a cylinder (a
/// circle of cells times a window of the last cycles) where more events were observed than the forecast
/// expected.
///
/// Zones: for every centre (an active cell; every `centre_stride`-th one in global index order), the active
/// cells whose centres lie within `max_radius_m` of the centre's, added one at a time in order of distance
/// and, for equal distances, of global index (j * nx + i): each prefix of that list is a circle. Windows: the
/// last 1..`max_window` cycles, ending at the last cycle. A zone's score with C observed and E expected
/// events is the expectation-based Poisson log-likelihood ratio C log(C/E) - (C - E) when C > E, else 0.
///
/// Significance: R replicates of the counts of the scanned cycles are drawn from the forecast (Poisson per
/// cell and cycle); replicate r's count of cell g in cycle w comes from core::RandomStream(seed, g, r * W +
/// w) (W: the number of cycles given), so a replicate is the same whichever rank draws it. The replicates are
/// split over the ranks in contiguous blocks and their maximum scores gathered in replicate order: results
/// are identical at any number of ranks. p = (1 + #{replicate max >= observed max}) / (R + 1); a Gumbel law
/// fitted by moments to the replicate maxima gives a tail p-value below the Monte Carlo resolution.
#include <mpi.h>

#include <cstdint>
#include <vector>

namespace vigie::verify {

/// What the scan reads: the whole grid on every rank.
struct ScanInput {
  int nx = 0;
  int ny = 0;
  double cell_m = 0.0;                              ///< cell side (m)
  std::vector<std::uint8_t> mask;                   ///< nx * ny, index j * nx + i, 1 = active
  std::vector<std::vector<std::int32_t>> observed;  ///< [cycle][j * nx + i], oldest cycle first, last = now
  std::vector<std::vector<double>> expected;        ///< the forecast, same shape as observed
};

/// The scan's settings.
struct ScanOptions {
  double max_radius_m = 500.0;  ///< largest circle radius (distance between cell centres, m), >= 0
  int max_window = 7;      ///< windows of 1..max_window (<= 8) cycles ending at the last cycle (clipped to W)
  int replicates = 999;    ///< Monte Carlo replicates R (0: no significance)
  std::uint64_t seed = 1;  ///< seed of the replicates' random streams
  int centre_stride = 1;   ///< every k-th active cell is a centre
  double cycle_days = 1.0;  ///< length of a cycle in days (for the recurrence interval)
  int secondary = 0;        ///< how many secondary clusters, not overlapping earlier ones, to report
  std::int64_t min_observed =
      1;  ///< only cylinders with at least this many events are scored (observed and
          ///< replicates alike), so lone events in near-empty cells do not mask clusters
};

/// A cylinder found by the scan.
struct ScanCluster {
  std::int64_t centre = -1;  ///< global index j * nx + i of the centre cell (-1: no zone with C > E)
  int centre_i = -1;
  int centre_j = -1;
  double radius_m = 0.0;  ///< distance from the centre to the farthest cell of the circle
  int cells = 0;          ///< active cells in the circle
  int window = 0;         ///< cycles in the window (ending at the last cycle)
  std::int64_t observed = 0;
  double expected = 0.0;
  double score = 0.0;    ///< log-likelihood ratio
  double p_value = 1.0;  ///< the reported p (Monte Carlo, or Gumbel when the Monte Carlo p is small)
  double p_monte_carlo = 1.0;
  double p_gumbel = 1.0;
  double recurrence_days = 0.0;       ///< cycle_days / p_value
  std::vector<std::int64_t> members;  ///< global indices of the circle's cells, in the order they were added
};

/// The scan's answer, the same on every rank.
struct ScanResult {
  ScanCluster best;                      ///< the most likely cluster
  std::vector<ScanCluster> secondary;    ///< non-overlapping secondary clusters, best first
  std::vector<double> replicate_maxima;  ///< max score of each replicate, replicate order
  double gumbel_location = 0.0;          ///< Gumbel fit to the replicate maxima: mu
  double gumbel_scale = 0.0;             ///< beta (0: no fit, fewer than 2 replicates or no spread)
  std::int64_t centres = 0;              ///< centres scanned
  std::int64_t zones = 0;                ///< cylinders per scan (circles x windows)
};

/// The space-time scan statistic.
class SpaceTimeScan {
 public:
  /// Not collective. Kulldorff's expectation-based Poisson score: C log(C/E) - (C - E) when C > E, else 0.
  [[nodiscard]] static double score(double observed, double expected) noexcept;

  /// Not collective. The p-value of `score` under the Gumbel law with location mu and scale beta:
  /// 1 - exp(-exp(-(score - mu) / beta)); 1 when beta <= 0.
  [[nodiscard]] static double gumbelTail(double score, double mu, double beta) noexcept;

  /// Collective over `comm` (every rank passes the same input). Scans the observed counts, draws and scans
  /// the replicates (split over the ranks) and returns the same result on every rank. Error(Usage) for a bad
  /// option, Error(InputData) for arrays of the wrong shape or negative/non-finite values (collective: every
  /// rank sees the same input).
  [[nodiscard]] static ScanResult run(MPI_Comm comm, const ScanInput& input, const ScanOptions& options);
};

}  // namespace vigie::verify
