#include "geo/Projection.hpp"

#include <proj.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "core/Error.hpp"

namespace vigie::geo {

using core::Error;
using core::ExitCode;

// The context, the operation and the last message PROJ logged live together on the heap, so that the
// logger's user-data pointer stays valid when the Projection is moved.
struct Projection::State {
  PJ_CONTEXT* ctx = nullptr;
  PJ* pj = nullptr;
  std::string last_log;

  State() : ctx(proj_context_create()) {
    if (ctx == nullptr) throw Error(ExitCode::Internal, "PROJ: cannot create a context");
    // PROJ prints its errors to stderr by default; keep them for our own message instead, since
    // every failure is reported through core::Error anyway.
    proj_log_func(ctx, this, [](void* self, int level, const char* msg) {
      if (level <= PJ_LOG_ERROR && msg != nullptr) static_cast<State*>(self)->last_log = msg;
    });
  }
  ~State() {
    if (pj != nullptr) proj_destroy(pj);
    proj_context_destroy(ctx);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // PROJ's own reason for the last failure: the logged message if any, else the errno text.
  [[nodiscard]] std::string reason() const {
    if (!last_log.empty()) return last_log;
    const int err = proj_context_errno(ctx);
    const char* text = err != 0 ? proj_context_errno_string(ctx, err) : nullptr;
    return text != nullptr ? std::string(text) : std::string("unknown PROJ error");
  }
};

namespace {

std::string epsgName(int epsg) {
  return "EPSG:" + std::to_string(epsg);
}

}  // namespace

Projection::Projection(int from_epsg, int to_epsg)
    : m_state(std::make_unique<State>()), m_from_epsg(from_epsg), m_to_epsg(to_epsg) {
  State& s = *m_state;
  PJ* raw = proj_create_crs_to_crs(s.ctx, epsgName(from_epsg).c_str(), epsgName(to_epsg).c_str(), nullptr);
  if (raw == nullptr) {
    throw Error(ExitCode::Usage, "cannot build the projection from " + epsgName(from_epsg) + " to " +
                                     epsgName(to_epsg) + ": " + s.reason());
  }
  // EPSG:4326 is officially (latitude, longitude); normalising makes every geographic CRS (lon, lat)
  // so callers never depend on the authority's axis order.
  s.pj = proj_normalize_for_visualization(s.ctx, raw);
  proj_destroy(raw);
  if (s.pj == nullptr) {
    throw Error(ExitCode::Usage, "cannot normalise the axis order of the projection from " +
                                     epsgName(from_epsg) + " to " + epsgName(to_epsg) + ": " + s.reason());
  }
}

Projection::~Projection() = default;
Projection::Projection(Projection&&) noexcept = default;
Projection& Projection::operator=(Projection&&) noexcept = default;

std::pair<double, double> Projection::forward(double x, double y) const {
  double xs[1] = {x};
  double ys[1] = {y};
  transformPoints(PJ_FWD, xs, ys);
  return {xs[0], ys[0]};
}

std::pair<double, double> Projection::inverse(double x, double y) const {
  double xs[1] = {x};
  double ys[1] = {y};
  transformPoints(PJ_INV, xs, ys);
  return {xs[0], ys[0]};
}

void Projection::forward(std::span<double> xs, std::span<double> ys) const {
  transformPoints(PJ_FWD, xs, ys);
}

void Projection::inverse(std::span<double> xs, std::span<double> ys) const {
  transformPoints(PJ_INV, xs, ys);
}

void Projection::transformPoints(int direction, std::span<double> xs, std::span<double> ys) const {
  const std::string what = direction == PJ_FWD ? epsgName(m_from_epsg) + " to " + epsgName(m_to_epsg)
                                               : epsgName(m_to_epsg) + " to " + epsgName(m_from_epsg);
  if (xs.size() != ys.size()) {
    throw Error(ExitCode::Internal, "projection " + what + ": " + std::to_string(xs.size()) +
                                        " x values but " + std::to_string(ys.size()) + " y values");
  }
  if (xs.empty()) return;
  State& s = *m_state;
  s.last_log.clear();
  proj_errno_reset(s.pj);
  // proj_trans_generic overwrites a failing point with HUGE_VAL: keep the inputs to name it in the message.
  const std::size_t n = xs.size();
  const std::vector<double> x_in(xs.begin(), xs.end());
  const std::vector<double> y_in(ys.begin(), ys.end());
  proj_trans_generic(s.pj, static_cast<PJ_DIRECTION>(direction), xs.data(), sizeof(double), n, ys.data(),
                     sizeof(double), n, nullptr, 0, 0, nullptr, 0, 0);
  for (std::size_t k = 0; k < n; ++k) {
    if (!std::isfinite(xs[k]) || !std::isfinite(ys[k])) {
      std::ostringstream os;
      os.precision(17);
      os << "projection " << what << ": cannot transform point (" << x_in[k] << ", " << y_in[k]
         << "): " << s.reason();
      throw Error(ExitCode::InputData, os.str());
    }
  }
}

bool Projection::isProjectedMetres(int epsg) {
  if (epsg <= 0) return false;
  State s;
  PJ* crs = proj_create(s.ctx, epsgName(epsg).c_str());
  if (crs == nullptr) return false;
  bool ok = proj_get_type(crs) == PJ_TYPE_PROJECTED_CRS;
  if (ok) {
    PJ* cs = proj_crs_get_coordinate_system(s.ctx, crs);
    ok = cs != nullptr && proj_cs_get_axis_count(s.ctx, cs) >= 2;
    for (int axis = 0; ok && axis < 2; ++axis) {
      double to_metre = 0.0;
      ok = proj_cs_get_axis_info(s.ctx, cs, axis, nullptr, nullptr, nullptr, &to_metre, nullptr, nullptr,
                                 nullptr) != 0 &&
           to_metre == 1.0;
    }
    if (cs != nullptr) proj_destroy(cs);
  }
  proj_destroy(crs);
  return ok;
}

bool Projection::isValidEpsg(int epsg) {
  if (epsg <= 0) return false;
  State s;
  PJ* crs = proj_create(s.ctx, epsgName(epsg).c_str());
  if (crs == nullptr) return false;
  const bool is_crs = proj_is_crs(crs) != 0;
  proj_destroy(crs);
  return is_crs;
}

}  // namespace vigie::geo
