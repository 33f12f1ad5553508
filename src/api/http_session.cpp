#include "api/http_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "api/gunzip.h"

namespace roentgen::api::internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

constexpr uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr std::chrono::milliseconds kRejectTimeout{5000};
constexpr std::chrono::seconds kLingerTimeout{2};
// A client that connects to the HTTPS port gets this long to complete the
// TLS handshake.
constexpr std::chrono::milliseconds kHandshakeTimeout{10'000};
// The first read of a request: whatever has arrived, up to this much.
constexpr size_t kFirstReadBytes = 8 * 1024;
constexpr size_t kLingerMaxBytes = 1 << 20;
// Beast sizes each socket read by the read buffer's free capacity, and the
// buffer only grows when a read needs more: left at its first size, a 112 KB
// OTLP body took ~220 reads of ~512 bytes, each with its own timer update and
// reactor round trip. A body this large or larger is read in chunks this big.
constexpr size_t kBodyReadChunkBytes = 64 * 1024;
// A body's string is kept for the connection's next request up to this
// capacity (not the largest body a connection ever sent).
constexpr size_t kSpareBodyMaxBytes = 1 << 20;

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string PathOf(std::string_view target) {
  return std::string(target.substr(0, target.find('?')));
}

// Calls Deliver exactly once: with the handler's response, or with a 500 when
// the last copy of the Responder is dropped without being called.
class ResponderState {
 public:
  explicit ResponderState(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  ~ResponderState() {
    if (!done_.exchange(true)) {
      session_->Deliver(ErrorResponse(500, "InternalFailure", "the handler produced no response"));
    }
  }
  void Respond(HttpResponse response) {
    if (!done_.exchange(true)) session_->Deliver(std::move(response));
  }

 private:
  std::shared_ptr<Session> session_;
  std::atomic<bool> done_{false};
};

}  // namespace

Session::Session(net::ip::tcp::socket socket, std::shared_ptr<ServerCore> core, uint64_t id,
                 bool reject, std::shared_ptr<net::ssl::context> tls)
    : core_(std::move(core)),
      stream_(tls ? HttpStream(std::move(socket), std::move(tls)) : HttpStream(std::move(socket))),
      request_timer_(stream_.get_executor()),
      id_(id),
      reject_(reject) {
  beast::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_address_ = endpoint.address().to_string();
}

Session::~Session() { Finish(); }

void Session::Run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->stream_.tls()) return self->ReadHeader();
    self->stream_.expires_after(
        std::min<std::chrono::milliseconds>(kHandshakeTimeout, self->core_->config.idle_timeout));
    self->stream_.async_handshake([self](beast::error_code ec) { self->OnHandshake(ec); });
  });
}

void Session::OnHandshake(beast::error_code ec) {
  if (!ec) return ReadHeader();
  // Not TLS, a protocol or cipher it does not accept, a certificate the client
  // refused, or a timeout: counted, and only this connection is closed.
  core_->tls_handshake_failures->Inc();
  spdlog::debug("http: TLS handshake with {} failed: {}", remote_address_, ec.message());
  Close();
}

void Session::ReadHeader() {
  if (core_->draining.load()) return Close();
  state_ = State::kReading;
  route_label_ = "unmatched";
  parser_.emplace();
  parser_->get().body() = std::move(spare_body_);
  spare_body_.clear();
  parser_->body_limit(core_->config.max_body_bytes);
  parser_->header_limit(kHeaderLimitBytes);
  if (buffer_.size() > 0) return StartRequest();
  // Beast's timeout closes the socket: right for a connection nobody uses.
  stream_.expires_after(
      reject_ ? std::min<std::chrono::milliseconds>(kRejectTimeout, core_->config.idle_timeout)
              : core_->config.idle_timeout);
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnFirstBytes(ec, n); });
}

void Session::OnFirstBytes(beast::error_code ec, size_t n) {
  if (ec) {
    // A keep-alive connection left idle, or never used: closed unanswered.
    if (ec == beast::error::timeout && !reject_) CountLimit(Limit::kIdleTimeout);
    return Close();
  }
  buffer_.commit(n);
  StartRequest();
}

