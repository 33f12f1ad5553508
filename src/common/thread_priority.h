// CPU priority of the calling thread.
//
// Roentgen's indexing threads (ingest writers, the UDP spool's reader, the
// store's flushes and compactions) can run at the lowest priority so that,
// when the CPU is short, receiving wins: a datagram the receiver does not read
// in time is lost in the kernel, while indexing only falls behind and catches
// up from the spool and queues when the burst is over.
#pragma once

#include "common/status.h"

namespace roentgen {

// Gives the calling thread the lowest normal priority (Linux: nice 19 for this
// thread only, as RocksDB's CpuPriority::kLow does for its pools). Always
// permitted; IOError if the kernel refuses anyway.
Status LowerCurrentThreadPriority();

// Runs the calling thread only on CPU time the other threads leave (Linux's
// SCHED_IDLE: below even nice 19, yet still given a small share under load, so
// it is slowed, never starved). For background work that can wait for a lull,
// such as the block store's compaction while the writers, themselves at nice
// 19, work through a spooled backlog: at equal priority a compaction round
// took a fifth of the cores from indexing. A thread may always lower its own
// policy; IOError if the kernel refuses anyway.
Status IdleCurrentThreadPriority();

}  // namespace roentgen
