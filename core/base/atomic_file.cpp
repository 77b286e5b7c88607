#include "core/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace junction {
namespace {

[[noreturn]] void fail(const std::string& step, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), step + " " + path);
}

// Closes the descriptor, and removes the temporary file unless it was renamed into place.
struct TempFile {
  std::string path;
  int fd = -1;
  bool renamed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!renamed) ::unlink(path.c_str());
  }
};

std::filesystem::path folder_of(const std::filesystem::path& target) {
  return target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
}

std::string temporary_prefix(const std::filesystem::path& target) { return "." + target.filename().string() + "."; }

}  // namespace

void write_file_atomically(const std::string& path, std::string_view contents) {
  std::filesystem::path target(path);
  std::filesystem::path folder = folder_of(target);
  TempFile temp;
  temp.path = (folder / (temporary_prefix(target) + "XXXXXX")).string();
  temp.fd = ::mkstemp(temp.path.data());
  if (temp.fd < 0) {
    temp.renamed = true;  // nothing was created
    fail("cannot create a temporary file for", path);
  }
  ::fchmod(temp.fd, 0644);
  for (size_t written = 0; written < contents.size();) {
    ssize_t n = ::write(temp.fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write", temp.path);
    written += static_cast<size_t>(n);
  }
  if (::fsync(temp.fd) != 0) fail("cannot flush", temp.path);
  if (::rename(temp.path.c_str(), path.c_str()) != 0) fail("cannot rename a temporary file onto", path);
  temp.renamed = true;
  int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir < 0) fail("cannot open the folder of", path);
  int synced = ::fsync(dir);
  ::close(dir);
  if (synced != 0) fail("cannot flush the folder of", path);
}

void remove_leftover_temporaries(const std::string& path) {
  std::filesystem::path target(path);
  std::string prefix = temporary_prefix(target);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder_of(target), ec)) {
    std::string name = entry.path().filename().string();
    // mkstemp() replaced the six X of the pattern.
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0)
      std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace junction
