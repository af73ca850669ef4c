#include "ingest/EventReader.hpp"

#include <fast_float/fast_float.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <new>
#include <span>
#include <unordered_map>
#include <utility>

#include "core/Error.hpp"
#include "geo/Projection.hpp"
#include "grid/CityGrid.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;

constexpr std::size_t kBlock = std::size_t{4} << 20;      // bytes read per system call
constexpr std::size_t kMaxRecord = std::size_t{1} << 20;  // a longer record is an unclosed quote
constexpr std::size_t kBatch = 8192;                      // rows projected together
constexpr std::uint16_t kHourUnknown = 0xFFFF;

// The bytes of a file, plain or gzip. Detection is by the gzip magic bytes, never the file name: exports are
// renamed, and a ".csv" may be compressed.
class ByteInput {
 public:
  explicit ByteInput(const std::filesystem::path& path) : m_path(path.string()) {
    m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) throw Error(ExitCode::InputData, m_path + ": cannot open: " + std::strerror(errno));
    std::array<unsigned char, 2> magic{};
    const auto got = ::pread(m_fd, magic.data(), magic.size(), 0);
    ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      // zlib's inflate directly rather than gzread: on a truncated or corrupt stream every byte inflated
      // before the damage is still handed over, so the error names the line where the good data stops.
      m_gzip = true;
      if (inflateInit2(&m_zs, 16 + MAX_WBITS) != Z_OK) {
        ::close(m_fd);
        throw Error(ExitCode::InputData, m_path + ": cannot start the gzip decoder");
      }
      m_in.resize(std::size_t{1} << 20);
    } else {
      struct stat st {};
      if (::fstat(m_fd, &st) == 0 && S_ISREG(st.st_mode))
        m_plain_size = static_cast<std::uint64_t>(st.st_size);
    }
  }
  ~ByteInput() {
    if (m_gzip) inflateEnd(&m_zs);
    if (m_fd >= 0) ::close(m_fd);
  }
  ByteInput(const ByteInput&) = delete;
  ByteInput& operator=(const ByteInput&) = delete;

  // Up to n bytes; 0 at the end. On failure returns -1 and sets error() (after first returning the good
  // bytes).
  std::int64_t read(char* dst, std::size_t n) {
    if (m_gzip) return inflateSome(dst, n);
    for (;;) {
      const auto got = ::read(m_fd, dst, n);
      if (got >= 0) return got;
      if (errno == EINTR) continue;
      m_error = std::string("read error: ") + std::strerror(errno);
      return -1;
    }
  }
  [[nodiscard]] const std::string& error() const noexcept { return m_error; }
  // Size of a plain regular file; 0 for gzip (the inflated size is unknown) and for pipes.
  [[nodiscard]] std::uint64_t plainSize() const noexcept { return m_plain_size; }

 private:
  std::int64_t inflateSome(char* dst, std::size_t n) {
    if (!m_error.empty()) return -1;
    if (m_done) return 0;
    m_zs.next_out = reinterpret_cast<Bytef*>(dst);
    m_zs.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1U << 30));
    const auto want = m_zs.avail_out;
    while (m_zs.avail_out > 0) {
      if (m_zs.avail_in == 0) {
        ssize_t got = 0;
        do {
          got = ::read(m_fd, m_in.data(), m_in.size());
        } while (got < 0 && errno == EINTR);
        if (got < 0) {
          m_error = std::string("read error: ") + std::strerror(errno);
          break;
        }
        if (got == 0) {
          if (!m_stream_ended) m_error = "truncated or corrupt gzip stream (unexpected end of file)";
          m_done = true;
          break;
        }
        m_zs.next_in = reinterpret_cast<Bytef*>(m_in.data());
        m_zs.avail_in = static_cast<uInt>(got);
        if (m_stream_ended) {
          // Another gzip member follows (concatenated files are valid gzip).
          inflateReset(&m_zs);
          m_stream_ended = false;
        }
      }
      const int ret = inflate(&m_zs, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        m_stream_ended = true;
        if (m_zs.avail_in > 0) {
          inflateReset(&m_zs);
          m_stream_ended = false;
        }
        continue;
      }
      if (ret != Z_OK && ret != Z_BUF_ERROR) {
        m_error = std::string("truncated or corrupt gzip stream (zlib: ") +
                  (m_zs.msg != nullptr ? m_zs.msg : "?") + ")";
        break;
      }
    }
    const auto produced = static_cast<std::int64_t>(want - m_zs.avail_out);
    if (produced > 0) return produced;
    return m_error.empty() ? 0 : -1;
  }

  std::string m_path;
  int m_fd = -1;
  bool m_gzip = false;
  bool m_stream_ended = false;
  bool m_done = false;
  z_stream m_zs{};
  std::vector<char> m_in;
  std::uint64_t m_plain_size = 0;
  std::string m_error;
};

