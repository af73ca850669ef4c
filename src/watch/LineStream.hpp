#pragma once
/// The input of `vigie watch`: lines of a stream read on rank 0 from standard input ("-"), a FIFO or a file
/// that may still be growing. Reads never block for longer than asked, so the watcher can append what has
/// arrived and run its cycles while a slow source trickles.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace vigie::watch {

/// One line of the stream with its 1-based line number (blank lines are counted, never returned).
struct StreamLine {
  std::int64_t line = 0;
  std::string text;  ///< without the newline and a trailing carriage return
};

/// A stream of text lines. Not collective: rank 0 owns it.
class LineStream {
 public:
  /// Opens `spec`: "-" is standard input; a FIFO is opened for reading (waiting for a writer); a regular
  /// file is read from its start and, with `follow`, waited on for more lines at its end, until it has not
  /// grown for `idle_exit_s` seconds (0 = until a stop signal). Error(Usage) naming the path when it cannot
  /// be opened.
  LineStream(const std::string& spec, bool follow, double idle_exit_s);
  ~LineStream();
  LineStream(const LineStream&) = delete;
  LineStream& operator=(const LineStream&) = delete;

  /// Appends complete lines to `out`, at most `max_lines`: waits up to `wait_s` seconds for data, then takes
  /// what is already there without waiting more (a regular file is read on to its end or the deadline).
  /// Returns false once the stream has ended (writer closed, file end without follow, follow idle time
  /// elapsed) and every line was returned; a last line without a newline counts as a line.
  bool read(std::vector<StreamLine>& out, double wait_s, std::size_t max_lines);

  /// The name rejects.csv gives the stream: "stdin" or the path.
  [[nodiscard]] const std::string& name() const noexcept { return m_name; }
  /// Bytes read so far.
  [[nodiscard]] std::int64_t bytes() const noexcept { return m_bytes; }

 private:
  // Moves the complete lines of m_pending to `out`; with `final`, also an unterminated last line.
  void cut(std::vector<StreamLine>& out, std::size_t max_lines, bool final);

  std::string m_name;
  int m_fd = -1;
  bool m_close = false;
  bool m_regular = false;
  bool m_follow = false;
  double m_idle_exit_s = 0.0;
  bool m_eof = false;
  bool m_first = true;
  std::chrono::steady_clock::time_point m_last_data;
  std::string m_pending;
  std::size_t m_pending_begin = 0;
  std::int64_t m_next_line = 1;
  std::int64_t m_bytes = 0;
};

}  // namespace vigie::watch
