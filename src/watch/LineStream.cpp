#include "watch/LineStream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/Error.hpp"

namespace vigie::watch {

using core::Error;
using core::ExitCode;

LineStream::LineStream(const std::string& spec, bool follow, double idle_exit_s)
    : m_follow(follow), m_idle_exit_s(idle_exit_s), m_last_data(std::chrono::steady_clock::now()) {
  if (spec.empty())
    throw Error(ExitCode::Usage, "vigie watch needs --stream PATH or --stream - (stdin)", true);
  if (spec == "-") {
    m_name = "stdin";
    m_fd = STDIN_FILENO;
  } else {
    m_name = spec;
    m_fd = ::open(spec.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0)
      throw Error(ExitCode::Usage, "watch.stream " + spec + ": cannot open (" + std::strerror(errno) + ")",
                  true);
    m_close = true;
  }
  struct stat st {};
  if (::fstat(m_fd, &st) == 0) m_regular = S_ISREG(st.st_mode);
}

LineStream::~LineStream() {
  if (m_close && m_fd >= 0) ::close(m_fd);
}

void LineStream::cut(std::vector<StreamLine>& out, std::size_t max_lines, bool final) {
  std::size_t taken = 0;
  while (taken < max_lines && m_pending_begin < m_pending.size()) {
    const auto nl = m_pending.find('\n', m_pending_begin);
    if (nl == std::string::npos && !final) break;
    const auto end = nl == std::string::npos ? m_pending.size() : nl;
    std::string_view text(m_pending.data() + m_pending_begin, end - m_pending_begin);
    if (m_first) {
      // A UTF-8 byte-order mark is not part of the first line.
      if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
      m_first = false;
    }
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    const auto line = m_next_line++;
    m_pending_begin = nl == std::string::npos ? m_pending.size() : nl + 1;
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // a blank line is no row
    out.push_back({line, std::string(text)});
    ++taken;
  }
  if (m_pending_begin > (1U << 20) || m_pending_begin == m_pending.size()) {
    m_pending.erase(0, m_pending_begin);
    m_pending_begin = 0;
  }
}

bool LineStream::read(std::vector<StreamLine>& out, double wait_s, std::size_t max_lines) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(0.0, wait_s));
  const std::size_t before = out.size();
  const auto room = [&] { return max_lines - std::min(max_lines, out.size() - before); };
  cut(out, room(), false);
  char buf[1 << 16];
  bool got_data = false;
  while (!m_eof && room() > 0) {
    const auto now = std::chrono::steady_clock::now();
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (!m_regular) {
      // Wait up to the deadline for the first data; once some has come, take only what is already there.
      pollfd p{m_fd, POLLIN, 0};
      const int r = ::poll(&p, 1, got_data ? 0 : static_cast<int>(std::max<long long>(0, left_ms)));
      if (r < 0 && errno == EINTR) return true;  // a signal: let the caller look at it
      if (r < 0) throw Error(ExitCode::Io, m_name + ": poll failed (" + std::strerror(errno) + ")");
      if (r == 0) break;  // nothing within the wait
    }
    const auto n = ::read(m_fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) return true;
      if (errno == EAGAIN) break;
      throw Error(ExitCode::Io, m_name + ": read failed (" + std::strerror(errno) + ")");
    }
    if (n == 0) {
      if (!m_regular || !m_follow) {
        m_eof = true;
        break;
      }
      // A followed file at its end: wait for it to grow, up to the idle limit.
      const double idle = std::chrono::duration<double>(now - m_last_data).count();
      if (m_idle_exit_s > 0.0 && idle >= m_idle_exit_s) {
        m_eof = true;
        break;
      }
      if (left_ms <= 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left_ms, 100)));
      continue;
    }
    m_last_data = std::chrono::steady_clock::now();
    got_data = true;
    m_bytes += n;
    m_pending.append(buf, static_cast<std::size_t>(n));
    cut(out, room(), false);
    if (std::chrono::steady_clock::now() >= deadline && out.size() > before) break;
  }
  if (m_eof) cut(out, room(), true);
  return !(m_eof && m_pending_begin >= m_pending.size());
}

}  // namespace vigie::watch
