// How an engine reports a read it cannot serve (store.h: reads fail with
// Corruption or IOError, never with wrong data): one wording for every engine,
// since clients and operators see it. A damaged read becomes
// "store corruption detected: <what>", which the API passes on in its answer
// and the compatibility tests look for, and is logged with the way out
// (restore from a backup); an I/O error is logged as is. Logging is limited to
// once a second per ReadFailureLog, as a damaged block may fail every query.
//
// Thread safety: ReadFailureLog may be shared by threads.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/status.h"

namespace roentgen::store {

class ReadFailureLog {
 public:
  // `s` as the caller returns it: Corruption reworded and logged, IOError
  // logged, any other status returned as is (not logged: not a fault).
  Status Report(Status s);

 private:
  std::atomic<int64_t> last_log_seconds_{0};
};

}  // namespace roentgen::store
