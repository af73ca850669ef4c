#pragma once
/// Coordinate transformation between two EPSG coordinate reference systems, backed by PROJ.
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace vigie::geo {

/// A transformation from one EPSG CRS to another, with axes always in (x, y) = (easting, northing)
/// or (longitude, latitude) order whatever the CRS definition says.
/// Each object owns its PROJ context: distinct objects may be used from distinct threads, one object
/// must not be used from two threads at once. Non-copyable, movable; a moved-from object may only be
/// destroyed or assigned to.
class Projection {
 public:
  /// Not collective. Throws core::Error(ExitCode::Usage) naming both codes if PROJ cannot build the
  /// transformation.
  Projection(int from_epsg, int to_epsg);
  ~Projection();
  Projection(const Projection&) = delete;
  Projection& operator=(const Projection&) = delete;
  Projection(Projection&&) noexcept;
  Projection& operator=(Projection&&) noexcept;

  /// Not collective. Transforms one point from the source to the target CRS; throws core::Error(InputData) if
  /// PROJ cannot transform it (for instance outside the CRS's domain).
  [[nodiscard]] std::pair<double, double> forward(double x, double y) const;
  /// Not collective. Transforms one point from the target back to the source CRS; throws like forward().
  [[nodiscard]] std::pair<double, double> inverse(double x, double y) const;
  /// Not collective. Transforms the points (xs[k], ys[k]) in place, source to target; xs and ys must have the
  /// same size. Throws core::Error(InputData) naming the first point that could not be transformed.
  void forward(std::span<double> xs, std::span<double> ys) const;
  /// Not collective. Transforms the points (xs[k], ys[k]) in place, target back to source.
  void inverse(std::span<double> xs, std::span<double> ys) const;

  /// EPSG code of the source CRS.
  [[nodiscard]] int fromEpsg() const noexcept { return m_from_epsg; }
  /// EPSG code of the target CRS.
  [[nodiscard]] int toEpsg() const noexcept { return m_to_epsg; }

  /// Not collective. True if PROJ's database knows `epsg` as a coordinate reference system.
  [[nodiscard]] static bool isValidEpsg(int epsg);
  /// True if the EPSG code is a projected CRS whose two horizontal axes are in metres.
  [[nodiscard]] static bool isProjectedMetres(int epsg);

 private:
  struct State;
  void transformPoints(int direction, std::span<double> xs, std::span<double> ys) const;

  std::unique_ptr<State> m_state;
  int m_from_epsg;
  int m_to_epsg;
};

}  // namespace vigie::geo
