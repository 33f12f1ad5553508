#include "common/thread_priority.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace roentgen {

Status LowerCurrentThreadPriority() {
  // PRIO_PROCESS with a thread id sets that thread's nice value alone (Linux).
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19) != 0) {
    return Status::IOError("setpriority: " + std::system_category().message(errno));
  }
  return Status::Ok();
}

}  // namespace roentgen
