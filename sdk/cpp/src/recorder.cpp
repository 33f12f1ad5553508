// The recorder: configuration from options and the environment, segments,
// the thread-local current entity, serialization and the UDP emitter.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "sampling.h"
#include "sdk_internal.h"

namespace roentgen::sdk {
namespace detail {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool ParseHostPort(std::string_view text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
    if (v > 65535) return false;
  }
  if (v == 0) return false;
  host.assign(h);
  port = static_cast<uint16_t>(v);
  return true;
}

void WriteNode(std::string& out, const SegmentState& s, const Node& n, bool segment,
               bool independent, bool with_children) {
  out.append("{\"name\":");
  AppendJsonString(out, n.name);
  out.append(",\"id\":\"");
  n.id.AppendTo(out);
  out.push_back('"');
  if (segment || independent) {
    out.append(",\"trace_id\":\"");
    s.trace_id.AppendTo(out);
    out.push_back('"');
  }
  if (independent) {
    out.append(",\"type\":\"subsegment\",\"parent_id\":\"");
    s.nodes[n.parent].id.AppendTo(out);
    out.push_back('"');
  } else if (segment && s.parent_id) {
    out.append(",\"parent_id\":\"");
    s.parent_id->AppendTo(out);
    out.push_back('"');
  }
  out.append(",\"start_time\":");
  AppendEpochSeconds(out, n.start);
  if (n.ended) {
    out.append(",\"end_time\":");
    AppendEpochSeconds(out, n.end);
  } else {
    out.append(",\"in_progress\":true");
  }
  if (!segment && n.ns != Namespace::kNone)
    out.append(n.ns == Namespace::kRemote ? ",\"namespace\":\"remote\"" : ",\"namespace\":\"aws\"");
  if (segment && !n.origin.empty()) {
    out.append(",\"origin\":");
    AppendJsonString(out, n.origin);
  }
  if (segment && !n.user.empty()) {
    out.append(",\"user\":");
    AppendJsonString(out, n.user);
  }
  if (n.error) out.append(",\"error\":true");
  if (n.fault) out.append(",\"fault\":true");
  if (n.throttle) out.append(",\"throttle\":true");
  if (!n.http.empty()) out.append(",\"http\":{").append(n.http).push_back('}');
  if (!n.sql.empty()) out.append(",\"sql\":{").append(n.sql).push_back('}');
  if (!n.aws.empty()) {
    out.append(",\"aws\":{");
    for (size_t i = 0; i < n.aws.size(); ++i) {
      if (i) out.push_back(',');
      AppendJsonString(out, n.aws[i].first);
      out.push_back(':');
      out.append(n.aws[i].second);
    }
    out.push_back('}');
  }
  if (!n.annotations.empty()) {
    out.append(",\"annotations\":{");
    for (size_t i = 0; i < n.annotations.size(); ++i) {
      if (i) out.push_back(',');
      AppendJsonString(out, n.annotations[i].first);
      out.push_back(':');
      out.append(n.annotations[i].second);
    }
    out.push_back('}');
  }
  if (!n.metadata.empty()) {
    // Grouped by namespace, in the order the namespaces first appear.
    out.append(",\"metadata\":{");
    bool first_ns = true;
    for (size_t i = 0; i < n.metadata.size(); ++i) {
      const std::string& ns = n.metadata[i].first.first;
      bool seen = false;
      for (size_t j = 0; j < i && !seen; ++j) seen = n.metadata[j].first.first == ns;
      if (seen) continue;
      if (!first_ns) out.push_back(',');
      first_ns = false;
      AppendJsonString(out, ns);
      out.append(":{");
      bool first = true;
      for (size_t j = i; j < n.metadata.size(); ++j) {
        if (n.metadata[j].first.first != ns) continue;
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, n.metadata[j].first.second);
        out.push_back(':');
        out.append(n.metadata[j].second);
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  if (!n.exceptions.empty()) {
    out.append(",\"cause\":{\"working_directory\":");
    AppendJsonString(out, s.recorder->working_directory);
    out.append(",\"exceptions\":[").append(n.exceptions).append("]}");
  }
  if (with_children && !n.children.empty()) {
    out.append(",\"subsegments\":[");
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (i) out.push_back(',');
      WriteNode(out, s, s.nodes[n.children[i]], false, false, true);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

std::string Datagram(const SegmentState& s, uint32_t index, bool with_children) {
  std::string d;
  d.reserve(with_children ? 2048 : 512);
  d.append(kDaemonHeader);
  WriteNode(d, s, s.nodes[index], index == 0, index != 0, with_children);
  return d;
}

}  // namespace

bool ParseDaemonAddress(std::string_view text, std::string& udp_host, uint16_t& udp_port,
                        std::string& tcp_host, uint16_t& tcp_port) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  size_t space = text.find(' ');
  if (space == std::string_view::npos) {
    if (!ParseHostPort(text, udp_host, udp_port)) return false;
    tcp_host = udp_host;
    tcp_port = udp_port;
    return true;
  }
  std::string_view a = text.substr(0, space), b = text.substr(space + 1);
  while (!b.empty() && b.front() == ' ') b.remove_prefix(1);
  if (a.starts_with("tcp:")) std::swap(a, b);
  if (!a.starts_with("udp:") || !b.starts_with("tcp:")) return false;
  return ParseHostPort(a.substr(4), udp_host, udp_port) &&
         ParseHostPort(b.substr(4), tcp_host, tcp_port);
}

// --- UdpEmitter ---

UdpEmitter::UdpEmitter(std::string host, uint16_t port, size_t capacity) : capacity_(capacity) {
  queue_.reserve(capacity);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* addrs = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addrs) == 0 && addrs) {
    fd_ = socket(addrs->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    // Connected: sendmmsg needs no address, and the kernel picks the route once.
    if (fd_ >= 0 && connect(fd_, addrs->ai_addr, addrs->ai_addrlen) != 0) {
      close(fd_);
      fd_ = -1;
    }
    freeaddrinfo(addrs);
  }
  thread_ = std::thread([this] { Run(); });
}

UdpEmitter::~UdpEmitter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (fd_ >= 0) close(fd_);
}

bool UdpEmitter::Push(std::string datagram) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= capacity_ || stop_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(datagram));
    // Only an idle sender thread needs waking (a futex call on the caller's
    // thread); a busy one takes what queued meanwhile when its batch is sent.
    wake = queue_.size() == 1 && !busy_;
  }
  if (wake) wake_.notify_one();
  return true;
}

