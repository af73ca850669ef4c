#include "audit/AuditLog.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

#include "core/Error.hpp"

namespace vigie::audit {
namespace {

using core::Error;
using core::ExitCode;
using Json = nlohmann::ordered_json;

const std::string kZeroHash(64, '0');

/// The keys of a record, in the order they are written; verify rejects any other set or order.
constexpr std::array<std::string_view, 6> kRecordKeys = {"schema", "seq", "prev", "who", "what", "hash"};

std::string errnoText() {
  return std::strerror(errno);
}

/// The one serialisation used for hashing and writing. Invalid UTF-8 (possible in POSIX paths) is replaced
/// rather than thrown on, so a record can always be written and its text re-parses to the same bytes.
std::string canonical(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/// Incremental SHA-256 over an EVP context that is freed on every path.
class Sha256 {
 public:
  Sha256() : m_ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1)
      throw Error(ExitCode::Internal, "OpenSSL: cannot initialise a SHA-256 context");
  }
  void update(const void* data, std::size_t n) {
    if (EVP_DigestUpdate(m_ctx.get(), data, n) != 1)
      throw Error(ExitCode::Internal, "OpenSSL: SHA-256 update failed");
  }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(m_ctx.get(), digest.data(), &len) != 1)
      throw Error(ExitCode::Internal, "OpenSSL: SHA-256 finalisation failed");
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::size_t{2} * len);
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(kDigits[digest[i] >> 4]);
      out.push_back(kDigits[digest[i] & 0x0f]);
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> m_ctx;
};

/// Closes a POSIX descriptor on scope exit; closing also releases the flock.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
  }
  [[nodiscard]] int get() const { return m_fd; }

 private:
  int m_fd;
};

/// Throws unless every number in j is finite: nlohmann would write NaN and infinities as null, silently
/// changing what the caller meant to record.
void requireFinite(const nlohmann::json& j, const std::string& where) {
  if (j.is_number_float() && !std::isfinite(j.get<double>()))
    throw Error(ExitCode::Internal, "audit record: extra" + where + " is not a finite number");
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) requireFinite(value, where + "." + key);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) requireFinite(j[i], where + "[" + std::to_string(i) + "]");
  }
}

std::string userName() {
  // getpwuid_r rather than getpwuid: the caller may run OpenMP threads, and getpwuid shares a static buffer.
  long size_hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size_hint > 0 ? static_cast<std::size_t>(size_hint) : 16384, '\0');
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr)
    return found->pw_name;
  // Containers often run with a uid that has no passwd entry.
  if (const char* env = std::getenv("USER"); env != nullptr && *env != '\0') return env;
  return "uid:" + std::to_string(::geteuid());
}

std::string hostName() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

Json who() {
  Json j = Json::object();
  j["user"] = userName();
  j["host"] = hostName();
  if (const char* job = std::getenv("SLURM_JOB_ID"); job != nullptr && *job != '\0')
    j["slurm_job_id"] = job;
  else
    j["slurm_job_id"] = nullptr;
  j["pid"] = static_cast<std::int64_t>(::getpid());
  return j;
}

Json what(const AuditRecord& r) {
  Json j = Json::object();
  j["subcommand"] = r.subcommand;
  j["config_hash"] = r.config_hash;
  Json inputs = Json::array();
  for (const auto& [path, sha] : r.inputs) {
    Json one = Json::object();
    one["path"] = path;
    one["sha256"] = sha;
    inputs.push_back(std::move(one));
  }
  j["inputs"] = std::move(inputs);
  j["outputs"] = r.outputs;
  j["git_hash"] = r.git_hash;
  j["seed"] = r.seed;
  j["ranks"] = r.ranks;
  j["threads"] = r.threads;
  j["exit_code"] = r.exit_code;
  j["started_utc"] = r.started_utc;
  j["finished_utc"] = r.finished_utc;
  // nlohmann::json sorts object keys, so converting it keeps the written order stable run to run.
  j["extra"] = Json(r.extra);
  return j;
}

