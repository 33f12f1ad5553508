// A durable spool in front of indexing: every record (a UDP datagram, or an
// X-Ray document translated from OTLP) is appended to a log on disk
// (fdatasync'd in groups) before it is parsed, and handed to a consumer in
// order, at least once, from that log.
//
// Why: the X-Ray daemon protocol has no acknowledgement, so a datagram that
// waits in memory for the store is lost by a crash, and a burst faster than
// the store can index is lost at the in-memory queue; an OTLP exporter waits
// for its answer, which can be given once the spans are durable rather than
// indexed. The spool turns a record into a sequential disk append the moment
// it arrives; indexing then proceeds at the store's pace, and the backlog
// waits on disk (bounded by `max_bytes`) instead of being dropped or refused.
//
// On disk (`dir`, laid out in ingest/spool_format.h): numbered files of
// checksummed records (each an LZ4-compressed block of appended records,
// unless `compress` is off), and a `checkpoint` saying that everything
// before it has been stored. Files entirely before the checkpoint are deleted. Open() resumes at
// the checkpoint and appends to a new file; a record that fails its checksum
// (a torn write at a crash) ends its file: the rest of it is counted in
// roentgen_spool_discarded_bytes_total and logged.
//
// Delivery: the consumer thread calls `consumer(records, done)` with up to
// `read_batch` records in log order (a batch ends where a block does, so it
// may hold up to a block's records more); the views are valid during the call
// only. `done` is called from any thread, exactly once: kDone says the
// records are stored, or failed for good and were counted, and lets the
// checkpoint pass them; kRetryLater says they could not be stored for now
// (the store refuses writes: its disk is full): once every batch in flight
// is answered, delivery starts again from the first record not stored, after
// a pause (retry_interval, doubling while nothing is stored, up to 10 times
// it); kNotTaken says they were not taken (the pipeline stopped): the spool
// stops delivering, and they are delivered again after the next Open().
// Records are delivered again after a crash if the checkpoint had not passed
// them, and after kRetryLater (at least once; writing a document twice is
// harmless).
//
// A full disk: an append that cannot be written (ENOSPC, EDQUOT) is dropped
// and counted with reason "disk_full" (AppendDurable's caller is told: never
// acknowledged), the file is cut back to its last good record, and
// roentgen_disk_full{component="<name>_spool"} is 1 until a write succeeds.
//
// Metrics, labelled spool=<name>: roentgen_spool_appended_total,
// roentgen_spool_appended_bytes_total, roentgen_spool_backlog_bytes,
// roentgen_spool_files, roentgen_spool_sync_seconds,
// roentgen_spool_discarded_bytes_total, roentgen_spool_retries_total;
// roentgen_disk_full{component="<name>_spool"}; and Append's drops in
// roentgen_segments_dropped_total{reason="spool_full"|"disk_full"|
// "spool_write_error"|"not_running"}.
//
// Thread safety: Append() from any thread (it never blocks on disk: it copies
// into an in-memory group that a write thread writes into the page cache, and
// a sync thread fdatasyncs, so a slow fdatasync holds up durability, not
// appends); Open/Stop from one
// controlling thread. Stop() (also run by the destructor) refuses new appends,
// writes what was appended, delivers the backlog (for drain_timeout at most)
// and waits for what it delivered to be stored, then saves the checkpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"

namespace roentgen::ingest {

struct SpoolConfig {
  std::string name = "udp";                            // metrics label spool="…", thread names
  std::string dir;                                     // created if missing
  uint64_t max_bytes = uint64_t{1} << 30;              // on disk, not yet stored; beyond: dropped
  uint64_t file_bytes = 64 << 20;                      // a new file is begun past this size
  uint64_t max_unwritten_bytes = 64 << 20;             // in memory, waiting for the write thread
  size_t read_batch = 256;                             // records per consumer call
  std::chrono::milliseconds checkpoint_interval{200};  // how often the checkpoint is saved
  // A group is written once it holds group_bytes, or once min_sync_interval
  // has passed since the last one (so a datagram waits that long, plus one
  // fdatasync, before it is durable). The sync thread fdatasyncs whatever was
  // written each time its previous fdatasync returns.
  std::chrono::microseconds min_sync_interval{10000};
  size_t group_bytes = 1 << 20;
  bool low_priority_consumer = false;  // the consumer thread at the lowest CPU priority
  // Files of LZ4-compressed blocks of records ("RGSPOOL2", about a fifth of
  // the bytes for segment documents, so max_bytes holds five times more);
  // off: one checksummed record per appended one ("RGSPOOL1"). Either
  // format is read, whatever this says.
  bool compress = true;
  // Stop() delivers the backlog for at most this long; the rest stays on disk
  // and is delivered after the next Open().
  std::chrono::milliseconds drain_timeout{30000};
  // After kRetryLater, the first pause before delivering again; it doubles
  // while no batch is stored, up to 10 times this.
  std::chrono::milliseconds retry_interval{500};
  // Tests only: run by the sync thread before each fdatasync of `file`; an
  // error is taken as that fdatasync's (a slow or failing disk;
  // ResourceExhausted as ENOSPC, a full disk).
  std::function<Status(uint64_t file)> before_sync;
  Status Validate() const;
};

// A consumer's answer for one delivered batch (see Delivery above).
enum class SpoolBatch {
  kDone,        // stored, or failed for good and counted
  kRetryLater,  // not stored for now: deliver again after a pause
  kNotTaken,    // the consumer stopped: deliver after the next Open()
};
using SpoolDone = std::function<void(SpoolBatch)>;
using SpoolDurable = std::function<void(Status)>;
using SpoolConsumer =
    std::function<void(const std::vector<std::string_view>& records, SpoolDone done)>;

class Spool {
 public:
  Spool(SpoolConfig config, SpoolConsumer consumer, MetricsRegistry& metrics);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Creates the directory, recovers its files and checkpoint, starts the write,
  // sync and consumer threads (which deliver any backlog first). Errors: InvalidArgument
  // (config), IOError (the directory or a file cannot be created or read).
  Status Open();
  // Appends one record; false when it was dropped (spool full, write error,
  // not running), which is counted. Never waits for the disk.
  bool Append(std::string_view record);
  // Appends `records` as one unit and calls `durable` (from the spool's
  // threads) once they are fdatasync'd — OK — or could not be written or
  // synced — Unavailable when the disk is full (the message says so), IOError
  // otherwise. Never waits for the disk; groups are written and synced
  // at once while someone waits.
  // Errors, without calling `durable`: ResourceExhausted (no room: retry
  // later; the records are counted as spool_full drops), Unavailable (not running), InvalidArgument (a record over 16 MB).
  Status AppendDurable(const std::vector<std::string>& records, SpoolDurable durable);
  // The same with each record written as `prefix` followed by `records[i]`
  // (a caller's per-request header, without a joined copy of each record).
  Status AppendDurable(std::string_view prefix, const std::vector<std::string_view>& records,
                       SpoolDurable durable);
  void Stop();

  // Records appended and made durable since Open (for tests and benchmarks).
  uint64_t durable_records() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roentgen::ingest