bool UdpEmitter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return drained_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

void UdpEmitter::Run() {
  std::vector<std::string> batch;
  batch.reserve(capacity_);
  constexpr size_t kPerCall = 64;
  mmsghdr msgs[kPerCall];
  iovec iovs[kPerCall];
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) break;
    busy_ = true;
    lock.unlock();
    // A moment for a burst to gather, so it goes out in one sendmmsg.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    lock.lock();
    batch.swap(queue_);
    lock.unlock();
    for (size_t i = 0; i < batch.size();) {
      size_t n = std::min(kPerCall, batch.size() - i);
      for (size_t k = 0; k < n; ++k) {
        iovs[k] = {batch[i + k].data(), batch[i + k].size()};
        msgs[k] = {};
        msgs[k].msg_hdr.msg_iov = &iovs[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int sent = fd_ >= 0 ? sendmmsg(fd_, msgs, static_cast<unsigned>(n), 0) : -1;
      if (sent <= 0) {
        // Nothing listening (ECONNREFUSED from an earlier datagram) or no
        // socket: this datagram is lost; the next one is tried.
        dropped_.fetch_add(1, std::memory_order_relaxed);
        i += 1;
      } else {
        sent_.fetch_add(static_cast<uint64_t>(sent), std::memory_order_relaxed);
        i += static_cast<size_t>(sent);
      }
    }
    batch.clear();
    lock.lock();
    if (!queue_.empty()) continue;  // queued while sending: still busy
    busy_ = false;
    drained_.notify_all();
  }
  busy_ = false;
  drained_.notify_all();
}

