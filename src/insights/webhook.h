// Insight notifications to a webhook: each InsightEvent of a group with
// NotificationsEnabled is POSTed as JSON, in the envelope EventBridge gives
// X-Ray's events (source "aws.xray", detail-type "AWS X-Ray Insight Update";
// docs/api.md, "Notifications"), to the URL of `serve --insights-webhook`.
//
// Best effort, as X-Ray's: events wait in a bounded queue (a full queue
// drops the new event); one thread sends them in order, each attempt bounded
// by `timeout`, a failed one (no connection, a timeout, a status other than
// 2xx) retried up to `max_attempts` times with doubling backoff, then given
// up. Counted in /metrics: roentgen_insights_notifications_total{result=
// "sent"|"failed"|"dropped"}. The destructor stops the thread after the
// attempt in progress; events still queued are counted as dropped.
//
// Plain http:// URLs (host, optional port, optional path).
//
// Thread safety: OnEvent from any thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "api/group_registry.h"
#include "common/metrics.h"
#include "common/mutex.h"
#include "common/status.h"
#include "insights/detector.h"

namespace roentgen::insights {

struct WebhookUrl {
  std::string host;
  std::string port;
  std::string target;  // the path and query, "/" at least
};
// InvalidArgument for anything but http://host[:port][/path].
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

struct WebhookConfig {
  std::string url;
  size_t queue_capacity = 1000;
  std::chrono::milliseconds timeout{5000};
  int max_attempts = 4;
  std::chrono::milliseconds first_backoff{1000};
  api::GroupIdentity identity;  // the envelope's region and account
};

// The EventBridge event for one insight event.
nlohmann::json NotificationEnvelope(const api::GroupIdentity& identity, const Insight& insight,
                                    const InsightEvent& event);

class WebhookNotifier final : public InsightSink {
 public:
  static Result<std::unique_ptr<WebhookNotifier>> Start(WebhookConfig config,
                                                        MetricsRegistry& metrics);
  ~WebhookNotifier() override;

  void OnEvent(const api::Group& group, const Insight& insight, const InsightEvent& event) override
      EXCLUDES(mu_);

 private:
  WebhookNotifier(WebhookConfig config, WebhookUrl url, MetricsRegistry& metrics);
  void Run() EXCLUDES(mu_);
  // One POST; OK on a 2xx answer.
  Status Post(const std::string& body) const;

  const WebhookConfig config_;
  const WebhookUrl url_;
  Counter& sent_;
  Counter& failed_;
  Counter& dropped_;
  Mutex mu_;
  CondVar wake_;
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace roentgen::insights
