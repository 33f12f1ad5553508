#include "api/http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/http_session.h"
#include "common/thread_name.h"

namespace roentgen::api {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using internal::ServerCore;
using internal::Session;

Status HttpServerConfig::Validate() const {
  if (host.empty()) return Status::InvalidArgument("http: host is empty");
  if (max_body_bytes == 0) return Status::InvalidArgument("http: max_body_bytes must be > 0");
  if (max_connections == 0) return Status::InvalidArgument("http: max_connections must be > 0");
  if (idle_timeout.count() <= 0) return Status::InvalidArgument("http: idle_timeout must be > 0");
  if (request_timeout.count() <= 0) {
    return Status::InvalidArgument("http: request_timeout must be > 0");
  }
  if (drain_timeout.count() < 0) return Status::InvalidArgument("http: drain_timeout must be >= 0");
  if (threads < 1 || threads > 256) {
    return Status::InvalidArgument(
        fmt::format("http: threads must be in [1, 256], got {}", threads));
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Status::InvalidArgument("http: TLS needs both a certificate and a private key file");
  }
  return Status::Ok();
}

// The server's own state beside the shared core: the acceptor and threads.
struct HttpServer::Core {
  std::shared_ptr<ServerCore> shared;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> retry_timer;
  // Keeps the I/O threads running while a handler holds a request without any
  // pending socket operation (an asynchronous Responder).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool stopped = false;
  std::string tls_description;

  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket);
};

void HttpServer::Core::DoAccept() {
  acceptor->async_accept(net::make_strand(shared->ioc),
                         [this](boost::system::error_code ec, tcp::socket socket) {
                           OnAccept(ec, std::move(socket));
                         });
}

void HttpServer::Core::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor->is_open() || ec == net::error::operation_aborted) return;
  if (ec) {
    // E.g. out of file descriptors: back off instead of spinning.
    spdlog::warn("http: accept failed: {}", ec.message());
    retry_timer->expires_after(std::chrono::milliseconds(100));
    retry_timer->async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor->is_open()) DoAccept();
    });
    return;
  }
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(shared->mu);
    if (shared->draining.load()) return;  // the socket closes as it goes out of scope
    bool reject = shared->open_connections >= shared->config.max_connections;
    if (reject) {
      shared->rejected_counter->Inc();
      shared->limit_counters[static_cast<size_t>(Limit::kConnections)]->Inc();
      // Beyond twice the limit, drop without an answer: bounds the work spent on refusals.
      if (shared->rejecting_connections >= shared->config.max_connections) return;
      ++shared->rejecting_connections;
    } else {
      ++shared->open_connections;
      shared->connections_gauge->Set(static_cast<int64_t>(shared->open_connections));
    }
    uint64_t id = shared->next_session_id++;
    session = std::make_shared<Session>(std::move(socket), shared, id, reject, shared->tls);
    shared->sessions.emplace(id, session);
  }
  session->Run();
  DoAccept();
}

HttpServer::HttpServer(HttpServerConfig config, const Router& router, MetricsRegistry& metrics)
    : config_(std::move(config)), router_(router), metrics_(metrics) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return core_ ? core_->port : 0; }

std::string HttpServer::tls_description() const {
  if (!core_) return "";
  std::lock_guard lock(core_->shared->mu);
  return core_->tls_description;
}

Status HttpServer::ReloadTls() {
  if (!core_ || !tls()) return Status::Ok();
  Result<TlsContext> loaded = LoadTlsContext(config_.tls);
  if (!loaded.ok()) return loaded.status();
  if (loaded->expired) {
    spdlog::warn("http: the TLS certificate in {} has expired ({}); clients will refuse it",
                 config_.tls.cert_file, loaded->description);
  }
  std::lock_guard lock(core_->shared->mu);
  core_->shared->tls = std::move(loaded->context);
  core_->tls_description = std::move(loaded->description);
  return Status::Ok();
}