// --- RecorderImpl ---

RecorderImpl::RecorderImpl(RecorderOptions opts) : options(std::move(opts)) {
  if (std::string name = Env("AWS_XRAY_TRACING_NAME"); !name.empty()) options.service_name = name;
  if (options.service_name.empty()) options.service_name = "unnamed-service";
  if (options.context_missing) {
    context_missing = *options.context_missing;
  } else if (std::string cm = Env("AWS_XRAY_CONTEXT_MISSING"); !cm.empty()) {
    if (cm == "RUNTIME_ERROR")
      context_missing = ContextMissing::kRuntimeError;
    else if (cm == "IGNORE_ERROR")
      context_missing = ContextMissing::kIgnoreError;
    else if (cm == "LOG_ERROR")
      context_missing = ContextMissing::kLogError;
    else
      Warn("AWS_XRAY_CONTEXT_MISSING='" + cm +
           "' is not LOG_ERROR, RUNTIME_ERROR or IGNORE_ERROR: LOG_ERROR");
  }
  std::string address =
      options.daemon_address.empty() ? Env("AWS_XRAY_DAEMON_ADDRESS") : options.daemon_address;
  if (address.empty()) address = "127.0.0.1:2000";
  if (!ParseDaemonAddress(address, udp_host, udp_port, tcp_host, tcp_port)) {
    Warn("daemon address '" + address +
         "' is not host:port or 'udp:host:port tcp:host:port': using 127.0.0.1:2000");
    udp_host = tcp_host = "127.0.0.1";
    udp_port = tcp_port = 2000;
  }
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) working_directory = cwd;
  lambda_role = !Env("LAMBDA_TASK_ROOT").empty();
}

RecorderImpl::~RecorderImpl() { Stop(); }

void RecorderImpl::Start() {
  emitter = std::make_unique<UdpEmitter>(udp_host, udp_port, options.queue_capacity);
  sampler = std::make_unique<Sampler>(options, tcp_host, tcp_port,
                                      [this](std::string_view m) { Warn(m); });
  sampler->Start();
}

void RecorderImpl::Stop() {
  if (sampler) sampler->Stop();
  if (emitter) emitter->Flush(std::chrono::milliseconds(1000));
}

void RecorderImpl::Warn(std::string_view message) {
  std::lock_guard lock(log_mu_);
  auto now = std::chrono::steady_clock::now();
  if (now - log_window_ > std::chrono::seconds(1)) {
    log_window_ = now;
    log_lines_ = 0;
  }
  if (++log_lines_ > 10) return;
  if (options.log) {
    options.log(message);
  } else {
    std::cerr << "roentgen-xray: " << message << '\n';
  }
}

TraceContext RecorderImpl::OnContextMissing(std::string_view what) {
  std::string message = std::string(what) + ": no segment is open on this thread";
  switch (context_missing) {
    case ContextMissing::kRuntimeError:
      throw std::runtime_error(message);
    case ContextMissing::kLogError:
      Warn(message);
      break;
    case ContextMissing::kIgnoreError:
      break;
  }
  return {};
}

void RecorderImpl::Send(std::string datagram) {
  if (emitter) emitter->Push(std::move(datagram));
}

void RecorderImpl::Emit(SegmentState& s) { SendTree(s, 0); }

void RecorderImpl::SendTree(const SegmentState& s, uint32_t index) {
  std::string tree = Datagram(s, index, true);
  if (tree.size() <= kMaxDatagram) {
    if (index != 0) streamed.fetch_add(1, std::memory_order_relaxed);
    return Send(std::move(tree));
  }
  // Too big for one datagram: the entity alone, then each subsegment tree
  // as independent subsegments, split further where one is still too big.
  std::string alone = Datagram(s, index, false);
  if (alone.size() > kMaxDatagram) {
    oversize_dropped.fetch_add(1, std::memory_order_relaxed);
    Warn("an entity over 64 KB on its own ('" + s.nodes[index].name + "') was dropped");
  } else {
    if (index != 0) streamed.fetch_add(1, std::memory_order_relaxed);
    Send(std::move(alone));
  }
  for (uint32_t child : s.nodes[index].children) SendTree(s, child);
}

