#include "common/thread_priority.h"

#include <sched.h>
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

Status IdleCurrentThreadPriority() {
  sched_param param{};
  param.sched_priority = 0;  // the only one SCHED_IDLE takes
  // With a thread id, sched_setscheduler sets that thread's policy alone (Linux).
  if (::sched_setscheduler(static_cast<pid_t>(::gettid()), SCHED_IDLE, &param) != 0) {
    return Status::IOError("sched_setscheduler(SCHED_IDLE): " +
                           std::system_category().message(errno));
  }
  return Status::Ok();
}

}  // namespace roentgen