/// Reads exactly n bytes at offset, or throws Error(Io) naming the file.
void preadAll(int fd, char* out, std::size_t n, off_t offset, const std::filesystem::path& file) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, n, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw Error(ExitCode::Io, "audit log " + file.string() + ": cannot read its last record: " +
                                    (got < 0 ? errnoText() : std::string("unexpected end of file")));
    out += got;
    n -= static_cast<std::size_t>(got);
    offset += got;
  }
}

/// The last line (without its newline) of a non-empty file of the given size.
std::string readLastLine(int fd, off_t size, const std::filesystem::path& file) {
  char last = 0;
  preadAll(fd, &last, 1, size - 1, file);
  if (last != '\n')
    throw Error(ExitCode::Io,
                "audit log " + file.string() +
                    ": the last line has no trailing newline (an interrupted or truncated write); "
                    "refusing to append to a damaged log, run `vigie audit verify` on it");
  // Scan backwards in blocks so that appending costs the same however long the log grows.
  constexpr off_t kBlock = 4096;
  std::string line;
  off_t end = size - 1;  // the trailing newline is excluded
  while (end > 0) {
    const off_t begin = end > kBlock ? end - kBlock : 0;
    std::string block(static_cast<std::size_t>(end - begin), '\0');
    preadAll(fd, block.data(), block.size(), begin, file);
    const auto newline = block.rfind('\n');
    if (newline != std::string::npos) {
      line.insert(0, block, newline + 1);
      return line;
    }
    line.insert(0, block);
    end = begin;
  }
  return line;
}

/// Checks one complete line (without newline) as record number index (0-based); returns why it fails.
std::optional<std::string> checkLine(const std::string& line, std::size_t index,
                                     const std::string& expected_prev) {
  if (line.empty()) return "empty line";
  const Json rec = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (rec.is_discarded()) return "not valid JSON";
  if (!rec.is_object()) return "not a JSON object";
  if (rec.size() != kRecordKeys.size())
    return "unexpected set of keys (expected schema, seq, prev, who, what, hash)";
  std::size_t k = 0;
  for (const auto& [key, value] : rec.items()) {
    if (key != kRecordKeys[k++])
      return "unexpected set or order of keys (expected schema, seq, prev, who, what, hash)";
  }
  if (!rec["schema"].is_string() || rec["schema"].get<std::string>() != kAuditSchema)
    return "schema is not \"" + std::string(kAuditSchema) + "\"";
  if (!rec["seq"].is_number_unsigned()) return "seq is not a non-negative integer";
  if (const auto seq = rec["seq"].get<std::uint64_t>(); seq != index)
    return "seq is " + std::to_string(seq) + ", expected " + std::to_string(index) +
           " (a record was removed, inserted or reordered)";
  if (!rec["prev"].is_string() || rec["prev"].get<std::string>() != expected_prev)
    return "prev does not match the sha256 of the previous line (the previous line was altered, or records "
           "were "
           "removed, inserted or reordered)";
  if (!rec["who"].is_object() || !rec["what"].is_object()) return "who or what is not an object";
  if (!rec["hash"].is_string()) return "hash is not a string";
  Json body = rec;
  body.erase("hash");
  if (sha256Hex(canonical(body)) != rec["hash"].get<std::string>())
    return "hash does not match the record's content (the record was edited)";
  // The hash covers the parsed content; this catches edits to the bytes alone (spacing, escapes, number
  // forms).
  if (canonical(rec) != line) return "not in canonical form (the line's bytes were edited)";
  return std::nullopt;
}

}  // namespace

std::string sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex();
}

std::string sha256File(const std::filesystem::path& p) {
  // POSIX read() rather than a stream: it reports why a read failed (EISDIR, EIO) instead of a bare failbit.
  const FileDescriptor fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    throw Error(ExitCode::InputData, "cannot open " + p.string() + " to hash it: " + errnoText());
  Sha256 sha;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(ExitCode::InputData, "cannot read " + p.string() + " to hash it: " + errnoText());
    if (n == 0) break;
    sha.update(buffer.data(), static_cast<std::size_t>(n));
  }
  return sha.hex();
}

