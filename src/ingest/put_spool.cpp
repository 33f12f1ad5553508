#include "ingest/put_spool.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/coding.h"
#include "common/mutex.h"

namespace roentgen::ingest {
namespace {

constexpr size_t kTokenBytes = 8;

}  // namespace

// The requests waiting for their documents, by token.
struct PutSpool::Waiters {
  struct Waiter {
    Pipeline::SubmitCallback done;
    std::vector<DocumentOutcome> outcomes;
    size_t unapplied = 0;  // documents the writers have not yet applied
    bool durable = false;  // fdatasync'd in the spool
  };
  // A request's answer, given outside the lock.
  struct Answer {
    Pipeline::SubmitCallback done;
    std::vector<DocumentOutcome> outcomes;
    Status status;
    void Give() { done(std::move(status), std::move(outcomes)); }
  };

  uint64_t Add(Pipeline::SubmitCallback done, std::vector<DocumentOutcome> outcomes,
               size_t documents) {
    MutexLock lock(mu);
    const uint64_t token = next_token++;
    map.emplace(token, Waiter{std::move(done), std::move(outcomes), documents, false});
    return token;
  }
  // Takes the waiter out (to be answered with `status`), if it is there.
  std::optional<Answer> Take(uint64_t token, Status status) REQUIRES(mu) {
    auto it = map.find(token);
    if (it == map.end()) return std::nullopt;
    Answer answer{std::move(it->second.done), std::move(it->second.outcomes), std::move(status)};
    map.erase(it);
    return answer;
  }
  void Durable(uint64_t token, const Status& status) {
    std::optional<Answer> answer;
    {
      MutexLock lock(mu);
      auto it = map.find(token);
      if (it == map.end()) return;
      if (!status.ok()) {
        answer = Take(token, status);  // as Spool::AppendDurable gives it
      } else {
        it->second.durable = true;
        if (it->second.unapplied == 0) answer = Take(token, Status::Ok());
      }
    }
    if (answer) answer->Give();
  }
  // `tokens`: each record's token, in delivery order.
  void Applied(const std::vector<uint64_t>& tokens, const Status& status) {
    std::vector<Answer> answers;
    {
      MutexLock lock(mu);
      for (uint64_t token : tokens) {
        auto it = map.find(token);
        if (it == map.end()) continue;  // answered already, or from an earlier run
        if (!status.ok()) {
          answers.push_back(*Take(token, status));
          continue;
        }
        if (--it->second.unapplied == 0 && it->second.durable) {
          answers.push_back(*Take(token, Status::Ok()));
        }
      }
    }
    for (Answer& a : answers) a.Give();
  }
  void FailAll(const Status& status) {
    std::vector<Answer> answers;
    {
      MutexLock lock(mu);
      for (auto& [token, w] : map) {
        answers.push_back(Answer{std::move(w.done), std::move(w.outcomes), status});
      }
      map.clear();
    }
    for (Answer& a : answers) a.Give();
  }

  Mutex mu;
  std::unordered_map<uint64_t, Waiter> map GUARDED_BY(mu);
  uint64_t next_token GUARDED_BY(mu) = RandomStart();

 private:
  static uint64_t RandomStart() {
    std::random_device random;
    return (uint64_t{random()} << 32) ^ random();
  }
};

PutSpool::PutSpool(SpoolConfig config, Pipeline& pipeline, MetricsRegistry& metrics)
    : pipeline_(pipeline), waiters_(std::make_shared<Waiters>()) {
  spool_ = std::make_unique<Spool>(
      std::move(config),
      [&pipeline, waiters = waiters_](const std::vector<std::string_view>& records,
                                      SpoolDone done) {
        std::vector<std::string_view> documents;
        std::vector<uint64_t> tokens;
        documents.reserve(records.size());
        tokens.reserve(records.size());
        for (std::string_view record : records) {
          if (record.size() < kTokenBytes) {
            // Never written so (Submit frames every record); checksummed on disk.
            spdlog::error("api spool: a record of {} bytes has no request token; skipped",
                          record.size());
            continue;
          }
          tokens.push_back(coding::DecodeFixed64(record.data()));
          documents.push_back(record.substr(kTokenBytes));
        }
        pipeline.SubmitSpooled(documents, Pipeline::SpooledRecord::kValidatedDocument,
                               std::move(done),
                               [waiters, tokens = std::move(tokens)](Status status) {
                                 waiters->Applied(tokens, status);
                               });
      },
      metrics);
}

PutSpool::~PutSpool() { Stop(); }

Status PutSpool::Open() { return spool_->Open(); }

void PutSpool::Submit(std::vector<std::string> documents, Pipeline::SubmitCallback done) {
  std::vector<DocumentOutcome> outcomes = pipeline_.Validate(documents);
  // Each record is the request's token followed by the document, framed by
  // the spool straight from `documents` (no joined copy).
  std::vector<std::string_view> records;
  records.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    if (outcomes[i].accepted) records.emplace_back(documents[i]);
  }
  if (records.empty()) return done(Status::Ok(), std::move(outcomes));
  const uint64_t token = waiters_->Add(std::move(done), std::move(outcomes), records.size());
  char token_bytes[kTokenBytes];
  coding::EncodeFixed64(token_bytes, token);
  Status appended = spool_->AppendDurable(
      std::string_view(token_bytes, kTokenBytes), records,
      [waiters = waiters_, token](Status status) { waiters->Durable(token, status); });
  if (appended.ok()) return;
  std::optional<Waiters::Answer> answer;
  {
    MutexLock lock(waiters_->mu);
    answer = waiters_->Take(token, std::move(appended));
  }
  if (answer) answer->Give();
}

void PutSpool::Stop() {
  spool_->Stop();
  waiters_->FailAll(Status::Unavailable("the server is shutting down"));
}

SubmitSink PutSpool::Sink() {
  return [this](std::vector<std::string> documents, Pipeline::SubmitCallback done) {
    Submit(std::move(documents), std::move(done));
  };
}

}  // namespace roentgen::ingest
