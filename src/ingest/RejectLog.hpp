#pragma once
/// <output.dir>/rejects.csv: one line per rejected row (source file, line, reason), appended run after run.
/// Never the row's content: a row may hold an address.
#include <filesystem>
#include <vector>

#include "ingest/EventReader.hpp"

namespace vigie::ingest {

/// Append-only CSV of rejects with the header `file,line,reason`.
class RejectLog {
 public:
  /// Not collective. Remembers the path; the file is created on the first append.
  explicit RejectLog(std::filesystem::path csv);

  /// Not collective (call on one rank). Appends one line per reject, never truncating the file; writes the
  /// header first when the file is new or empty; fsyncs before returning. Throws core::Error(Io) naming the
  /// file if it cannot be written.
  void append(const std::vector<Reject>& rejects) const;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }

 private:
  std::filesystem::path m_path;
};

}  // namespace vigie::ingest
