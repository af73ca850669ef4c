#pragma once
/// The tamper-evident audit log: one hash-chained JSON line per Vigie subcommand in <output.dir>/audit.jsonl.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigie::audit {

/// Schema tag written in every record; verifyAuditLog accepts only this value.
inline constexpr std::string_view kAuditSchema = "vigie.audit/1";

/// What one subcommand did; filled by the caller.
struct AuditRecord {
  std::string subcommand;                                   ///< e.g. "run", "check-config", "ingest"
  std::string config_hash;                                  ///< sha256 hex of the effective config text
  std::vector<std::pair<std::string, std::string>> inputs;  ///< (path, sha256 hex) of input files
  std::vector<std::string> outputs;                         ///< paths written (relative to output.dir)
  std::string git_hash;                                     ///< source revision of the binary
  std::uint64_t seed = 0;                                   ///< master random seed
  int ranks = 1, threads = 1;                               ///< MPI ranks and OpenMP threads per rank
  int exit_code = 0;                                        ///< the process exit code (vigie::core::ExitCode)
  std::string started_utc, finished_utc;                    ///< ISO-8601 UTC
  nlohmann::json extra = nlohmann::json::object();  ///< subcommand-specific summary (finite numbers only)
};

/// Not collective. SHA-256 of the bytes via OpenSSL EVP, as 64 lower-case hex digits.
std::string sha256Hex(std::string_view bytes);
/// Not collective. SHA-256 of a file's content, streamed; throws Error(InputData) naming the file if
/// unreadable.
std::string sha256File(const std::filesystem::path& p);

/// An append-only, hash-chained JSON Lines file.
class AuditLog {
 public:
  /// Not collective. Remembers the file; nothing is opened until append().
  explicit AuditLog(std::filesystem::path file);

  /// Not collective: call on rank 0 only. Appends one record, filling "who" (user, host, slurm_job_id, pid),
  /// "schema", "seq" (0-based), "prev" (sha256 hex of the previous line's bytes without its newline, 64 zeros
  /// for the first) and "hash" (sha256 of the record serialised without "hash"). Holds an exclusive flock on
  /// the file while reading the tail and appending; writes the line with one write() then fsync. Throws
  /// Error(Io) if the file cannot be locked or written or its last line is damaged, and Error(Internal) if
  /// r.extra holds a non-finite number.
  void append(const AuditRecord& r);

  /// The file this log appends to.
  [[nodiscard]] std::filesystem::path path() const;

 private:
  std::filesystem::path m_file;
};

/// Result of verification: ok, number of records, and for failures the 1-based line number and reason.
struct VerifyResult {
  bool ok;               ///< every line passed every check
  std::size_t records;   ///< number of records that passed before the first failure (all of them when ok)
  std::size_t bad_line;  ///< 1-based line of the first failure; 0 when ok or when the file is missing/empty
  std::string reason;    ///< why it failed, naming the file; empty when ok
};

/// Not collective. Checks every line: valid JSON in canonical form, schema, seq == line index,
/// prev == sha256 of the previous line bytes, hash == recomputed hash. Detects an edited, removed, inserted
/// or reordered record and a truncated last line, but not the removal of the last whole line(s) (see
/// docs/audit.md). A missing or empty file is not ok and the reason says so.
VerifyResult verifyAuditLog(const std::filesystem::path& file);

}  // namespace vigie::audit
