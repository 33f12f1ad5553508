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

}  // namespace roentgen
