#include "models/baselines/BinRing.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

BinRing::BinRing(std::string model, std::string prefix, std::size_t capacity, std::size_t cells,
                 bool merge_same_day)
    : m_model(std::move(model)), m_prefix(std::move(prefix)), m_merge(merge_same_day), m_slots(capacity) {
  if (capacity == 0) throw Error(ExitCode::Internal, "model " + m_model + ": a bin ring needs one slot");
  for (auto& s : m_slots) s.counts.assign(cells, 0.0);
}

void BinRing::push(double t0, double t1, std::span<const double> counts, bool may_evict) {
  if (counts.size() != m_slots[0].counts.size())
    throw Error(ExitCode::Internal, "model " + m_model + ": bin counts do not match the owned box");
  if (m_used > 0) {
    BinSlot& newest = m_slots[physical(m_used - 1)];
    if (t0 < newest.end)
      throw Error(ExitCode::Internal, "model " + m_model + ": observed bin starting at day " +
                                          std::to_string(t0) + " overlaps the previous one (ends at " +
                                          std::to_string(newest.end) + ")");
    if (m_merge && std::floor(t0) == std::floor(newest.start)) {
      for (std::size_t k = 0; k < counts.size(); ++k) newest.counts[k] += counts[k];
      newest.end = t1;
      newest.days += t1 - t0;
      return;
    }
  }
  if (m_used == m_slots.size()) {
    if (!may_evict)
      throw Error(ExitCode::Internal, "model " + m_model + ": more recent bins than its ring holds");
    m_first = physical(1);
    --m_used;
  }
  BinSlot& s = m_slots[physical(m_used)];
  std::copy(counts.begin(), counts.end(), s.counts.begin());
  s.start = t0;
  s.end = t1;
  s.days = t1 - t0;
  ++m_used;
}

bool BinRing::dropOlderThan(double now, double max_age) {
  bool dropped = false;
  while (m_used > 0 && now - m_slots[m_first].middle() >= max_age) {
    std::fill(m_slots[m_first].counts.begin(), m_slots[m_first].counts.end(), 0.0);
    m_slots[m_first].start = m_slots[m_first].end = m_slots[m_first].days = 0.0;
    m_first = physical(1);
    --m_used;
    dropped = true;
  }
  return dropped;
}

std::vector<std::string> BinRing::stateNames() const {
  std::vector<std::string> names{m_prefix + "_used"};
  for (std::size_t k = 0; k < m_slots.size(); ++k) {
    const auto base = m_prefix + "_" + std::to_string(k);
    names.insert(names.end(), {base, base + "_start", base + "_end", base + "_days"});
  }
  return names;
}

bool BinRing::parse(const std::string& state, std::size_t& slot, int& field) const {
  if (state == m_prefix + "_used") {
    field = -1;
    return true;
  }
  if (state.rfind(m_prefix + "_", 0) != 0) return false;
  const auto rest = state.substr(m_prefix.size() + 1);
  const auto digits = rest.find_first_not_of("0123456789");
  if (digits == 0) return false;
  const auto number = rest.substr(0, digits);
  const auto suffix = digits == std::string::npos ? std::string() : rest.substr(digits);
  slot = static_cast<std::size_t>(std::stoul(number));
  if (slot >= m_slots.size() || number != std::to_string(slot)) return false;
  if (suffix.empty())
    field = 0;
  else if (suffix == "_start")
    field = 1;
  else if (suffix == "_end")
    field = 2;
  else if (suffix == "_days")
    field = 3;
  else
    return false;
  return true;
}

bool BinRing::getState(const std::string& state, std::span<double> owned) const {
  std::size_t k = 0;
  int field = 0;
  if (!parse(state, k, field)) return false;
  if (owned.size() != m_slots[0].counts.size())
    throw Error(ExitCode::Internal, "model " + m_model + ": state span does not match the owned box");
  if (field == -1) {
    std::fill(owned.begin(), owned.end(), static_cast<double>(m_used));
    return true;
  }
  const BinSlot& s = m_slots[physical(k)];
  switch (field) {
    case 0:
      std::copy(s.counts.begin(), s.counts.end(), owned.begin());
      break;
    case 1:
      std::fill(owned.begin(), owned.end(), s.start);
      break;
    case 2:
      std::fill(owned.begin(), owned.end(), s.end);
      break;
    default:
      std::fill(owned.begin(), owned.end(), s.days);
      break;
  }
  return true;
}

bool BinRing::setState(const std::string& state, std::span<const double> owned) {
  std::size_t k = 0;
  int field = 0;
  if (!parse(state, k, field)) return false;
  if (owned.size() != m_slots[0].counts.size())
    throw Error(ExitCode::Internal, "model " + m_model + ": state span does not match the owned box");
  if (field == -1) {
    const double used = uniformValue(m_model, state, owned);
    if (used < 0.0 || used > static_cast<double>(m_slots.size()) || used != std::floor(used))
      throw Error(ExitCode::InputData, "model " + m_model + ": state '" + state +
                                           "' = " + std::to_string(used) + " is not a slot count in [0, " +
                                           std::to_string(m_slots.size()) + "]");
    // Slot fields address slots by logical index (0 = oldest), so the fields may be set in any order.
    m_used = static_cast<std::size_t>(used);
    return true;
  }
  BinSlot& s = m_slots[physical(k)];
  switch (field) {
    case 0:
      for (const double c : owned)
        if (!(c >= 0.0) || !std::isfinite(c))
          throw Error(ExitCode::InputData,
                      "model " + m_model + ": state '" + state + "' has a negative count");
      std::copy(owned.begin(), owned.end(), s.counts.begin());
      break;
    case 1:
      s.start = uniformValue(m_model, state, owned);
      break;
    case 2:
      s.end = uniformValue(m_model, state, owned);
      break;
    default:
      s.days = uniformValue(m_model, state, owned);
      break;
  }
  return true;
}

}  // namespace vigie::models