// Zeroed memory for a large table, on transparent huge pages where the kernel allows: the row table is probed
// at random, and with 4 KiB pages nearly every probe of a large file would also miss the TLB.
class TableMemory {
 public:
  TableMemory() = default;
  explicit TableMemory(std::size_t bytes) : m_bytes(bytes + kHuge) {
    void* p = ::mmap(nullptr, m_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    m_base = p;
    auto addr = reinterpret_cast<std::uintptr_t>(p);
    addr = (addr + kHuge - 1) & ~(kHuge - 1);
    m_data = reinterpret_cast<void*>(addr);
    if (bytes >= kHuge) ::madvise(m_data, bytes, MADV_HUGEPAGE);
  }
  ~TableMemory() {
    if (m_base != nullptr) ::munmap(m_base, m_bytes);
  }
  TableMemory(TableMemory&& o) noexcept
      : m_base(std::exchange(o.m_base, nullptr)), m_data(o.m_data), m_bytes(o.m_bytes) {}
  TableMemory& operator=(TableMemory&& o) noexcept {
    std::swap(m_base, o.m_base);
    std::swap(m_data, o.m_data);
    std::swap(m_bytes, o.m_bytes);
    return *this;
  }
  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;
  [[nodiscard]] void* data() const noexcept { return m_data; }

 private:
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  void* m_base = nullptr;
  void* m_data = nullptr;
  std::size_t m_bytes = 0;
};

// Open addressing over the 128-bit row hashes: how many times a row with these exact bytes was seen before.
// One probe per row and no allocation per row (the repeat counts live in a small side map: duplicates are
// rare). Rows are looked up in batches: prefetch() when the row is parsed, previousOccurrences() a batch
// later, so the cache misses of a large file overlap instead of stalling one by one.
class RowCounter {
 public:
  RowCounter() { resize(std::size_t{1} << 16); }

  // Makes room for `more` rows without growing (growing would move the prefetched slots).
  void reserve(std::size_t more) {
    std::size_t cap = m_capacity;
    while ((m_used + more) * 10 > cap * 7) cap *= 2;
    if (cap != m_capacity) rehash(cap);
  }

  void prefetch(const XXH128_hash_t& h) const noexcept { __builtin_prefetch(m_slots + (h.low64 & m_mask)); }

  std::uint64_t previousOccurrences(XXH128_hash_t h) {
    if ((m_used + 1) * 10 > m_capacity * 7) rehash(m_capacity * 2);
    if (h.low64 == 0 && h.high64 == 0) h.low64 = 1;  // (0, 0) marks an empty slot
    for (std::size_t i = h.low64 & m_mask;; i = (i + 1) & m_mask) {
      auto& s = m_slots[i];
      if (s.low64 == 0 && s.high64 == 0) {
        s = h;
        ++m_used;
        return 0;
      }
      if (s.low64 == h.low64 && s.high64 == h.high64) return ++m_repeats[Key{h.low64, h.high64}];
    }
  }

 private:
  struct Key {
    std::uint64_t lo, hi;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.lo ^ (k.hi << 1));
    }
  };

  void resize(std::size_t capacity) {
    m_memory = TableMemory(capacity * sizeof(XXH128_hash_t));
    m_slots = static_cast<XXH128_hash_t*>(m_memory.data());
    m_capacity = capacity;
    m_mask = capacity - 1;
  }

  void rehash(std::size_t capacity) {
    TableMemory old_memory = std::move(m_memory);
    const auto* old = m_slots;
    const std::size_t old_capacity = m_capacity;
    resize(capacity);
    for (std::size_t k = 0; k < old_capacity; ++k) {
      const auto& h = old[k];
      if (h.low64 == 0 && h.high64 == 0) continue;
      std::size_t i = h.low64 & m_mask;
      while (m_slots[i].low64 != 0 || m_slots[i].high64 != 0) i = (i + 1) & m_mask;
      m_slots[i] = h;
    }
  }

  TableMemory m_memory;
  XXH128_hash_t* m_slots = nullptr;
  std::size_t m_capacity = 0;
  std::size_t m_mask = 0;
  std::size_t m_used = 0;
  std::unordered_map<Key, std::uint64_t, KeyHash> m_repeats;
};

