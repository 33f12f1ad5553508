#include "api/trace_retrieval.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

namespace roentgen::api {
namespace {

using nlohmann::json;

// The `links` of an entity and its nested subsegments, kept under
// `service_name` (the segment that holds them).
void CollectLinks(const json& entity, const std::string& service_name,
                  const xray::TraceId& source, std::vector<RetrievedLink>& out) {
  if (!entity.is_object()) return;
  if (auto links = entity.find("links"); links != entity.end() && links->is_array()) {
    for (const json& l : *links) {
      if (!l.is_object() || !l.contains("trace_id") || !l["trace_id"].is_string()) continue;
      Result<xray::TraceId> destination = xray::TraceId::Parse(l["trace_id"].get<std::string>());
      if (!destination.ok()) continue;
      std::string type = "child";
      if (auto a = l.find("attributes"); a != l.end() && a->is_object()) {
        auto t = a->find("aws.xray.reserved.reference_type");
        if (t != a->end() && t->is_string()) type = t->get<std::string>();
      }
      auto same = std::find_if(out.begin(), out.end(), [&](const RetrievedLink& k) {
        return k.service_name == service_name && k.reference_type == type && k.source == source;
      });
      if (same == out.end()) {
        out.push_back({service_name, type, source, {}});
        same = out.end() - 1;
      }
      if (std::find(same->destinations.begin(), same->destinations.end(), *destination) ==
          same->destinations.end()) {
        same->destinations.push_back(*destination);
      }
    }
  }
  if (auto subs = entity.find("subsegments"); subs != entity.end() && subs->is_array()) {
    for (const json& s : *subs) CollectLinks(s, service_name, source, out);
  }
}

}  // namespace

std::string_view RetrievalStatusName(RetrievalStatus status) {
  switch (status) {
    case RetrievalStatus::kScheduled: return "SCHEDULED";
    case RetrievalStatus::kRunning: return "RUNNING";
    case RetrievalStatus::kComplete: return "COMPLETE";
    case RetrievalStatus::kFailed: return "FAILED";
    case RetrievalStatus::kCancelled: return "CANCELLED";
    case RetrievalStatus::kTimeout: return "TIMEOUT";
  }
  return "FAILED";
}

TraceRetrievals::TraceRetrievals(store::Store& store, const Clock& clock,
                                 TraceRetrievalConfig config)
    : store_(store), clock_(clock), config_(config), worker_([this] { Run(); }) {}

TraceRetrievals::~TraceRetrievals() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  work_.SignalAll();
  worker_.join();
}

Result<std::string> TraceRetrievals::Start(std::vector<xray::TraceId> ids, int64_t start_us,
                                           int64_t end_us) {
  if (ids.size() > config_.max_trace_ids) {
    return Status::InvalidArgument(fmt::format(
        "TraceIds: {} ids; a retrieval takes at most {}", ids.size(), config_.max_trace_ids));
  }
  if (start_us > end_us) {
    return Status::InvalidArgument("StartTime: after EndTime");
  }
  std::string token = xray::SegmentId::Generate().ToString() +
                      xray::SegmentId::Generate().ToString();
  {
    MutexLock lock(mu_);
    ForgetOld();
    if (jobs_.size() >= config_.max_retrievals) {
      return Status::ResourceExhausted(fmt::format(
          "{} retrievals are waiting or running; start another when one has finished",
          jobs_.size()));
    }
    Job job;
    job.ids = std::move(ids);
    job.start_us = start_us;
    job.end_us = end_us;
    job.started_us = clock_.NowMicros();
    jobs_.emplace(token, std::move(job));
    queue_.push_back(token);
  }
  work_.Signal();
  return token;
}

Result<RetrievalState> TraceRetrievals::Get(std::string_view token) const {
  MutexLock lock(mu_);
  auto it = jobs_.find(token);
  if (it == jobs_.end()) {
    return Status::NotFound(fmt::format("no retrieval has the token \"{}\"", token.substr(0, 64)));
  }
  RetrievalState state = it->second.state;
  // A retrieval still waiting past the deadline reads as timed out.
  if ((state.status == RetrievalStatus::kScheduled || state.status == RetrievalStatus::kRunning) &&
      clock_.NowMicros() - it->second.started_us > config_.timeout_us) {
    state.status = RetrievalStatus::kTimeout;
  }
  return state;
}

