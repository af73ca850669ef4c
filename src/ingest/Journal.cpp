#include "ingest/Journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/Error.hpp"
#include "core/Log.hpp"

namespace vigie::ingest {

using core::Error;
using core::ExitCode;
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'V', 'I', 'G', 'I', 'E', 'J', 'N', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kPayloadBytes = 40;

std::uint32_t crcOf(const unsigned char* data, std::size_t n) {
  return static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), data, static_cast<uInt>(n)));
}

void putLe(unsigned char* out, std::uint64_t v, int width) noexcept {
  for (int k = 0; k < width; ++k) out[k] = static_cast<unsigned char>(v >> (8 * k));
}

std::uint64_t getLe(const unsigned char* in, int width) noexcept {
  std::uint64_t v = 0;
  for (int k = width - 1; k >= 0; --k) v = (v << 8) | in[k];
  return v;
}

std::string errnoText() {
  return std::strerror(errno);
}

// Writes all of `data` at `offset`, retrying short writes and EINTR.
bool writeAll(int fd, const unsigned char* data, std::size_t n, off_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
    offset += w;
  }
  return true;
}

std::string readWhole(int fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw Error(ExitCode::InputData, path.string() + ": cannot stat: " + errnoText());
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Error(ExitCode::InputData, path.string() + ": cannot read: " + errnoText());
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  bytes.resize(got);
  return bytes;
}

std::string headerBytes(const std::string& fingerprint) {
  std::string h(kMagic, sizeof kMagic);
  unsigned char word[4];
  putLe(word, kVersion, 4);
  h.append(reinterpret_cast<const char*>(word), 4);
  putLe(word, fingerprint.size(), 4);
  h.append(reinterpret_cast<const char*>(word), 4);
  h += fingerprint;
  putLe(word, crcOf(reinterpret_cast<const unsigned char*>(h.data()), h.size()), 4);
  h.append(reinterpret_cast<const char*>(word), 4);
  return h;
}

void fsyncPath(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw Error(ExitCode::Io, path.string() + ": cannot open to fsync: " + errnoText());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(ExitCode::Io, path.string() + ": fsync failed: " + errnoText());
}

struct Parsed {
  std::vector<Event> records;
  std::size_t good_bytes = 0;  // header + intact records
  std::size_t header_bytes = 0;
};

// Checks the header against `fingerprint` and every record's CRC. Only the last record may be bad (a crash
// during the last append, before its fsync); anything earlier is corruption the journal cannot explain.
Parsed parse(const std::string& bytes, const fs::path& path, const std::string& fingerprint) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::string where = path.string();
  if (bytes.size() < 20 || std::memcmp(data, kMagic, sizeof kMagic) != 0) {
    throw Error(ExitCode::InputData, where + ": not a Vigie journal (bad magic or header)");
  }
  const auto version = static_cast<std::uint32_t>(getLe(data + 8, 4));
  const auto fp_len = static_cast<std::size_t>(getLe(data + 12, 4));
  if (version != kVersion) {
    throw Error(ExitCode::InputData, where + ": journal version " + std::to_string(version) + ", expected " +
                                         std::to_string(kVersion));
  }
  if (bytes.size() < 20 + fp_len) throw Error(ExitCode::InputData, where + ": truncated journal header");
  const std::size_t header = 16 + fp_len + 4;
  if (static_cast<std::uint32_t>(getLe(data + 16 + fp_len, 4)) != crcOf(data, 16 + fp_len)) {
    throw Error(ExitCode::InputData, where + ": journal header fails its CRC check");
  }
  const std::string stored(bytes.data() + 16, fp_len);
  if (stored != fingerprint) {
    throw Error(ExitCode::InputData,
                where + ": this journal was written for a different case (grid, bins, time zone or " +
                    "categories): stored '" + stored + "', now '" + fingerprint +
                    "'; use a fresh output.dir");
  }
  Parsed p;
  p.header_bytes = header;
  const std::size_t full = (bytes.size() - header) / Journal::kRecordBytes;
  p.records.reserve(full);
  p.good_bytes = header;
  for (std::size_t k = 0; k < full; ++k) {
    const unsigned char* rec = data + header + k * Journal::kRecordBytes;
    if (static_cast<std::uint32_t>(getLe(rec + kPayloadBytes, 4)) != crcOf(rec, kPayloadBytes)) {
      if (k + 1 == full) break;  // the torn last record of an interrupted append
      throw Error(ExitCode::InputData, where + ": record " + std::to_string(k + 1) + " of " +
                                           std::to_string(full) + " (byte " +
                                           std::to_string(header + k * Journal::kRecordBytes) +
                                           ") fails its CRC check: the journal is corrupt");
    }
    p.records.push_back(Journal::decode(rec));
    p.good_bytes += Journal::kRecordBytes;
  }
  return p;
}

}  // namespace

void Journal::encode(const Event& e, unsigned char* out) noexcept {
  putLe(out + 0, static_cast<std::uint64_t>(e.civil_seconds), 8);
  putLe(out + 8, static_cast<std::uint64_t>(e.cell), 8);
  putLe(out + 16, static_cast<std::uint32_t>(e.category), 4);
  out[20] = static_cast<unsigned char>(e.precision);
  out[21] = static_cast<unsigned char>(e.flag);
  putLe(out + 22, e.hour_of_day, 2);
  putLe(out + 24, e.key_hi, 8);
  putLe(out + 32, e.key_lo, 8);
}