// One field of a record: a view into the read buffer without the surrounding quotes. `escaped` says it still
// holds doubled quotes to undo before a text comparison.
struct Field {
  const char* data;
  std::uint32_t size;
  bool escaped;
  [[nodiscard]] std::string_view view() const noexcept { return {data, size}; }
};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Non-negative integer of 1..max_digits digits, the whole text.
bool parseUnsigned(std::string_view s, int max_digits, int& out) noexcept {
  if (s.empty() || s.size() > static_cast<std::size_t>(max_digits)) return false;
  int v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// A compiled time.format: %Y is four digits, %m %d %H %M %S one or two, anything else a literal.
struct FormatToken {
  enum Kind : std::uint8_t { Literal, Year, Month, Day, Hour, Minute, Second } kind;
  char literal;
};

std::vector<FormatToken> compileFormat(const std::string& f) {
  std::vector<FormatToken> out;
  for (std::size_t k = 0; k < f.size(); ++k) {
    if (f[k] != '%') {
      out.push_back({FormatToken::Literal, f[k]});
      continue;
    }
    switch (f[++k]) {
      case 'Y':
        out.push_back({FormatToken::Year, 0});
        break;
      case 'm':
        out.push_back({FormatToken::Month, 0});
        break;
      case 'd':
        out.push_back({FormatToken::Day, 0});
        break;
      case 'H':
        out.push_back({FormatToken::Hour, 0});
        break;
      case 'M':
        out.push_back({FormatToken::Minute, 0});
        break;
      case 'S':
        out.push_back({FormatToken::Second, 0});
        break;
      default:
        out.push_back({FormatToken::Literal, '%'});
        break;  // "%%" (others rejected by the profile)
    }
  }
  return out;
}

// Parsed calendar fields of one row; absent fields keep their defaults.
struct RowTime {
  int year = 0, month = 0, day = 1, hour = 0, minute = 0, second = 0;
};

bool parseWithFormat(std::string_view s, const std::vector<FormatToken>& tokens, RowTime& t) noexcept {
  std::size_t pos = 0;
  for (const auto& tok : tokens) {
    if (tok.kind == FormatToken::Literal) {
      if (pos >= s.size() || s[pos] != tok.literal) return false;
      ++pos;
      continue;
    }
    const std::size_t width = tok.kind == FormatToken::Year ? 4 : 2;
    std::size_t n = 0;
    while (n < width && pos + n < s.size() && s[pos + n] >= '0' && s[pos + n] <= '9') ++n;
    if (n == 0 || (tok.kind == FormatToken::Year && n != 4)) return false;
    int v = 0;
    parseUnsigned(s.substr(pos, n), static_cast<int>(width), v);
    pos += n;
    switch (tok.kind) {
      case FormatToken::Year:
        t.year = v;
        break;
      case FormatToken::Month:
        t.month = v;
        break;
      case FormatToken::Day:
        t.day = v;
        break;
      case FormatToken::Hour:
        t.hour = v;
        break;
      case FormatToken::Minute:
        t.minute = v;
        break;
      case FormatToken::Second:
        t.second = v;
        break;
      case FormatToken::Literal:
        break;
    }
  }
  return pos == s.size();
}

bool validTime(const RowTime& t) noexcept {
  return t.year >= 1 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= daysInMonth(t.year, t.month) && t.hour >= 0 && t.hour <= 23 && t.minute >= 0 &&
         t.minute <= 59 && t.second >= 0 && t.second <= 60;
}

using NameList = std::vector<std::pair<std::string, std::int32_t>>;

// The value of `name` in a short list, or -1.
std::int32_t lookup(const NameList& list, std::string_view name) noexcept {
  for (const auto& [key, value] : list) {
    if (key.size() == name.size() && std::memcmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return -1;
}

// An accepted-so-far row waiting for its batch to be projected and placed on the grid.
struct Pending {
  double x;
  double y;
  Event event;
  std::int64_t line;
  bool duplicate;
};

// A row of the current batch, accepted so far or not: its identity is settled when the batch is flushed.
struct BatchRow {
  XXH128_hash_t hash;
  std::string_view raw;  // valid until the read buffer is refilled: batches are flushed before that
  std::int32_t pending;  // index into the pending rows, or -1 for a row already rejected
};

// The character classes of the record scanner: one table lookup per byte in the hot loop.
enum CharClass : std::uint8_t { kPlain = 0, kDelim = 1, kNewline = 2, kQuote = 3, kBinary = 4 };

// One pass over one file. Holds the buffers reused for every row, so a row costs no allocation.
class FileParser {
 public:
  FileParser(const SourceProfile& profile, const grid::CityGrid& grid, const geo::Projection* projection,
             const NameList& category_of, std::int32_t fixed_category, const NameList& flag_of,
             const std::filesystem::path& file)
      : m_profile(profile),
        m_grid(grid),
        m_projection(projection),
        m_category_of(category_of),
        m_fixed_category(fixed_category),
        m_flag_of(flag_of),
        m_file(file.string()),
        m_input(file),
        m_format(compileFormat(profile.time_format)) {
    m_class.fill(kPlain);
    for (int c = 0; c < 0x20; ++c) m_class[static_cast<std::size_t>(c)] = kBinary;
    m_class[static_cast<unsigned char>('\t')] = kPlain;
    m_class[static_cast<unsigned char>('\r')] = kPlain;
    m_class[static_cast<unsigned char>('\n')] = kNewline;
    m_class[static_cast<unsigned char>(profile.quote)] = kQuote;
    m_class[static_cast<unsigned char>(profile.delimiter)] = kDelim;
    m_pending.reserve(kBatch);
    m_batch.reserve(kBatch);
  }

  ReadResult run() {
    m_buf.resize(kBlock);
    fill();
    readHeader();
    while (true) {
      const auto* rec = nextRecord();
      if (rec == nullptr) break;
      processRow();
    }
    flush();
    std::sort(m_result.rejects.begin(), m_result.rejects.end(),
              [](const Reject& a, const Reject& b) { return a.line < b.line; });
    m_result.stats.accepted = static_cast<std::int64_t>(m_result.events.size());
    return std::move(m_result);
  }

 private:
  [[noreturn]] void fail(std::int64_t line, const std::string& why) const {
    throw Error(ExitCode::InputData, m_file + ":" + std::to_string(line) + ": " + why);
  }

  // Moves the unconsumed bytes to the front and reads more; grows the buffer when one record fills it.
  void fill() {
    flush();  // the batch's rows are views into the buffer about to move
    // Only a record that does not fit the buffer yet is left here: past 1 MiB it is an unclosed quote.
    if (m_end - m_begin >= kMaxRecord)
      fail(m_next_line, "a record longer than 1 MiB: an unbalanced quote, or not a CSV file");
    if (m_begin > 0) {
      std::memmove(m_buf.data(), m_buf.data() + m_begin, m_end - m_begin);
      m_end -= m_begin;
      m_begin = 0;
    }
    if (m_end == m_buf.size()) m_buf.resize(m_buf.size() * 2);
    const auto got = m_input.read(m_buf.data() + m_end, m_buf.size() - m_end);
    if (got < 0) fail(m_next_line, m_input.error());
    if (got == 0) m_eof = true;
    m_end += static_cast<std::size_t>(got);
  }

  // Scans one record starting at m_begin into m_fields. Returns false when the buffer ends first (more input
  // needed). Throws for binary bytes and for a quote still open at the end of the file.
  bool scan() {
    m_fields.clear();
    m_malformed = false;
    m_newlines = 0;
    const char* const start = m_buf.data() + m_begin;
    const char* const end = m_buf.data() + m_end;
    const char* q = start;
    const auto cls = [this](const char* p) { return m_class[static_cast<unsigned char>(*p)]; };
    for (;;) {
      if (q < end && cls(q) == kQuote) {
        ++q;
        const char* content = q;
        bool escaped = false;
        for (;;) {
          while (q < end) {
            const auto c = cls(q);
            if (c == kQuote) break;
            if (c == kBinary) binary(q);
            if (c == kNewline) ++m_newlines;
            ++q;
          }
          if (q == end) {
            if (!m_eof) return false;
            fail(m_next_line, "unbalanced quote: the quoted field opened on this line never closes");
          }
          if (q + 1 == end && !m_eof) return false;
          if (q + 1 < end && q[1] == m_profile.quote) {
            escaped = true;
            q += 2;
            continue;
          }
          break;
        }
        m_fields.push_back({content, static_cast<std::uint32_t>(q - content), escaped});
        ++q;  // the closing quote
        if (q == end) return finish(start, q, q);
        if (cls(q) == kDelim) {
          ++q;
          continue;
        }
        if (cls(q) == kNewline) return finish(start, q, q + 1);
        if (*q == '\r') {
          if (q + 1 == end && !m_eof) return false;
          if (q + 1 == end) return finish(start, q, q + 1);
          if (q[1] == '\n') return finish(start, q, q + 2);
        }
        // Text after a closing quote: the row is malformed; skip to the end of the field.
        m_malformed = true;
      }
      const char* fstart = q;
      std::uint8_t c = kPlain;
      // A quote inside an unquoted field is taken literally, like most CSV writers and readers do.
      while (q < end && ((c = cls(q)) == kPlain || c == kQuote)) ++q;
      if (q == end) {
        if (!m_eof) return false;
        pushPlain(fstart, q);
        return finish(start, q, q);
      }
      if (c == kBinary) binary(q);
      pushPlain(fstart, q);
      if (c == kDelim) {
        ++q;
        continue;
      }
      return finish(start, q, q + 1);  // newline
    }
  }

  void pushPlain(const char* b, const char* e) {
    if (e > b && e[-1] == '\r') --e;  // the last field of a CRLF line
    m_fields.push_back({b, static_cast<std::uint32_t>(e - b), false});
  }

  bool finish(const char* start, const char* raw_end, const char* next) {
    if (raw_end > start && raw_end[-1] == '\r') --raw_end;
    m_raw = std::string_view(start, static_cast<std::size_t>(raw_end - start));
    m_next = static_cast<std::size_t>(next - m_buf.data());
    return true;
  }

  [[noreturn]] void binary(const char* p) const {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(*p)));
    fail(m_next_line + m_newlines,
         std::string("binary data (control byte ") + hex + "): not a text CSV file");
  }

  // The next non-blank record, or nullptr at the end of the file. m_line is its first line.
  const std::vector<Field>* nextRecord() {
    for (;;) {
      if (m_begin == m_end) {
        if (m_eof) return nullptr;
        fill();
        continue;
      }
      while (!scan()) fill();
      m_line = m_next_line;
      m_next_line += 1 + m_newlines;
      m_begin = m_next;
      if (m_raw.empty() && m_fields.size() == 1) continue;  // a blank line is not a row
      return &m_fields;
    }
  }

  int column(const std::vector<std::string>& names, const std::string& name) const {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it != names.end()) return static_cast<int>(it - names.begin());
    std::string why = "missing column '" + name + "' (required by " + m_profile.file.filename().string() +
                      "); the header has " + std::to_string(names.size()) + " field(s)";
    if (names.size() == 1) {
      for (const char d : {',', ';', '\t', '|'}) {
        if (d != m_profile.delimiter && names[0].find(d) != std::string::npos) {
          why += " and contains '" + std::string(d == '\t' ? "tab" : std::string(1, d)) +
                 "': is csv.delimiter right?";
          break;
        }
      }
    }
    fail(1, why);
  }

  void readHeader() {
    // A UTF-8 byte-order mark is not part of the first column's name.
    if (m_end - m_begin >= 3 && std::memcmp(m_buf.data() + m_begin, "\xEF\xBB\xBF", 3) == 0) m_begin += 3;
    m_next_line = 1;
    const auto* rec = nextRecord();
    if (rec == nullptr) fail(1, "empty file: no header line");
    std::vector<std::string> names;
    for (const auto& f : *rec) names.emplace_back(unescaped(f, m_scratch_header));
    m_width = names.size();
    const auto& p = m_profile;
    if (p.time_mode == TimeMode::DateTime) {
      m_col_time = column(names, p.time_column);
    } else {
      if (!p.year_column.empty()) m_col_year = column(names, p.year_column);
      m_col_month = column(names, p.month_column);
      if (!p.day_column.empty()) m_col_day = column(names, p.day_column);
      if (!p.hour_column.empty()) m_col_hour = column(names, p.hour_column);
      if (!p.minute_column.empty()) m_col_minute = column(names, p.minute_column);
      if (!p.hhmm_column.empty()) m_col_hhmm = column(names, p.hhmm_column);
    }
    m_col_x = column(names, p.x_column);
    m_col_y = column(names, p.y_column);
    if (!p.category_column.empty()) m_col_category = column(names, p.category_column);
    if (!p.flag_column.empty()) m_col_flag = column(names, p.flag_column);
    m_hour_known = p.time_mode == TimeMode::DateTime ? p.time_format.find("%H") != std::string::npos
                                                     : (!p.hour_column.empty() || !p.hhmm_column.empty());
  }

  std::string_view unescaped(const Field& f, std::string& scratch) const {
    if (!f.escaped) return trim(f.view());
    scratch.clear();
    const auto v = f.view();
    for (std::size_t k = 0; k < v.size(); ++k) {
      scratch.push_back(v[k]);
      if (v[k] == m_profile.quote) ++k;  // the second of a doubled quote
    }
    return trim(scratch);
  }

  void reject(std::int64_t line, RejectReason reason) {
    m_result.rejects.push_back({m_file, line, reason});
    ++m_result.stats.rejected[reason];
  }

  bool rowTime(RowTime& t) const {
    const auto& p = m_profile;
    const auto field = [this](int col) { return trim(m_fields[static_cast<std::size_t>(col)].view()); };
    if (p.time_mode == TimeMode::DateTime) {
      if (!parseWithFormat(field(m_col_time), m_format, t)) return false;
    } else {
      t.year = p.year_fixed;
      if (m_col_year >= 0 && !parseUnsigned(field(m_col_year), 4, t.year)) return false;
      if (!parseUnsigned(field(m_col_month), 2, t.month)) return false;
      if (m_col_day >= 0 && !parseUnsigned(field(m_col_day), 2, t.day)) return false;
      if (m_col_hour >= 0 && !parseUnsigned(field(m_col_hour), 2, t.hour)) return false;
      if (m_col_minute >= 0 && !parseUnsigned(field(m_col_minute), 2, t.minute)) return false;
      if (m_col_hhmm >= 0) {
        int hhmm = 0;
        if (!parseUnsigned(field(m_col_hhmm), 4, hhmm)) return false;
        t.hour = hhmm / 100;
        t.minute = hhmm % 100;
      }
    }
    return validTime(t);
  }

  static bool parseCoordinate(std::string_view s, double& out) noexcept {
    if (s.empty()) return false;
    const char* first = s.data();
    if (*first == '+') ++first;  // fast_float follows from_chars, which refuses a leading '+'
    const auto r = fast_float::from_chars(first, s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
  }

  void processRow() {
    ++m_result.stats.rows_read;
    const std::int64_t line = m_line;

    // Identity first: every row, accepted or not, counts as an occurrence of its bytes (settled at the
    // flush).
    if (m_batch.empty()) m_rows.reserve(kBatch);
    const XXH128_hash_t h = XXH3_128bits(m_raw.data(), m_raw.size());
    m_rows.prefetch(h);
    m_batch.push_back({h, m_raw, -1});
    m_row_bytes += m_raw.size() + 1;
    rowBody(line);
    if (m_batch.size() == kBatch) flush();
  }

  void rowBody(std::int64_t line) {
    if (m_malformed || m_fields.size() != m_width) return reject(line, RejectReason::MalformedRow);

    Event ev;
    if (m_col_category >= 0) {
      ev.category =
          lookup(m_category_of, unescaped(m_fields[static_cast<std::size_t>(m_col_category)], m_scratch));
    } else {
      ev.category = m_fixed_category;
    }
    if (ev.category < 0) return reject(line, RejectReason::UnknownCategory);

    RowTime t;
    if (!rowTime(t)) return reject(line, RejectReason::UnparseableTime);
    ev.precision = m_profile.precision;
    bool hour_known = m_hour_known;
    if (m_profile.midnight_unknown && t.hour == 0 && t.minute == 0) {
      hour_known = false;
      if (ev.precision < TimePrecision::Day) ev.precision = TimePrecision::Day;
    }
    // Truncate to the precision the row really has: nothing finer than that is ever binned.
    ev.hour_of_day = hour_known ? static_cast<std::uint16_t>(t.hour) : kHourUnknown;
    if (ev.precision >= TimePrecision::Hour) t.minute = 0;
    if (ev.precision >= TimePrecision::Day) t.hour = 0;
    if (ev.precision == TimePrecision::Month) t.day = 1;
    ev.civil_seconds = civilSeconds(CivilTime{t.year, t.month, t.day, t.hour, t.minute});

    double x = 0.0, y = 0.0;
    if (!parseCoordinate(trim(m_fields[static_cast<std::size_t>(m_col_x)].view()), x) ||
        !parseCoordinate(trim(m_fields[static_cast<std::size_t>(m_col_y)].view()), y))
      return reject(line, RejectReason::MissingCoordinates);
    if (m_profile.withheld_zero && x == 0.0 && y == 0.0) return reject(line, RejectReason::WithheldLocation);

    if (m_col_flag >= 0)
      ev.flag = static_cast<EventFlag>(std::max<std::int32_t>(
          0, lookup(m_flag_of, unescaped(m_fields[static_cast<std::size_t>(m_col_flag)], m_scratch))));

    m_batch.back().pending = static_cast<std::int32_t>(m_pending.size());
    m_pending.push_back({x, y, ev, line, false});
  }

  // Once the first batch shows the mean row length, reserves the events and the row table for the whole of a
  // plain file: growing them step by step costs more than parsing for files of millions of rows.
  void presize() {
    if (m_presized || m_input.plainSize() == 0 || m_result.stats.rows_read < 1024) return;
    m_presized = true;
    const double mean = static_cast<double>(m_row_bytes) / static_cast<double>(m_result.stats.rows_read);
    const auto size = static_cast<double>(m_input.plainSize());
    const auto rows = static_cast<std::size_t>(std::min(size / std::max(mean, 1.0) * 1.05, size / 8.0));
    m_result.events.reserve(rows);
    m_result.lines.reserve(rows);
    m_rows.reserve(rows);
  }

  // Projects the pending rows to the grid CRS in one PROJ call and places them on the grid.
  void flush() {
    presize();
    for (const auto& row : m_batch) {
      const std::uint64_t occurrence = m_rows.previousOccurrences(row.hash);
      if (occurrence > 0) ++m_result.stats.duplicate_rows;
      if (row.pending < 0) continue;
      auto& p = m_pending[static_cast<std::size_t>(row.pending)];
      p.duplicate = occurrence > 0;
      // The n-th copy of identical bytes gets its own stable identity: re-reading the file gives the same
      // keys, and a journal keeps each copy once. The first copy's key is the plain hash (seed 0).
      const XXH128_hash_t k =
          occurrence == 0 ? row.hash : XXH3_128bits_withSeed(row.raw.data(), row.raw.size(), occurrence);
      p.event.key_hi = k.high64;
      p.event.key_lo = k.low64;
    }
    m_batch.clear();
    if (m_pending.empty()) return;
    const std::size_t n = m_pending.size();
    if (m_projection != nullptr) {
      m_xs.resize(n);
      m_ys.resize(n);
      for (std::size_t k = 0; k < n; ++k) {
        m_xs[k] = m_pending[k].x;
        m_ys[k] = m_pending[k].y;
      }
      if (m_profile.location_mode == LocationMode::LonLat) {
        // Out-of-range degrees cannot be on any grid; keep them away from PROJ.
        for (std::size_t k = 0; k < n; ++k) {
          if (std::abs(m_xs[k]) > 180.0 || std::abs(m_ys[k]) > 90.0) m_xs[k] = m_ys[k] = HUGE_VAL;
        }
      }
      try {
        m_projection->forward(std::span<double>(m_xs), std::span<double>(m_ys));
      } catch (const Error&) {
        // One point PROJ cannot transform must not sink the batch: redo it point by point.
        for (std::size_t k = 0; k < n; ++k) {
          try {
            const auto [px, py] = m_projection->forward(m_pending[k].x, m_pending[k].y);
            m_xs[k] = px;
            m_ys[k] = py;
          } catch (const Error&) {
            m_xs[k] = m_ys[k] = HUGE_VAL;
          }
        }
      }
      for (std::size_t k = 0; k < n; ++k) {
        m_pending[k].x = m_xs[k];
        m_pending[k].y = m_ys[k];
      }
    }
    const bool drop = m_profile.duplicates == DuplicatePolicy::Drop;
    for (auto& row : m_pending) {
      const auto cell = m_grid.cellOf(row.x, row.y);
      if (!cell) {
        reject(row.line, RejectReason::OutsideGrid);
        continue;
      }
      if (drop && row.duplicate) {
        reject(row.line, RejectReason::DuplicateRow);
        continue;
      }
      row.event.cell = m_grid.globalIndex((*cell)[0], (*cell)[1]);
      m_result.events.push_back(row.event);
      m_result.lines.push_back(row.line);
    }
    m_pending.clear();
  }

 private:
  const SourceProfile& m_profile;
  const grid::CityGrid& m_grid;
  const geo::Projection* m_projection;
  const NameList& m_category_of;
  std::int32_t m_fixed_category;
  const NameList& m_flag_of;
  std::string m_file;
  ByteInput m_input;
  std::vector<FormatToken> m_format;
  std::array<std::uint8_t, 256> m_class{};

  std::vector<char> m_buf;
  std::size_t m_begin = 0;
  std::size_t m_end = 0;
  std::size_t m_next = 0;
  bool m_eof = false;
  std::int64_t m_line = 0;
  std::int64_t m_next_line = 1;
  std::int64_t m_newlines = 0;
  bool m_malformed = false;
  std::string_view m_raw;
  std::vector<Field> m_fields;
  std::string m_scratch;
  std::string m_scratch_header;

  std::size_t m_width = 0;
  int m_col_time = -1, m_col_year = -1, m_col_month = -1, m_col_day = -1, m_col_hour = -1, m_col_minute = -1,
      m_col_hhmm = -1, m_col_x = -1, m_col_y = -1, m_col_category = -1, m_col_flag = -1;
  bool m_hour_known = false;

  RowCounter m_rows;
  std::uint64_t m_row_bytes = 0;
  bool m_presized = false;
  std::vector<BatchRow> m_batch;
  std::vector<Pending> m_pending;
  std::vector<double> m_xs;
  std::vector<double> m_ys;
  ReadResult m_result;
};

}  // namespace