void RecorderImpl::StreamEnded(SegmentState& s) {
  if (s.facade || s.subsegments > options.streaming_threshold) StreamSubtrees(s, 0);
}

TraceContext RecorderImpl::LambdaFacade() {
  if (!lambda_role) return {};
  // Read at each use: the runtime sets it anew for every invocation.
  std::string text = Env("_X_AMZN_TRACE_ID");
  std::optional<TraceHeader> h = TraceHeader::Parse(text);
  if (!h || !h->root || !h->parent) {
    if (!text.empty()) Warn("_X_AMZN_TRACE_ID '" + text + "' has no Root or Parent");
    return {};
  }
  auto s = std::make_shared<SegmentState>();
  s->recorder = shared_from_this();
  s->trace_id = *h->root;
  s->lineage = h->lineage;
  s->extra = h->extra;
  s->facade = true;
  // Lambda has decided; only Sampled=0 is unsampled, as in the X-Ray SDKs.
  s->sampled = h->sampled != Sampled::kNo;
  if (s->sampled) {
    Node& n = s->nodes.emplace_back();
    n.id = *h->parent;
    n.start = NowSeconds();
    s->open = 1;
  } else {
    s->unsampled_id = *h->parent;
  }
  return Access::Make(std::move(s), 0, *h->parent);
}

bool RecorderImpl::StreamSubtrees(SegmentState& s, uint32_t index) {
  // As the X-Ray SDKs' subtree streaming: an ended subtree goes out whole
  // under its parent when that parent is still open (or is the segment);
  // an ended parent with an ended subtree waits to go out whole itself.
  bool all_done = true;
  for (uint32_t child : s.nodes[index].children) {
    bool done = StreamSubtrees(s, child);
    s.nodes[child].done = done;
    all_done = all_done && done;
  }
  Node& n = s.nodes[index];
  if (index != 0 && n.ended && all_done) return true;
  size_t kept = 0;
  for (uint32_t child : n.children) {
    if (s.nodes[child].done) {
      SendTree(s, child);
      FreeTree(s, child);
    } else {
      n.children[kept++] = child;
    }
  }
  n.children.resize(kept);
  return false;
}

void RecorderImpl::FreeTree(SegmentState& s, uint32_t index) {
  for (uint32_t child : s.nodes[index].children) FreeTree(s, child);
  s.nodes[index] = Node{};  // id zero: handles to it find it gone
  s.free_nodes.push_back(index);
  --s.subsegments;
}

void RecorderImpl::EmitInProgress(SegmentState& s) {
  if (s.facade) return;  // Lambda sends its segment
  std::string d = Datagram(s, 0, true);
  if (d.size() > kMaxDatagram) d = Datagram(s, 0, false);
  if (d.size() <= kMaxDatagram) Send(std::move(d));
}

Segment RecorderImpl::BeginSegment(std::string_view name, const SegmentOptions& o) {
  auto s = std::make_shared<SegmentState>();
  s->recorder = shared_from_this();
  std::string_view seg_name = name.empty() ? std::string_view(options.service_name) : name;
  bool decided = false;
  if (o.incoming) {
    if (o.incoming->root) {
      s->trace_id = *o.incoming->root;
      s->parent_id = o.incoming->parent;
    } else {
      s->trace_id = TraceId::Generate();
    }
    s->lineage = o.incoming->lineage;
    s->extra = o.incoming->extra;
    if (o.incoming->root && o.incoming->sampled == Sampled::kYes) s->sampled = decided = true;
    if (o.incoming->root && o.incoming->sampled == Sampled::kNo) decided = true;
  } else {
    s->trace_id = TraceId::Generate();
  }
  if (!decided) {
    SamplingRequest req = o.request;
    if (req.service_type.empty()) req.service_type = o.origin;
    s->sampled = !options.sampling || !sampler || sampler->Decide(req, seg_name);
  }
  SegmentId id;
  if (s->sampled) {
    s->nodes.reserve(8);  // a segment and a few subsegments without regrowing
    Node& n = s->nodes.emplace_back();
    n.name.assign(seg_name.substr(0, 200));
    n.id = id = SegmentId::Generate();
    n.start = o.start ? EpochSeconds(*o.start) : NowSeconds();
    n.origin = o.origin;
    s->open = 1;
  } else {
    s->unsampled_id = id = SegmentId::Generate();
  }
  TraceContext ctx = Access::Make(std::move(s), 0, id);
  if (o.make_current) {
    SegmentState* st = Access::state(ctx);
    if (st->sampled) st->nodes[0].previous = std::move(tls_current);
    tls_current = ctx;
  }
  return Segment(std::move(ctx));
}

}  // namespace detail

