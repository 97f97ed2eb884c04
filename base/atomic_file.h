// Crash-safe file replacement.
//
// WriteFileAtomically writes to a temporary file in the same directory, fsyncs it, renames
// it over the target and fsyncs the directory: after a crash at any moment the target holds
// either the old or the new content, never a mix. Checkpoints, search state and models all
// go through it.
#ifndef EDGELOOP_BASE_ATOMIC_FILE_H_
#define EDGELOOP_BASE_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeloop {

// Writes a temporary file beside `path`, fsyncs it and renames it over `path`, creating
// missing parent directories first (an output flag's folder need not exist yet).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// Reads a whole file; NotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Creates a directory and its missing parents; OK when it exists already.
absl::Status MakeDirectories(const std::string& path);

bool PathExists(const std::string& path);

// Removes the temporary files that writers killed mid-write left in `dir`: names ending in
// ".tmp.PID" (WriteFileAtomically) or ".tmp-PID" (the data generator) whose process no
// longer runs, and whose name starts with `prefix` when given. A live writer's file is
// left alone. Returns how many were removed.
int RemoveStaleTempFiles(const std::string& dir, const std::string& prefix = "");

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_ATOMIC_FILE_H_