std::int64_t ReadStats::rejectedTotal() const noexcept {
  std::int64_t total = 0;
  for (const auto& [reason, n] : rejected) total += n;
  return total;
}

EventReader::EventReader(const SourceProfile& profile, std::vector<std::string> categories,
                         const grid::CityGrid& grid)
    : m_profile(profile), m_categories(std::move(categories)), m_grid(grid) {
  const auto index_of = [&](const std::string& name) -> std::int32_t {
    const auto it = std::find(m_categories.begin(), m_categories.end(), name);
    if (it == m_categories.end()) {
      std::string known;
      for (const auto& c : m_categories) known += (known.empty() ? "" : ", ") + c;
      throw Error(ExitCode::Usage,
                  m_profile.file.string() + ":" + std::to_string(m_profile.category_map_line) +
                      ": the profile maps to category '" + name + "', which is not in ingest.categories (" +
                      known + ")",
                  true);
    }
    return static_cast<std::int32_t>(it - m_categories.begin());
  };
  if (m_profile.category_column.empty()) {
    m_fixed_category = index_of(m_profile.category_fixed);
  } else {
    for (const auto& e : m_profile.category_map) m_category_of.emplace_back(e.source, index_of(e.target));
  }
  for (const auto& v : m_profile.flag_reported)
    m_flag_of.emplace_back(v, static_cast<std::int32_t>(EventFlag::Reported));
  for (const auto& v : m_profile.flag_discovered)
    m_flag_of.emplace_back(v, static_cast<std::int32_t>(EventFlag::Discovered));

  if (grid.geographic() && m_profile.crs_epsg != grid.spec().epsg)
    m_projection = std::make_unique<geo::Projection>(m_profile.crs_epsg, grid.spec().epsg);
}

EventReader::~EventReader() = default;

ReadResult EventReader::read(const std::filesystem::path& file) const {
  FileParser parser(m_profile, m_grid, m_projection.get(), m_category_of, m_fixed_category, m_flag_of, file);
  return parser.run();
}

}  // namespace vigie::ingest