void Session::StartRequest() {
  if (state_ == State::kClosed) return;
  const std::chrono::milliseconds timeout =
      reject_ ? std::min<std::chrono::milliseconds>(kRejectTimeout, core_->config.request_timeout)
              : core_->config.request_timeout;
  ++request_seq_;
  request_timed_out_ = false;
  request_timer_.expires_after(timeout);
  request_timer_.async_wait(
      [self = shared_from_this(), request = request_seq_](beast::error_code ec) {
        if (!ec) self->OnRequestTimeout(request);
      });
  // Only a backstop: request_timer_ ends a stalled read first, and answers it.
  stream_.expires_after(timeout + kLingerTimeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnRequestTimeout(uint64_t request) {
  if (request != request_seq_ || state_ != State::kReading) return;  // read in time
  request_timed_out_ = true;
  // The pending read (or 100 Continue write) completes with operation_aborted.
  beast::error_code ignored;
  stream_.socket().cancel(ignored);
}

void Session::OnHeader(beast::error_code ec) {
  // The timer may have fired as the header completed: the body is not read.
  if (!ec && request_timed_out_) ec = net::error::operation_aborted;
  if (ec) return OnReadError(ec);
  started_ = std::chrono::steady_clock::now();
  route_label_ = std::string(core_->router->RouteLabel(PathOf(Sv(parser_->get().target()))));
  if (reject_) {
    return WriteErrorAndClose(
        ErrorResponse(503, "ServiceUnavailableException", "too many open connections"));
  }
  if (parser_->is_done()) return HandleRequest();
  const auto length = parser_->content_length();  // none when chunked
  const uint64_t body_bytes = length ? *length : kBodyReadChunkBytes;
  if (body_bytes > buffer_.capacity()) {
    buffer_.reserve(std::min<uint64_t>(body_bytes, kBodyReadChunkBytes));
  }
  auto read_body = [self = shared_from_this()] {
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, size_t) { self->OnBody(ec); });
  };
  if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    continue_ = http::response<http::empty_body>(http::status::continue_, 11);
    http::async_write(stream_, continue_,
                      [self = shared_from_this(), read_body](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        read_body();
                      });
    return;
  }
  read_body();
}

void Session::OnBody(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  HandleRequest();
}

void Session::OnReadError(beast::error_code ec) {
  request_timer_.cancel();
  if (state_ == State::kClosed) return;
  started_ = std::chrono::steady_clock::now();
  if (parser_->is_header_done()) {
    route_label_ = std::string(core_->router->RouteLabel(PathOf(Sv(parser_->get().target()))));
  }
  if (request_timed_out_) {
    if (reject_) return Close();
    CountLimit(Limit::kRequestTimeout);
    return WriteErrorAndClose(ErrorResponse(
        408, "RequestTimeoutException",
        fmt::format("the request did not arrive in full within {:g} s of its first byte "
                    "(headers and body; roentgen serve --http-request-timeout)",
                    static_cast<double>(core_->config.request_timeout.count()) / 1000.0)));
  }
  if (ec == http::error::body_limit) {
    CountLimit(Limit::kBodySize);
    return WriteErrorAndClose(
        ErrorResponse(413, "RequestEntityTooLargeException",
                      fmt::format("request body exceeds {} bytes", core_->config.max_body_bytes)));
  }
  if (ec == http::error::header_limit) {
    CountLimit(Limit::kHeaderSize);
    return WriteErrorAndClose(
        ErrorResponse(431, "InvalidRequestException", "request headers exceed 16 KiB"));
  }
  // A parse error (not a closed, reset or timed-out socket) gets a 400.
  if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return WriteErrorAndClose(
        ErrorResponse(400, "InvalidRequestException", "malformed HTTP request: " + ec.message()));
  }
  Close();
}

