#include "insights/webhook.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <ctime>

#include "common/clock.h"
#include "common/thread_name.h"

namespace roentgen::insights {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

std::string IsoTime(int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm);
}

}  // namespace

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return Status::InvalidArgument(fmt::format(
        "--insights-webhook: '{}': only http:// URLs are supported (put a TLS proxy in front "
        "for https)",
        url));
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  WebhookUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("--insights-webhook: credentials in the URL are not supported");
  }
  std::string_view host = authority;
  std::string_view port = "80";
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("--insights-webhook: '{}': bad host", url));
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return Status::InvalidArgument(fmt::format("--insights-webhook: '{}': bad host", url));
      }
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  int port_number = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (host.empty() || ec != std::errc() || ptr != port.data() + port.size() || port_number < 1 ||
      port_number > 65535) {
    return Status::InvalidArgument(
        fmt::format("--insights-webhook: '{}': needs a host and a port from 1 to 65535", url));
  }
  out.host = std::string(host);
  out.port = std::string(port);
  return out;
}

json NotificationEnvelope(const api::GroupIdentity& identity, const Insight& insight,
                          const InsightEvent& event) {
  json detail = InsightJson(insight);
  detail["Event"] = InsightEventJson(event);
  return {{"version", "0"},
          {"id", NewInsightId()},
          {"detail-type", "AWS X-Ray Insight Update"},
          {"source", "aws.xray"},
          {"account", identity.account_id},
          {"time", IsoTime(event.event_time_us)},
          {"region", identity.region},
          {"resources", json::array({insight.group_arn})},
          {"detail", std::move(detail)}};
}

Result<std::unique_ptr<WebhookNotifier>> WebhookNotifier::Start(WebhookConfig config,
                                                                MetricsRegistry& metrics) {
  Result<WebhookUrl> url = ParseWebhookUrl(config.url);
  if (!url.ok()) return url.status();
  if (config.queue_capacity == 0 || config.max_attempts < 1 || config.timeout.count() <= 0) {
    return Status::InvalidArgument("insights webhook: a queue, an attempt and a timeout needed");
  }
  std::unique_ptr<WebhookNotifier> n(
      new WebhookNotifier(std::move(config), std::move(*url), metrics));
  n->thread_ = std::thread([p = n.get()] { p->Run(); });
  return n;
}

WebhookNotifier::WebhookNotifier(WebhookConfig config, WebhookUrl url, MetricsRegistry& metrics)
    : config_(std::move(config)),
      url_(std::move(url)),
      sent_(metrics.GetCounter("roentgen_insights_notifications_total",
                               "Insight events for the webhook, by what became of them",
                               {{"result", "sent"}})),
      failed_(metrics.GetCounter("roentgen_insights_notifications_total",
                                 "Insight events for the webhook, by what became of them",
                                 {{"result", "failed"}})),
      dropped_(metrics.GetCounter("roentgen_insights_notifications_total",
                                  "Insight events for the webhook, by what became of them",
                                  {{"result", "dropped"}})) {}

WebhookNotifier::~WebhookNotifier() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(mu_);
  dropped_.Inc(queue_.size());
}

void WebhookNotifier::OnEvent(const api::Group&, const Insight& insight,
                              const InsightEvent& event) {
  std::string body = NotificationEnvelope(config_.identity, insight, event).dump();
  {
    MutexLock lock(mu_);
    if (queue_.size() >= config_.queue_capacity) {
      dropped_.Inc();
      return;
    }
    queue_.push_back(std::move(body));
  }
  wake_.Signal();
}

void WebhookNotifier::Run() {
  SetCurrentThreadName("insights-hook");
  while (true) {
    std::string body;
    {
      MutexLock lock(mu_);
      while (!stop_ && queue_.empty()) wake_.Wait(mu_);
      if (stop_) return;
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    bool delivered = false;
    auto backoff = config_.first_backoff;
    for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
      const Status s = Post(body);
      if (s.ok()) {
        delivered = true;
        break;
      }
      spdlog::warn("insights webhook: attempt {} of {}: {}", attempt, config_.max_attempts,
                   s.message());
      if (attempt == config_.max_attempts) break;
      MutexLock lock(mu_);
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop_ && std::chrono::steady_clock::now() < until) wake_.WaitUntil(mu_, until);
      if (stop_) break;
      backoff *= 2;
    }
    (delivered ? sent_ : failed_).Inc();
  }
}

Status WebhookNotifier::Post(const std::string& body) const {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> request{http::verb::post, url_.target, 11};
  request.set(http::field::host, url_.host + ":" + url_.port);
  request.set(http::field::user_agent, "roentgen-insights");
  request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  beast::error_code result;
  // Asynchronous operations, so that the stream's deadline bounds every step
  // (a deadline does not apply to synchronous ones).
  stream.expires_after(config_.timeout);
  resolver.async_resolve(
      url_.host, url_.port, [&](beast::error_code ec, tcp::resolver::results_type endpoints) {
        if (ec) {
          result = ec;
          return;
        }
        stream.async_connect(endpoints, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) {
            result = ec2;
            return;
          }
          http::async_write(stream, request, [&](beast::error_code ec3, size_t) {
            if (ec3) {
              result = ec3;
              return;
            }
            http::async_read(stream, buffer, response,
                             [&](beast::error_code ec4, size_t) { result = ec4; });
          });
        });
      });
  // The resolver has no deadline of its own: bound the whole exchange.
  ioc.run_for(config_.timeout + std::chrono::milliseconds(100));
  if (!ioc.stopped()) {
    ioc.stop();
    return Status::Unavailable(fmt::format("{}:{}: timed out", url_.host, url_.port));
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (result) {
    return Status::Unavailable(fmt::format("{}:{}: {}", url_.host, url_.port, result.message()));
  }
  if (response.result_int() < 200 || response.result_int() >= 300) {
    return Status::Unavailable(
        fmt::format("{}:{}: answered {}", url_.host, url_.port, response.result_int()));
  }
  return Status::Ok();
}

}  // namespace roentgen::insights
