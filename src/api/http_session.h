// Internal to http_server.cpp: one accepted TCP connection and the state the
// server shares with all its connections. Not part of the API.
//
// A Session lives on its own strand; every member function below except
// Deliver() must run on that strand. Sessions are owned by shared_ptr: by the
// pending asynchronous operation, or by the Responder of the request being
// handled.
#pragma once

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/http_server.h"
#include "api/http_stream.h"
#include "api/limits.h"
#include "common/metrics.h"

namespace roentgen::api::internal {

class Session;

// Shared by the server and its sessions; outlives both (a late Responder may
// hold a session, and so this, after the server is gone).
struct ServerCore {
  HttpServerConfig config;
  const Router* router = nullptr;
  MetricsRegistry* metrics = nullptr;
  boost::asio::io_context ioc;

  std::atomic<bool> draining{false};  // Stop() began: no keep-alive, no new requests

  std::mutex mu;
  std::condition_variable cv;  // signalled when a connection ends
  bool stopped = false;        // Stop() gave up waiting: drop late responses
  std::map<uint64_t, std::weak_ptr<Session>> sessions;
  uint64_t next_session_id = 0;
  size_t open_connections = 0;       // served connections
  size_t rejecting_connections = 0;  // over the limit, being answered 503

  Gauge* connections_gauge = nullptr;
  Counter* rejected_counter = nullptr;
  std::array<Counter*, kLimitCount> limit_counters{};  // roentgen_limits_exceeded_total
  Counter* tls_handshake_failures = nullptr;
  // HTTPS: the TLS context new connections use (replaced by a reload, under
  // `mu`); null: plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `tls` non-null: the connection speaks TLS with this context.
  Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerCore> core, uint64_t id,
          bool reject, std::shared_ptr<boost::asio::ssl::context> tls);
  ~Session();

  void Run();          // starts the TLS handshake, if any, then reads the first request
  void CloseIfIdle();  // Stop(): close unless a request is being handled
  void ForceClose();   // Stop() after the drain deadline
  // Thread-safe: posts the response to the session's strand (dropped after Stop()).
  void Deliver(HttpResponse response);
  // The session's strand (thread-safe).
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class State { kReading, kHandling, kWriting, kClosed };

  void OnHandshake(boost::beast::error_code ec);
  // Waits (idle_timeout) for the next request's first bytes, unless they are
  // buffered already (pipelined).
  void ReadHeader();
  void OnFirstBytes(boost::beast::error_code ec, size_t n);
  // The request has begun: request_timeout runs until it has been read.
  void StartRequest();
  void OnRequestTimeout(uint64_t request);
  void OnHeader(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void OnReadError(boost::beast::error_code ec);
  void HandleRequest();
  void Write(HttpResponse response);
  // Error response for a request that was not (fully) read: closes afterwards,
  // draining what the client still sends so it sees the response, not a reset.
  void WriteErrorAndClose(HttpResponse response);
  void OnWrite(boost::beast::error_code ec);
  void Linger(size_t drained);
  void Close();
  void Finish();  // bookkeeping, once
  void CountLimit(Limit limit) { core_->limit_counters[static_cast<size_t>(limit)]->Inc(); }

  std::shared_ptr<ServerCore> core_;  // declared first: the socket dies before the io_context
  HttpStream stream_;
  // Bounds the read of one request; on expiry the read is cancelled and
  // answered 408 (Beast's own stream timeout would close the socket first).
  boost::asio::steady_timer request_timer_;
  uint64_t request_seq_ = 0;        // the request being read, for a late timer
  bool request_timed_out_ = false;  // its read was cancelled by request_timer_
  const uint64_t id_;
  const bool reject_;
  std::string remote_address_;

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  // The last request's body, emptied, for the next one to read into: a new
  // string for every body would be a new allocation whose pages the read
  // first touches (PutTraceSegments bodies are ~75 KB).
  std::string spare_body_;
  boost::beast::http::response<boost::beast::http::empty_body> continue_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  std::array<char, 4096> discard_{};

  State state_ = State::kReading;
  bool keep_alive_ = true;
  bool linger_after_write_ = false;
  bool finished_ = false;
  std::string route_label_ = "unmatched";
  std::chrono::steady_clock::time_point started_;
};

}  // namespace roentgen::api::internal