// --- Recorder ---

Recorder::Recorder(RecorderOptions options)
    : impl_(std::make_shared<detail::RecorderImpl>(std::move(options))) {
  impl_->Start();
}

Recorder::~Recorder() { impl_->Stop(); }

Segment Recorder::BeginSegment(std::string_view name, const SegmentOptions& options) {
  return impl_->BeginSegment(name, options);
}

namespace {
struct EntityOf : Entity {
  explicit EntityOf(TraceContext c) : Entity(std::move(c)) {}
};

// Forgets this thread's current entity once it is gone (sent with its
// segment, or streamed): an entity ended on another thread, or out of
// order, stays current here, and nothing could be recorded under it again
// (on Lambda, where no segment is begun, for every later invocation).
void ForgetGoneCurrent() {
  detail::SegmentState* s = detail::Access::state(detail::tls_current);
  if (s == nullptr || !s->sampled) return;
  bool gone;
  {
    std::lock_guard lock(s->mu);
    gone = s->emitted || detail::Access::Live(*s, detail::tls_current) == nullptr;
  }
  if (gone) detail::tls_current = {};
}
}  // namespace

Subsegment Recorder::BeginSubsegment(std::string_view name) {
  ForgetGoneCurrent();
  if (!detail::tls_current.valid()) {
    if (TraceContext facade = impl_->LambdaFacade(); facade.valid())
      return EntityOf(std::move(facade)).BeginSubsegment(name);
    impl_->OnContextMissing("BeginSubsegment('" + std::string(name) + "')");
    return Subsegment();
  }
  return Entity(Current()).BeginSubsegment(name);
}

Entity Recorder::Current() {
  ForgetGoneCurrent();
  if (!detail::tls_current.valid()) {
    if (TraceContext facade = impl_->LambdaFacade(); facade.valid())
      return EntityOf(std::move(facade));
    impl_->OnContextMissing("Current()");
  }
  return EntityOf(detail::tls_current);
}

Recorder::ContextScope Recorder::Activate(const TraceContext& ctx) {
  TraceContext previous = std::move(detail::tls_current);
  detail::tls_current = ctx;
  return ContextScope(std::move(previous));
}

Recorder::ContextScope::~ContextScope() { detail::tls_current = std::move(previous_); }

bool Recorder::Flush(std::chrono::milliseconds timeout) { return impl_->emitter->Flush(timeout); }

RecorderStats Recorder::stats() const {
  RecorderStats st;
  st.segments_sent = impl_->emitter->sent();
  st.documents_dropped = impl_->emitter->dropped() + impl_->oversize_dropped.load();
  st.annotations_dropped = impl_->annotations_dropped.load();
  st.streamed_subsegments = impl_->streamed.load();
  st.sampling_rule_fetches = impl_->sampler->rule_fetches();
  st.sampling_target_fetches = impl_->sampler->target_fetches();
  return st;
}

const std::string& Recorder::service_name() const { return impl_->options.service_name; }

bool Recorder::ShouldSample(const SamplingRequest& request, std::string_view service_name) {
  return !impl_->options.sampling || impl_->sampler->Decide(request, service_name);
}

}  // namespace roentgen::sdk
