// The SDK's internals, shared by its source files (not installed).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "roentgen/xray.h"

namespace roentgen::sdk::detail {

uint64_t Random64();
double RandomUnit();  // [0, 1)
void AppendHex(std::string& out, uint64_t v, int digits);

// JSON text helpers: the documents are written by hand, into one string.
void AppendJsonString(std::string& out, std::string_view s);
void AppendJsonNumber(std::string& out, double v);          // false when not finite
void AppendEpochSeconds(std::string& out, double seconds);  // microsecond precision
bool IsValidJson(std::string_view text);
double EpochSeconds(std::chrono::system_clock::time_point t);
double NowSeconds();

constexpr uint32_t kNoNode = UINT32_MAX;
// The daemon protocol's header line, which every datagram starts with.
constexpr std::string_view kDaemonHeader = "{\"format\":\"json\",\"version\":1}\n";
// X-Ray's UDP limit: a datagram (header line included) of at most 64 KB.
constexpr size_t kMaxDatagram = 64 * 1024;

// A segment or subsegment. A streamed subsegment's slot is reset (its id
// zero, which no entity has) and reused.
struct Node {
  std::string name;
  SegmentId id;
  uint32_t parent = kNoNode;
  double start = 0, end = 0;
  bool ended = false;
  bool error = false, fault = false, throttle = false;
  Namespace ns = Namespace::kNone;
  std::vector<uint32_t> children;
  // Annotation members already as JSON values, replaced by key.
  std::vector<std::pair<std::string, std::string>> annotations;
  // Metadata: (namespace, key) → JSON value text.
  std::vector<std::pair<std::pair<std::string, std::string>, std::string>> metadata;
  std::vector<std::pair<std::string, std::string>> aws;  // key → JSON value text
  std::string http;                                      // the http block's members, JSON
  std::string sql;                                       // the sql block's members, JSON
  std::string exceptions;                                // cause.exceptions[] elements, JSON
  std::string user, origin;
  TraceContext previous;  // this thread's current entity before this one
  bool done = false;      // scratch while streaming: the subtree has ended
};

struct SegmentState {
  std::shared_ptr<RecorderImpl> recorder;
  TraceId trace_id;
  std::optional<SegmentId> parent_id;  // from the incoming header
  bool sampled = false;
  std::string lineage;
  std::vector<std::pair<std::string, std::string>> extra;
  std::mutex mu;
  std::vector<Node> nodes;  // [0] is the segment; guarded by mu
  std::vector<uint32_t> free_nodes;  // slots of streamed subsegments; guarded by mu
  uint32_t subsegments = 0;          // held in nodes (not streamed); guarded by mu
  uint32_t open = 0;                 // entities not yet ended; guarded by mu
  SegmentId unsampled_id;   // the segment's id when nothing is recorded
  // Node 0 stands for a segment someone else sends (Lambda's function
  // segment): it is never recorded on, ended or sent, and its subsegments
  // are streamed as soon as they end.
  bool facade = false;
  bool emitted = false;     // the completed document was sent; guarded by mu
};

// Reaches TraceContext's private parts.
struct Access {
  static SegmentState* state(const TraceContext& c) { return c.state_.get(); }
  static uint32_t node(const TraceContext& c) { return c.node_; }
  static SegmentId id(const TraceContext& c) { return c.id_; }
  static TraceContext Make(std::shared_ptr<SegmentState> s, uint32_t node, SegmentId id) {
    return TraceContext(std::move(s), node, id);
  }
  // The entity's node while it is still held (not streamed); s.mu held.
  static Node* Live(SegmentState& s, const TraceContext& c) {
    if (c.node_ >= s.nodes.size() || s.nodes[c.node_].id != c.id_) return nullptr;
    return &s.nodes[c.node_];
  }
};

// The node index of the entities of an unsampled trace, which record nothing.
constexpr uint32_t kUnsampledNode = UINT32_MAX - 1;

// Sends datagrams from a bounded queue on a thread of its own, in batches
// (sendmmsg), so the caller never waits on the network.
class UdpEmitter {
 public:
  UdpEmitter(std::string host, uint16_t port, size_t capacity);
  ~UdpEmitter();
  // False (and counted as dropped) when the queue is full.
  bool Push(std::string datagram);
  bool Flush(std::chrono::milliseconds timeout);
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable wake_, drained_;
  std::vector<std::string> queue_;  // guarded by mu_
  size_t capacity_;
  bool stop_ = false;  // guarded by mu_
  bool busy_ = false;  // a batch is being sent; guarded by mu_
  int fd_ = -1;
  std::atomic<uint64_t> sent_{0}, dropped_{0};
  std::thread thread_;
};

class Sampler;

class RecorderImpl : public std::enable_shared_from_this<RecorderImpl> {
 public:
  explicit RecorderImpl(RecorderOptions options);
  ~RecorderImpl();
  void Start();
  void Stop();

  Segment BeginSegment(std::string_view name, const SegmentOptions& options);
  void Warn(std::string_view message);
  TraceContext OnContextMissing(std::string_view what);
  // Serializes the finished segment (and streams what does not fit).
  void Emit(SegmentState& state);            // state.mu held
  void EmitInProgress(SegmentState& state);  // state.mu held
  // When the segment holds more than options.streaming_threshold
  // subsegments: sends every subtree that has ended as independent
  // subsegments and frees its nodes. state.mu held.
  void StreamEnded(SegmentState& state);
  // In the Lambda role (LAMBDA_TASK_ROOT set), the function's segment is
  // Lambda's: a facade for it from this invocation's _X_AMZN_TRACE_ID.
  // Invalid when not on Lambda or the header lacks Root or Parent.
  TraceContext LambdaFacade();
  void Send(std::string datagram);

  RecorderOptions options;
  sdk::ContextMissing context_missing = sdk::ContextMissing::kLogError;
  std::string working_directory;
  bool lambda_role = false;
  std::string udp_host, tcp_host;
  uint16_t udp_port = 2000, tcp_port = 2000;
  std::unique_ptr<UdpEmitter> emitter;
  std::unique_ptr<Sampler> sampler;
  std::atomic<uint64_t> annotations_dropped{0}, streamed{0}, oversize_dropped{0};

 private:
  // Sends the tree at `index` (independent subsegments unless it is the
  // segment), split into as many datagrams as 64 KB needs.
  void SendTree(const SegmentState& state, uint32_t index);
  // Whether the tree at `index` has ended entirely; streams the ended
  // subtrees of one that has not.
  bool StreamSubtrees(SegmentState& state, uint32_t index);
  void FreeTree(SegmentState& state, uint32_t index);

  std::mutex log_mu_;
  std::chrono::steady_clock::time_point log_window_;
  int log_lines_ = 0;
};

// Parses AWS_XRAY_DAEMON_ADDRESS's forms; false when malformed.
bool ParseDaemonAddress(std::string_view text, std::string& udp_host, uint16_t& udp_port,
                        std::string& tcp_host, uint16_t& tcp_port);

thread_local inline TraceContext tls_current;

}  // namespace roentgen::sdk::detail
