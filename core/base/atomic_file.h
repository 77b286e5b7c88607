#pragma once
// Replacing a file so that whoever reads it next (another process, or this server after a crash
// or `kill -9` at any instant) finds either the old contents or the new, never a mix or nothing:
// the contents go to a temporary file in the same folder, which is flushed to disk (fsync), then
// renamed over the target (atomic within one file system), then the folder is flushed so the
// rename itself survives a power cut.
#include <string>
#include <string_view>

namespace junction {

// Throws std::system_error naming the step and the path when any step fails; the target is then
// untouched and the temporary file removed.
void write_file_atomically(const std::string& path, std::string_view contents);

// Removes the temporary files a process killed in the middle of write_file_atomically(path, ...)
// left beside `path`. Call it at start, before anything writes `path`. Errors are ignored.
void remove_leftover_temporaries(const std::string& path);

}  // namespace junction
