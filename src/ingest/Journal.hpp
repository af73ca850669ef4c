#pragma once
/// The append-only, fsync'd journal of accepted events (<output.dir>/obs.journal): the source of truth that
/// obs.h5 is rebuilt or completed from, so a kill -9 never loses an fsync'd event nor counts one twice.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ingest/Event.hpp"

namespace vigie::ingest {

/// Layout: a header ("VIGIEJNL", uint32 version, uint32 fingerprint length, the fingerprint, CRC32 of all
/// that) written once through a temporary file and a rename, then records of 44 bytes: the Event's fields
/// little-endian (40 bytes) and the CRC32 of those bytes. A partial or bad-CRC last record (a crash during an
/// append) is truncated away with a warning on open; a bad record followed by good ones is corruption and an
/// error. Rank 0 alone uses it.
class Journal {
 public:
  /// Bytes of one record on disk.
  static constexpr std::size_t kRecordBytes = 44;

  /// Not collective. Opens `path`, creating it (and fsyncing its folder) if absent. Error(InputData) if the
  /// stored fingerprint differs from `fingerprint` (the grid, bins or categories changed: use a fresh
  /// output.dir), if the header is malformed or if a record before the last is corrupt (file and record
  /// named).
  Journal(std::filesystem::path path, std::string fingerprint);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;

  /// Not collective. Appends the events whose key is not in the journal yet (duplicates inside `events`
  /// too), then fsyncs. Returns how many records were added (0 when everything was there).
  std::size_t append(std::span<const Event> events);
  /// Not collective. Every record, in journal order.
  [[nodiscard]] const std::vector<Event>& records() const noexcept { return m_records; }
  /// Not collective. Re-reads and checks every record from disk (a copy; records() is the in-memory view).
  [[nodiscard]] std::vector<Event> readAll() const;
  /// Number of records.
  [[nodiscard]] std::int64_t size() const noexcept { return static_cast<std::int64_t>(m_records.size()); }
  /// Whether a record with this key is in the journal.
  [[nodiscard]] bool contains(std::uint64_t key_hi, std::uint64_t key_lo) const;
  /// Bytes cut off the end on open (0 when the file was clean).
  [[nodiscard]] std::int64_t repairedBytes() const noexcept { return m_repaired_bytes; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }
  [[nodiscard]] const std::string& fingerprint() const noexcept { return m_fingerprint; }

  /// Not collective. The 40 payload bytes of an event, little-endian, as stored.
  static void encode(const Event& e, unsigned char* out) noexcept;
  /// Not collective. Inverse of encode().
  static Event decode(const unsigned char* in) noexcept;

 private:
  struct KeyHash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& k) const noexcept {
      return static_cast<std::size_t>(k.first ^ (k.second * 0x9E3779B97F4A7C15ULL));
    }
  };

  void create();
  // Reads the header and records; truncates a bad tail. Returns the records.
  std::vector<Event> load(bool repair);

  std::filesystem::path m_path;
  std::string m_fingerprint;
  int m_fd = -1;
  std::int64_t m_header_bytes = 0;
  std::int64_t m_repaired_bytes = 0;
  std::vector<Event> m_records;
  std::unordered_set<std::pair<std::uint64_t, std::uint64_t>, KeyHash> m_keys;
};

}  // namespace vigie::ingest