Status HttpServer::Start() {
  if (core_) return Status::Internal("http: Start() called twice");
  RG_RETURN_IF_ERROR(config_.Validate());
  auto core = std::make_shared<Core>();
  core->shared = std::make_shared<ServerCore>();
  ServerCore& shared = *core->shared;
  shared.config = config_;
  shared.router = &router_;
  shared.metrics = &metrics_;
  shared.connections_gauge =
      &metrics_.GetGauge("roentgen_http_connections", "Open HTTP connections being served.");
  shared.rejected_counter =
      &metrics_.GetCounter("roentgen_http_connections_rejected_total",
                           "HTTP connections refused with 503 because max_connections were open.");
  for (size_t i = 0; i < kLimitCount; ++i) {
    shared.limit_counters[i] = &LimitCounter(metrics_, static_cast<Limit>(i));
  }
  shared.tls_handshake_failures = &metrics_.GetCounter(
      "roentgen_http_tls_handshake_failures_total",
      "HTTPS connections closed because their TLS handshake failed or timed out.");
  if (tls()) {
    Result<TlsContext> loaded = LoadTlsContext(config_.tls);
    if (!loaded.ok()) return loaded.status();
    if (loaded->expired) {
      spdlog::warn("http: the TLS certificate in {} has expired ({}); clients will refuse it",
                   config_.tls.cert_file, loaded->description);
    }
    shared.tls = std::move(loaded->context);
    core->tls_description = std::move(loaded->description);
  }

  boost::system::error_code ec;
  tcp::resolver resolver(shared.ioc);
  auto endpoints = resolver.resolve(config_.host, std::to_string(config_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument(
        fmt::format("http: cannot resolve host '{}': {}", config_.host, ec.message()));
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();

  core->acceptor.emplace(net::make_strand(shared.ioc));
  core->retry_timer.emplace(core->acceptor->get_executor());
  tcp::acceptor& acceptor = *core->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Status::IOError(fmt::format("http: cannot open socket: {}", ec.message()));
  }
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return Status::IOError(fmt::format("http: cannot set SO_REUSEADDR: {}", ec.message()));
  }
  if (acceptor.bind(endpoint, ec); ec) {
    return Status::IOError(
        fmt::format("http: cannot bind {}:{}: {}", config_.host, config_.port, ec.message()));
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return Status::IOError(
        fmt::format("http: cannot listen on {}:{}: {}", config_.host, config_.port, ec.message()));
  }
  core->port = acceptor.local_endpoint(ec).port();
  core->DoAccept();
  core->work.emplace(shared.ioc.get_executor());
  for (int i = 0; i < config_.threads; ++i) {
    core->threads.emplace_back([&ioc = shared.ioc] {
      SetCurrentThreadName("rg-http");
      ioc.run();
    });
  }
  core_ = std::move(core);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!core_ || core_->stopped) return;
  core_->stopped = true;
  ServerCore& shared = *core_->shared;
  shared.draining.store(true);

  auto snapshot = [&shared] {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard lock(shared.mu);
    for (auto& [id, weak] : shared.sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    return live;
  };
  auto post_to_all = [](const std::vector<std::shared_ptr<Session>>& sessions, auto member) {
    for (const auto& s : sessions) {
      net::post(s->executor(), [s, member] { ((*s).*member)(); });
    }
  };

  // 1. No new connections; idle connections close now.
  net::post(core_->acceptor->get_executor(), [core = core_.get()] {
    boost::system::error_code ignored;
    core->acceptor->close(ignored);
    core->retry_timer->cancel();
  });
  post_to_all(snapshot(), &Session::CloseIfIdle);

  // 2. Requests being handled finish (their responses say Connection: close).
  {
    std::unique_lock lock(shared.mu);
    shared.cv.wait_for(lock, config_.drain_timeout, [&shared] {
      return shared.open_connections == 0 && shared.rejecting_connections == 0;
    });
    if (shared.open_connections != 0) {
      spdlog::warn("http: {} connection(s) still busy after {}s; closing them",
                   shared.open_connections, config_.drain_timeout.count());
    }
    shared.stopped = true;  // late responses are dropped from here on
  }

  // 3. Close whatever is left; the I/O threads return once no work remains.
  post_to_all(snapshot(), &Session::ForceClose);
  core_->work.reset();
  for (auto& t : core_->threads) t.join();
  core_->threads.clear();
  // Run handlers posted while the threads were exiting, so none is left holding
  // a session (and through it the io_context).
  shared.ioc.restart();
  shared.ioc.poll();
}

}  // namespace roentgen::api