Status TraceRetrievals::Cancel(std::string_view token) {
  MutexLock lock(mu_);
  auto it = jobs_.find(token);
  if (it == jobs_.end()) {
    return Status::NotFound(fmt::format("no retrieval has the token \"{}\"", token.substr(0, 64)));
  }
  Job& job = it->second;
  if (job.state.status == RetrievalStatus::kScheduled ||
      job.state.status == RetrievalStatus::kRunning) {
    // The worker sees it between two traces (Stopping) and leaves the status.
    job.state.status = RetrievalStatus::kCancelled;
    job.finished_us = clock_.NowMicros();
  }
  return Status::Ok();
}

void TraceRetrievals::ForgetOld() {
  const int64_t now = clock_.NowMicros();
  std::vector<std::pair<int64_t, std::string>> finished;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const Job& job = it->second;
    if (job.finished_us && now - *job.finished_us > config_.keep_us) {
      it = jobs_.erase(it);
      continue;
    }
    if (job.finished_us) finished.emplace_back(*job.finished_us, it->first);
    ++it;
  }
  if (jobs_.size() < config_.max_retrievals) return;
  std::sort(finished.begin(), finished.end());
  for (const auto& [when, token] : finished) {
    if (jobs_.size() < config_.max_retrievals) break;
    jobs_.erase(token);
  }
}

bool TraceRetrievals::Stopping(const std::string& token, int64_t started_us) const {
  MutexLock lock(mu_);
  if (stop_) return true;
  auto it = jobs_.find(token);
  if (it == jobs_.end() || it->second.state.status == RetrievalStatus::kCancelled) return true;
  return clock_.NowMicros() - started_us > config_.timeout_us;
}

RetrievalStatus TraceRetrievals::Execute(const std::string& token, const Job& job,
                                         RetrievalResult& result, std::string& failure) {
  for (const xray::TraceId& id : job.ids) {
    if (Stopping(token, job.started_us)) {
      MutexLock lock(mu_);
      auto it = jobs_.find(token);
      if (stop_ || it == jobs_.end() || it->second.state.status == RetrievalStatus::kCancelled) {
        return RetrievalStatus::kCancelled;
      }
      return RetrievalStatus::kTimeout;
    }
    Result<store::TraceRecord> record = store_.GetTrace(id);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) continue;
      failure = record.status().ToString();
      return RetrievalStatus::kFailed;
    }
    const xray::TraceSummary& summary = record->summary;
    const int64_t trace_end = summary.start_time_us + summary.duration_us.value_or(0);
    if (summary.start_time_us > job.end_us || trace_end < job.start_us) continue;
    Result<std::vector<store::StoredDocument>> docs = store_.GetDocuments(id);
    if (!docs.ok()) {
      failure = docs.status().ToString();
      return RetrievalStatus::kFailed;
    }
    for (const store::StoredDocument& d : *docs) {
      const json doc = json::parse(d.raw, nullptr, /*allow_exceptions=*/false);
      if (!doc.is_object()) continue;
      // An independent subsegment's links belong to the segment named by the
      // graph; without the parent at hand, its own name stands in.
      auto name = doc.find("name");
      CollectLinks(doc, name != doc.end() && name->is_string() ? name->get<std::string>() : "",
                   id, result.links);
    }
    result.traces.push_back(id);
    result.graphs.push_back(std::move(record->graph));
  }
  return RetrievalStatus::kComplete;
}

void TraceRetrievals::Run() {
  for (;;) {
    std::string token;
    Job job;
    {
      MutexLock lock(mu_);
      while (!stop_ && queue_.empty()) work_.Wait(mu_);
      if (stop_) return;
      token = std::move(queue_.front());
      queue_.pop_front();
      auto it = jobs_.find(token);
      if (it == jobs_.end() || it->second.state.status != RetrievalStatus::kScheduled) continue;
      it->second.state.status = RetrievalStatus::kRunning;
      job.ids = it->second.ids;
      job.start_us = it->second.start_us;
      job.end_us = it->second.end_us;
      job.started_us = it->second.started_us;
    }
    auto result = std::make_shared<RetrievalResult>();
    std::string failure;
    const RetrievalStatus status = Execute(token, job, *result, failure);
    MutexLock lock(mu_);
    auto it = jobs_.find(token);
    if (it == jobs_.end() || it->second.state.status == RetrievalStatus::kCancelled) continue;
    it->second.state.status = status;
    it->second.finished_us = clock_.NowMicros();
    if (status == RetrievalStatus::kComplete) it->second.state.result = std::move(result);
    if (status == RetrievalStatus::kFailed) it->second.state.failure = std::move(failure);
  }
}

}  // namespace roentgen::api
