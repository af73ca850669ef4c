#include "ingest/RejectLog.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/Error.hpp"

namespace vigie::ingest {

namespace {

using core::Error;
using core::ExitCode;

// A file name is the only text field; quote it when it holds CSV syntax so the line stays three columns.
void appendCsvField(std::string& out, const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    out += text;
    return;
  }
  out += '"';
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

RejectLog::RejectLog(std::filesystem::path csv) : m_path(std::move(csv)) {}

void RejectLog::append(const std::vector<Reject>& rejects) const {
  const auto fail = [&](const char* what) {
    return Error(ExitCode::Io, m_path.string() + ": cannot " + what + ": " + std::strerror(errno));
  };
  const int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("open for appending");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const auto e = fail("stat");
    ::close(fd);
    throw e;
  }
  std::string text;
  if (st.st_size == 0) text += "file,line,reason\n";
  text.reserve(text.size() + rejects.size() * 48);
  std::string name;
  const std::string* last_file = nullptr;
  for (const auto& r : rejects) {
    // Rejects of one file share its name: quote it once, not once per line.
    if (last_file == nullptr || *last_file != r.file) {
      name.clear();
      appendCsvField(name, r.file);
      last_file = &r.file;
    }
    text += name;
    text += ',';
    text += std::to_string(r.line);
    text += ',';
    text += rejectReasonName(r.reason);
    text += '\n';
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const auto e = fail("write");
      ::close(fd);
      throw e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto e = fail("fsync");
    ::close(fd);
    throw e;
  }
  if (::close(fd) != 0) throw fail("close");
}

}  // namespace vigie::ingest