AuditLog::AuditLog(std::filesystem::path file) : m_file(std::move(file)) {}

std::filesystem::path AuditLog::path() const {
  return m_file;
}

void AuditLog::append(const AuditRecord& r) {
  requireFinite(r.extra, "");
  const std::string name = m_file.string();

  const FileDescriptor fd(::open(m_file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw Error(ExitCode::Io, "cannot open audit log " + name + ": " + errnoText());
  // The lock spans reading the tail and writing, so two processes (or two runs sharing output.dir) cannot
  // both chain onto the same previous line. Some parallel file systems (Lustre mounted without -o flock)
  // refuse flock; failing loudly there is safer than a chain that silently forks.
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw Error(ExitCode::Io, "cannot lock audit log " + name + ": " + errnoText());
  }

  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw Error(ExitCode::Io, "cannot stat audit log " + name + ": " + errnoText());
  const off_t old_size = st.st_size;

  std::uint64_t seq = 0;
  std::string prev = kZeroHash;
  if (old_size > 0) {
    const std::string last = readLastLine(fd.get(), old_size, m_file);
    const Json last_rec = Json::parse(last, nullptr, /*allow_exceptions=*/false);
    if (last_rec.is_discarded() || !last_rec.is_object() || !last_rec.contains("seq") ||
        !last_rec["seq"].is_number_unsigned())
      throw Error(ExitCode::Io, "audit log " + name +
                                    ": the last line is not a valid audit record; refusing to append to a "
                                    "damaged log, run `vigie audit verify` on it");
    seq = last_rec["seq"].get<std::uint64_t>() + 1;
    prev = sha256Hex(last);
  }

  Json rec = Json::object();
  rec["schema"] = kAuditSchema;
  rec["seq"] = seq;
  rec["prev"] = prev;
  rec["who"] = who();
  rec["what"] = what(r);
  rec["hash"] = sha256Hex(canonical(rec));
  const std::string line = canonical(rec) + '\n';

  // One write() of the whole line; the loop only continues after a short write (e.g. a signal), and a
  // failure part-way is rolled back so the log never keeps half a record.
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd.get(), line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? errnoText() : "no progress";
      if (::ftruncate(fd.get(), old_size) != 0) {
        throw Error(ExitCode::Io, "cannot append to audit log " + name + ": " + why +
                                      "; truncating back also failed, the last line is now incomplete");
      }
      throw Error(ExitCode::Io, "cannot append to audit log " + name + ": " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0)
    throw Error(ExitCode::Io, "cannot fsync audit log " + name + ": " + errnoText());
  if (old_size == 0) {
    // A new file's directory entry is only durable once its directory is synced too.
    const auto dir = m_file.has_parent_path() ? m_file.parent_path() : std::filesystem::path(".");
    const FileDescriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  }
}

VerifyResult verifyAuditLog(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {false, 0, 0, "audit log " + name + " does not exist"};
  std::ifstream in(file, std::ios::binary);
  if (!in) return {false, 0, 0, "cannot open audit log " + name + ": " + errnoText()};
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return {false, 0, 0, "cannot read audit log " + name};
  if (content.empty()) return {false, 0, 0, "audit log " + name + " is empty"};

  std::string prev = kZeroHash;
  std::size_t index = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const std::size_t line_no = index + 1;
    const auto newline = content.find('\n', pos);
    if (newline == std::string::npos) {
      return {false, index, line_no,
              name + ":" + std::to_string(line_no) +
                  ": the last line has no trailing newline (truncated or interrupted write)"};
    }
    const std::string line = content.substr(pos, newline - pos);
    if (const auto why = checkLine(line, index, prev))
      return {false, index, line_no, name + ":" + std::to_string(line_no) + ": " + *why};
    prev = sha256Hex(line);
    ++index;
    pos = newline + 1;
  }
  return {true, index, 0, ""};
}

}  // namespace vigie::audit