void Session::HandleRequest() {
  state_ = State::kHandling;
  request_timer_.cancel();
  stream_.expires_never();
  auto message = parser_->release();
  keep_alive_ = message.keep_alive();

  HttpRequest request;
  request.method = std::string(Sv(message.method_string()));
  request.target = std::string(Sv(message.target()));
  size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : message) {
    request.headers.emplace_back(ToLower(Sv(field.name_string())), std::string(Sv(field.value())));
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address_;

  std::string encoding = ToLower(Trim(request.Header("content-encoding")));
  if (encoding == "gzip" || encoding == "x-gzip") {
    Result<std::string> plain = Gunzip(request.body, core_->config.max_body_bytes);
    if (!plain.ok()) {
      bool too_large = plain.status().code() == StatusCode::kResourceExhausted;
      if (too_large) CountLimit(Limit::kBodySize);
      return Write(
          ErrorResponse(too_large ? 413 : 400,
                        too_large ? "RequestEntityTooLargeException" : "InvalidRequestException",
                        plain.status().message()));
    }
    request.encoded_body = std::move(request.body);  // what a signature covers
    request.body = std::move(plain).value();
  } else if (!encoding.empty() && encoding != "identity") {
    return Write(ErrorResponse(415, "UnsupportedMediaTypeException",
                               fmt::format("unsupported Content-Encoding: {}", encoding)));
  }

  auto state = std::make_shared<ResponderState>(shared_from_this());
  Responder respond = [state](HttpResponse response) { state->Respond(std::move(response)); };
  try {
    core_->router->Dispatch(request, std::move(respond));
  } catch (const std::exception& e) {
    // Handlers report errors through responses; an escaping exception is a bug.
    spdlog::error("http handler for {} {} threw: {}", request.method, request.path, e.what());
    state->Respond(ErrorResponse(500, "InternalFailure", "internal error"));
  }
  // Handlers see the request only during Dispatch; the next request is read
  // after this one is answered, on this strand.
  if (request.body.capacity() <= kSpareBodyMaxBytes) {
    request.body.clear();
    spare_body_ = std::move(request.body);
  }
}

void Session::Deliver(HttpResponse response) {
  std::lock_guard lock(core_->mu);
  if (core_->stopped) return;
  net::post(stream_.get_executor(),
            [self = shared_from_this(), response = std::move(response)]() mutable {
              self->Write(std::move(response));
            });
}

void Session::WriteErrorAndClose(HttpResponse response) {
  keep_alive_ = false;
  linger_after_write_ = true;
  Write(std::move(response));
}

void Session::Write(HttpResponse response) {
  if (state_ == State::kClosed) return;
  state_ = State::kWriting;
  request_timer_.cancel();
  response_ = {};
  response_.version(11);
  response_.result(static_cast<unsigned>(response.status));
  response_.set(http::field::server, "roentgen");
  if (!response.content_type.empty())
    response_.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) response_.insert(name, value);
  response_.keep_alive(keep_alive_ && !core_->draining.load());
  // 1xx, 204 and 304 have no content and no framing: Beast's prepare_payload
  // would throw on a body and otherwise add "Content-Length: 0", which for a
  // 304 would claim the cached representation is empty (RFC 9110 8.6).
  const unsigned code = response_.result_int();
  if (code / 100 == 1 || code == 204 || code == 304) {
    response_.erase(http::field::content_length);
    response_.erase(http::field::transfer_encoding);
  } else {
    response_.body() = std::move(response.body);
    response_.prepare_payload();
  }
  // Recorded before the write, so a client that saw the response sees it counted.
  // Runs on an I/O thread or inside Stop(), so the registry is still alive.
  const std::string status = std::to_string(response_.result_int());
  core_->metrics
      ->GetCounter("roentgen_http_requests_total", "HTTP requests by route and status.",
                   {{"path", route_label_}, {"status", status}})
      .Inc();
  core_->metrics
      ->GetHistogram("roentgen_http_request_duration_seconds",
                     "HTTP request latency by route: request read to response ready.",
                     MetricsRegistry::LatencyBuckets(), {{"path", route_label_}})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  stream_.expires_after(core_->config.idle_timeout);
  http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnWrite(ec);
  });
}

void Session::OnWrite(beast::error_code ec) {
  if (ec) {
    if (ec == beast::error::timeout) CountLimit(Limit::kResponseTimeout);
    return Close();
  }
  if (linger_after_write_) {
    state_ = State::kClosed;
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    return Linger(0);
  }
  if (!response_.keep_alive()) return Close();
  ReadHeader();
}

void Session::Linger(size_t drained) {
  if (drained >= kLingerMaxBytes) return Close();
  stream_.async_read_some(net::buffer(discard_),
                          [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                            if (ec) return self->Close();
                            self->Linger(drained + n);
                          });
}

void Session::CloseIfIdle() {
  if (state_ == State::kReading) Close();
}

void Session::ForceClose() { Close(); }

void Session::Close() {
  state_ = State::kClosed;
  request_timer_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
  Finish();
}

void Session::Finish() {
  if (finished_) return;
  finished_ = true;
  std::lock_guard lock(core_->mu);
  core_->sessions.erase(id_);
  if (reject_) {
    --core_->rejecting_connections;
  } else {
    --core_->open_connections;
    if (!core_->stopped)
      core_->connections_gauge->Set(static_cast<int64_t>(core_->open_connections));
  }
  core_->cv.notify_all();
}

}  // namespace roentgen::api::internal