Event Journal::decode(const unsigned char* in) noexcept {
  Event e;
  e.civil_seconds = static_cast<std::int64_t>(getLe(in + 0, 8));
  e.cell = static_cast<std::int64_t>(getLe(in + 8, 8));
  e.category = static_cast<std::int32_t>(static_cast<std::uint32_t>(getLe(in + 16, 4)));
  e.precision = static_cast<TimePrecision>(in[20]);
  e.flag = static_cast<EventFlag>(in[21]);
  e.hour_of_day = static_cast<std::uint16_t>(getLe(in + 22, 2));
  e.key_hi = getLe(in + 24, 8);
  e.key_lo = getLe(in + 32, 8);
  return e;
}

Journal::Journal(fs::path path, std::string fingerprint)
    : m_path(std::move(path)), m_fingerprint(std::move(fingerprint)) {
  std::error_code ec;
  if (!fs::exists(m_path, ec)) create();
  m_fd = ::open(m_path.c_str(), O_RDWR | O_CLOEXEC);
  if (m_fd < 0)
    throw Error(ExitCode::InputData, m_path.string() + ": cannot open the journal: " + errnoText());
  try {
    const std::string bytes = readWhole(m_fd, m_path);
    Parsed p = parse(bytes, m_path, m_fingerprint);
    m_header_bytes = static_cast<std::int64_t>(p.header_bytes);
    if (p.good_bytes < bytes.size()) {
      m_repaired_bytes = static_cast<std::int64_t>(bytes.size() - p.good_bytes);
      if (::ftruncate(m_fd, static_cast<off_t>(p.good_bytes)) != 0 || ::fsync(m_fd) != 0) {
        throw Error(ExitCode::Io, m_path.string() + ": cannot truncate the torn tail: " + errnoText());
      }
      VIGIE_LOG_WARN(
          m_path.string() << ": removed " << m_repaired_bytes
                          << " bytes of an interrupted append (records not fsync'd before a crash)");
    }
    m_records = std::move(p.records);
    m_keys.reserve(m_records.size());
    for (const Event& e : m_records) m_keys.emplace(e.key_hi, e.key_lo);
  } catch (...) {
    ::close(m_fd);
    m_fd = -1;
    throw;
  }
}

Journal::~Journal() {
  if (m_fd >= 0) ::close(m_fd);
}

Journal::Journal(Journal&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_fingerprint(std::move(other.m_fingerprint)),
      m_fd(std::exchange(other.m_fd, -1)),
      m_header_bytes(other.m_header_bytes),
      m_repaired_bytes(other.m_repaired_bytes),
      m_records(std::move(other.m_records)),
      m_keys(std::move(other.m_keys)) {}

void Journal::create() {
  // The header goes through a temporary file and a rename, so a journal never exists with half a header.
  fs::path temp = m_path;
  temp += ".tmp-" + std::to_string(::getpid());
  const std::string header = headerBytes(m_fingerprint);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ExitCode::Io, temp.string() + ": cannot create the journal: " + errnoText());
  const bool ok = writeAll(fd, reinterpret_cast<const unsigned char*>(header.data()), header.size(), 0) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (!ok) {
    fs::remove(temp, ec);
    throw Error(ExitCode::Io, temp.string() + ": cannot write the journal header: " + errnoText());
  }
  fs::rename(temp, m_path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw Error(ExitCode::Io, m_path.string() + ": cannot create the journal: " + ec.message());
  }
  // The new directory entry is durable only once the folder itself is fsync'd.
  const fs::path dir = m_path.has_parent_path() ? m_path.parent_path() : fs::path(".");
  fsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

std::size_t Journal::append(std::span<const Event> events) {
  std::vector<unsigned char> buffer;
  std::vector<Event> added;
  std::unordered_set<std::pair<std::uint64_t, std::uint64_t>, KeyHash> batch;
  for (const Event& e : events) {
    const std::pair<std::uint64_t, std::uint64_t> key{e.key_hi, e.key_lo};
    if (m_keys.count(key) != 0 || !batch.insert(key).second) continue;
    added.push_back(e);
  }
  if (added.empty()) return 0;
  buffer.resize(added.size() * kRecordBytes);
  for (std::size_t k = 0; k < added.size(); ++k) {
    unsigned char* rec = buffer.data() + k * kRecordBytes;
    encode(added[k], rec);
    putLe(rec + kPayloadBytes, crcOf(rec, kPayloadBytes), 4);
  }
  const auto end = static_cast<off_t>(m_header_bytes + size() * static_cast<std::int64_t>(kRecordBytes));
  if (!writeAll(m_fd, buffer.data(), buffer.size(), end) || ::fsync(m_fd) != 0) {
    const std::string reason = errnoText();
    // Cut what may have been written, so a later append in this process does not follow a torn record.
    if (::ftruncate(m_fd, end) == 0) (void)::fsync(m_fd);
    throw Error(ExitCode::Io, m_path.string() + ": cannot append to the journal: " + reason);
  }
  m_records.insert(m_records.end(), added.begin(), added.end());
  for (const Event& e : added) m_keys.emplace(e.key_hi, e.key_lo);
  return added.size();
}

std::vector<Event> Journal::readAll() const {
  Parsed p = parse(readWhole(m_fd, m_path), m_path, m_fingerprint);
  return std::move(p.records);
}

bool Journal::contains(std::uint64_t key_hi, std::uint64_t key_lo) const {
  return m_keys.count({key_hi, key_lo}) != 0;
}

}  // namespace vigie::ingest
