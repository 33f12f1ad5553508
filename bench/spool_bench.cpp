// The durable spool's own cost (src/ingest/spool.h): appends of
// bench/segment_gen UDP datagrams as fast as the spool takes them, each
// delivered to a consumer that takes it at once; prints the bytes on disk a
// record and the CPU a record of the spool's threads (write, sync, read),
// from /proc/self/task, for LZ4 blocks and for plain records. With
// --pipeline the consumer is the server's: each batch goes to an ingest
// Pipeline (2 writers over the in-memory store) through SubmitSpooled, so the
// read thread parses every datagram into its write item, as `rg-udp-read`
// does in the server, and the writers free them.
//
//   build/bench/spool_bench [--count 300000] [--pool 20000] [--dir DIR] [--format
//   blocks|records|both] [--pipeline]
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "ingest/pipeline.h"
#include "ingest/spool.h"
#include "segment_gen.h"
#include "store/memory/memory_store.h"

namespace {

// CPU seconds of this process's threads by name (utime + stime).
std::map<std::string, double> ThreadCpu() {
  std::map<std::string, double> out;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string name = stat.substr(open + 1, close - open - 1);
    std::vector<std::string> fields;
    size_t at = close + 2;
    while (at < stat.size()) {
      const size_t end = stat.find(' ', at);
      fields.push_back(stat.substr(at, end == std::string::npos ? std::string::npos : end - at));
      if (end == std::string::npos) break;
      at = end + 1;
    }
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    if (fields.size() > 12) out[name] += (std::stod(fields[11]) + std::stod(fields[12])) / hz;
  }
  return out;
}

// The pipeline's writer threads' CPU a record (rg-write-N).
double writers_us(const std::map<std::string, double>& cpu, size_t count) {
  double total = 0;
  for (const auto& [name, seconds] : cpu) {
    if (name.rfind("rg-write-", 0) == 0) total += seconds;
  }
  return total * 1e6 / static_cast<double>(count);
}

struct Run {
  double seconds = 0;
  uint64_t bytes = 0;
  std::map<std::string, double> cpu;
  double append_cpu = 0;
};

Run RunSpool(const std::vector<std::string>& pool, size_t count, const std::string& dir,
             bool compress, bool through_pipeline) {
  std::filesystem::remove_all(dir);
  roentgen::MetricsRegistry metrics;
  std::unique_ptr<roentgen::store::Store> store;
  std::unique_ptr<roentgen::ingest::Pipeline> pipeline;
  if (through_pipeline) {
    store = roentgen::store::NewMemoryStore();
    pipeline = std::make_unique<roentgen::ingest::Pipeline>(roentgen::ingest::PipelineConfig{},
                                                            *store, metrics);
    if (!pipeline->Start().ok()) {
      std::fprintf(stderr, "cannot start the pipeline\n");
      std::exit(1);
    }
  }
  roentgen::ingest::SpoolConfig config;
  config.name = compress ? "blk" : "rec";
  config.dir = dir;
  config.max_bytes = uint64_t{8} << 30;
  config.compress = compress;
  std::mutex mu;
  std::condition_variable cv;
  size_t delivered = 0;
  roentgen::ingest::Spool spool(
      config,
      [&](const std::vector<std::string_view>& records, roentgen::ingest::SpoolDone done) {
        const size_t n = records.size();
        auto count_delivered = [&mu, &cv, &delivered, n] {
          {
            std::lock_guard lock(mu);
            delivered += n;
          }
          cv.notify_all();
        };
        if (pipeline != nullptr) {
          pipeline->SubmitSpooled(
              records, roentgen::ingest::Pipeline::SpooledRecord::kDaemonDatagram,
              [done = std::move(done), count_delivered](roentgen::ingest::SpoolBatch outcome) {
                done(outcome);
                count_delivered();
              });
          return;
        }
        count_delivered();
        done(roentgen::ingest::SpoolBatch::kDone);
      },
      metrics);
  if (!spool.Open().ok()) {
    std::fprintf(stderr, "cannot open a spool in %s\n", dir.c_str());
    std::exit(1);
  }
  const std::map<std::string, double> before = ThreadCpu();
  timespec t0{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < count; ++i) {
    // The in-memory group is full while the write thread catches up: wait.
    while (!spool.Append(pool[i % pool.size()])) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  timespec t1{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return delivered >= count; });
  }
  Run run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.cpu = ThreadCpu();
  for (auto& [name, cpu] : run.cpu) {
    auto it = before.find(name);
    if (it != before.end()) cpu -= it->second;
  }
  run.append_cpu =
      static_cast<double>(t1.tv_sec - t0.tv_sec) + static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e9;
  run.bytes = metrics
                  .GetCounter("roentgen_spool_appended_bytes_total", "",
                              {{"spool", config.name}})
                  .Value();
  spool.Stop();
  if (pipeline != nullptr) pipeline->Stop();
  std::filesystem::remove_all(dir);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The durable spool's bytes and CPU a record, LZ4 blocks and plain records"};
  size_t count = 300000;
  size_t pool_size = 20000;
  std::string dir = fmt::format("/tmp/rg-spool-bench-{}", ::getpid());
  std::string format = "both";
  bool through_pipeline = false;
  app.add_option("--count", count, "records appended");
  app.add_option("--pool", pool_size, "distinct datagrams, appended in turn");
  app.add_option("--dir", dir, "the spool's directory (deleted before and after)");
  app.add_option("--format", format, "blocks, records or both")
      ->check(CLI::IsMember({"blocks", "records", "both"}));
  app.add_flag("--pipeline", through_pipeline,
               "deliver to an ingest pipeline (parse, then 2 writers over the in-memory store)");
  CLI11_PARSE(app, argc, argv);

  roentgen::bench::SegmentGenerator gen(42);
  std::vector<std::string> pool;
  pool.reserve(pool_size);
  double raw = 0;
  for (size_t i = 0; i < pool_size; ++i) {
    pool.push_back("{\"format\":\"json\",\"version\":1}\n" +
                   gen.Next(1.7e9 + static_cast<double>(i) * 0.001));
    raw += static_cast<double>(pool.back().size());
  }
  raw /= static_cast<double>(pool_size);
  std::printf("records=%zu avg_record_bytes=%.0f\n", count, raw);
  for (const bool compress : {true, false}) {
    if ((compress && format == "records") || (!compress && format == "blocks")) continue;
    const Run run = RunSpool(pool, count, dir, compress, through_pipeline);
    const std::string name = compress ? "blk" : "rec";
    auto us = [&](const std::string& thread) {
      auto it = run.cpu.find("rg-" + name + "-" + thread);
      return it == run.cpu.end() ? 0.0 : it->second * 1e6 / static_cast<double>(count);
    };
    std::printf(
        "format=%s disk_bytes_a_record=%.0f (%.1f%% of the record) wall=%.2fs "
        "append_us=%.2f write_us=%.2f sync_us=%.2f read_us=%.2f writers_us=%.2f (CPU a record)\n",
        compress ? "blocks" : "records",
        static_cast<double>(run.bytes) / static_cast<double>(count),
        100.0 * static_cast<double>(run.bytes) / static_cast<double>(count) / raw, run.seconds,
        run.append_cpu * 1e6 / static_cast<double>(count), us("write"), us("sync"), us("read"),
        writers_us(run.cpu, count));
  }
  return 0;
}
