// The webhook notifier against a real HTTP server on loopback.
#include "insights/webhook.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

namespace roentgen::insights {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

// Answers each request with the next status of `statuses`, recording the bodies.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::vector<int> statuses)
      : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        statuses_(std::move(statuses)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackServer() { thread_.join(); }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Waits until the server has answered every status, then its requests.
  std::vector<http::request<http::string_body>> Requests() {
    thread_.join();
    thread_ = std::thread([] {});
    return requests_;
  }

 private:
  void Serve() {
    for (int status : statuses_) {
      tcp::socket socket(ioc_);
      acceptor_.accept(socket);
      beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request);
      requests_.push_back(request);
      http::response<http::string_body> response{static_cast<http::status>(status), 11};
      response.body() = "";
      response.prepare_payload();
      http::write(socket, response);
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<int> statuses_;
  std::vector<http::request<http::string_body>> requests_;
  std::thread thread_;
};

Insight SampleInsight() {
  Insight i;
  i.id = "6f0d6c3e-1111-4222-8333-444455556666";
  i.group_name = "web";
  i.group_arn = "arn:aws:xray:us-east-1:000000000000:group/web/ABC";
  i.start_time_us = 1'700'000'000'000'000;
  i.summary = "The fault rate of back is 40.0%";
  i.root_cause = ServiceRef{"back", {"back"}, "", ""};
  i.top_anomalous_services = {i.root_cause};
  i.client_impact = {40, 60, 100};
  i.root_cause_impact = {40, 60, 100};
  return i;
}

uint64_t Count(MetricsRegistry& metrics, const char* result) {
  return metrics
      .GetCounter("roentgen_insights_notifications_total",
                  "Insight events for the webhook, by what became of them", {{"result", result}})
      .Value();
}

TEST(WebhookUrl, Parses) {
  Result<WebhookUrl> u = ParseWebhookUrl("http://127.0.0.1:9000/hooks/xray?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "9000");
  EXPECT_EQ(u->target, "/hooks/xray?x=1");
  u = ParseWebhookUrl("http://[::1]/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "80");
  EXPECT_FALSE(ParseWebhookUrl("https://example.com/").ok());
  EXPECT_FALSE(ParseWebhookUrl("http://:80/").ok());
  EXPECT_FALSE(ParseWebhookUrl("http://host:0/").ok());
  EXPECT_FALSE(ParseWebhookUrl("ftp://host/").ok());
}

TEST(WebhookNotifier, PostsTheEventBridgeEnvelopeAndRetriesAFailure) {
  LoopbackServer server({500, 200});
  MetricsRegistry metrics;
  WebhookConfig config;
  config.url = fmt::format("http://127.0.0.1:{}/xray", server.port());
  config.first_backoff = std::chrono::milliseconds(10);
  Result<std::unique_ptr<WebhookNotifier>> notifier = WebhookNotifier::Start(config, metrics);
  ASSERT_TRUE(notifier.ok()) << notifier.status().message();
  const Insight insight = SampleInsight();
  const InsightEvent event{
      1'700'000'060'000'000, "opened", {4, 6, 10}, {4, 6, 10}, insight.top_anomalous_services};
  api::Group group;
  group.name = "web";
  (*notifier)->OnEvent(group, insight, event);

  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target(), "/xray");
  EXPECT_EQ(requests[1][http::field::content_type], "application/json");
  const json envelope = json::parse(requests[1].body());
  EXPECT_EQ(envelope["source"], "aws.xray");
  EXPECT_EQ(envelope["detail-type"], "AWS X-Ray Insight Update");
  EXPECT_EQ(envelope["account"], "000000000000");
  EXPECT_EQ(envelope["region"], "us-east-1");
  EXPECT_EQ(envelope["time"], "2023-11-14T22:14:20Z");
  EXPECT_EQ(envelope["resources"], json::array({insight.group_arn}));
  const json& detail = envelope["detail"];
  EXPECT_EQ(detail["InsightId"], insight.id);
  EXPECT_EQ(detail["GroupName"], "web");
  EXPECT_EQ(detail["State"], "ACTIVE");
  EXPECT_EQ(detail["Categories"], json::array({"FAULT"}));
  EXPECT_EQ(detail["RootCauseServiceId"]["Name"], "back");
  EXPECT_EQ(detail["ClientRequestImpactStatistics"]["FaultCount"], 40);
  EXPECT_EQ(detail["Event"]["Summary"], "opened");
  EXPECT_EQ(detail["Event"]["RootCauseServiceRequestImpactStatistics"]["TotalCount"], 10);
  notifier->reset();  // joins the sender
  EXPECT_EQ(Count(metrics, "sent"), 1u);
  EXPECT_EQ(Count(metrics, "failed"), 0u);
}

TEST(WebhookNotifier, GivesUpAfterTheAttemptsAndCountsIt) {
  // A port nobody listens on: every attempt is refused.
  uint16_t port = 0;
  {
    boost::asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  MetricsRegistry metrics;
  WebhookConfig config;
  config.url = fmt::format("http://127.0.0.1:{}/", port);
  config.max_attempts = 2;
  config.first_backoff = std::chrono::milliseconds(5);
  config.timeout = std::chrono::milliseconds(500);
  auto notifier = std::move(WebhookNotifier::Start(config, metrics)).value();
  api::Group group;
  notifier->OnEvent(group, SampleInsight(), InsightEvent{});
  for (int i = 0; i < 200 && Count(metrics, "failed") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count(metrics, "failed"), 1u);
  EXPECT_EQ(Count(metrics, "sent"), 0u);
}

TEST(WebhookNotifier, AFullQueueDrops) {
  // A server that takes connections and never answers: the first event keeps
  // the sender busy for the timeout while the others arrive.
  boost::asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  MetricsRegistry metrics;
  WebhookConfig config;
  config.url = fmt::format("http://127.0.0.1:{}/", silent.local_endpoint().port());
  config.queue_capacity = 1;
  config.max_attempts = 1;
  config.timeout = std::chrono::milliseconds(300);
  auto notifier = std::move(WebhookNotifier::Start(config, metrics)).value();
  api::Group group;
  for (int i = 0; i < 50; ++i) notifier->OnEvent(group, SampleInsight(), InsightEvent{});
  notifier.reset();
  // At most one event was taken by the sender (and timed out); the one left
  // in the queue at shutdown counts as dropped.
  EXPECT_GE(Count(metrics, "dropped"), 49u);
  EXPECT_LE(Count(metrics, "failed"), 1u);
  EXPECT_EQ(Count(metrics, "dropped") + Count(metrics, "failed"), 50u);
  EXPECT_EQ(Count(metrics, "sent"), 0u);
}

}  // namespace
}  // namespace roentgen::insights
