#pragma once
/// A fixed-capacity ring of recent observed bins, shared by the baselines that only look at recent events
/// (naive, kde with a window, prospective).
///
/// Each slot holds one bin's counts per owned cell and the bin's start, end and observed duration (days).
/// With merging on, a bin that starts on the same whole day (floor of its start, days since the run's start)
/// as the newest slot is added to that slot, so sub-daily bins cost one slot per day: a window of W days then
/// never needs more than ceil(W) + 2 slots (the slots that begin after the oldest retained slot's middle
/// start on distinct days in the last ceil(W) + 1 days).
///
/// State: the number of slots in use and, for each slot k (0 = oldest), its counts `<prefix>_k` and three
/// scalars `<prefix>_k_start`, `<prefix>_k_end`, `<prefix>_k_days` stored as uniform fields (every cell holds
/// the value), so get/setState round-trip exactly and a checkpoint restores at any rank count.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace vigie::models {

/// One slot of a BinRing.
struct BinSlot {
  double start = 0.0;          ///< start of the first bin in the slot, days
  double end = 0.0;            ///< end of the last bin, days
  double days = 0.0;           ///< observed duration, days (time between merged bins is not counted)
  std::vector<double> counts;  ///< events per owned cell, owned-box order

  /// Middle of the slot's span: the age of its events is measured from here.
  [[nodiscard]] double middle() const noexcept { return 0.5 * (start + end); }
};

/// Ring of the most recent observed bins on the owned box.
class BinRing {
 public:
  /// `model` names the owner in error messages; `prefix` starts the state names.
  BinRing(std::string model, std::string prefix, std::size_t capacity, std::size_t cells,
          bool merge_same_day);

  /// Not collective. Adds a bin. A full ring drops its oldest slot if `may_evict`, else throws
  /// Error(Internal) (a windowed ring only fills up when bins arrive out of time order).
  void push(double t0, double t1, std::span<const double> counts, bool may_evict);
  /// Not collective. Drops the slots whose middle is `max_age` days or more before `now`; true if any was.
  bool dropOlderThan(double now, double max_age);

  [[nodiscard]] std::size_t size() const noexcept { return m_used; }
  [[nodiscard]] std::size_t capacity() const noexcept { return m_slots.size(); }
  /// Slot k, 0 = oldest.
  [[nodiscard]] const BinSlot& slot(std::size_t k) const { return m_slots[physical(k)]; }

  /// State field names in a fixed order (they depend on the capacity only).
  [[nodiscard]] std::vector<std::string> stateNames() const;
  /// Not collective. Copies a state field out; false if `state` is not one of this ring's names.
  bool getState(const std::string& state, std::span<double> owned) const;
  /// Not collective. Copies a state field in; false if `state` is not one of this ring's names.
  bool setState(const std::string& state, std::span<const double> owned);

 private:
  [[nodiscard]] std::size_t physical(std::size_t k) const noexcept { return (m_first + k) % m_slots.size(); }
  /// Slot index and field (0 counts, 1 start, 2 end, 3 days) of a state name; -1 for `<prefix>_used`, or
  /// false if the name is not this ring's.
  bool parse(const std::string& state, std::size_t& slot, int& field) const;

  std::string m_model;
  std::string m_prefix;
  bool m_merge;
  std::vector<BinSlot> m_slots;
  std::size_t m_first = 0;
  std::size_t m_used = 0;
};

}  // namespace vigie::models
