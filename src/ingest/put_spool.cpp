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

// Document text whose parsed entities the waiting requests may hold for the
// spool's reader (parsed, a document takes several times its text).
constexpr size_t kMaxParsedTextBytes = 16 << 20;

}  // namespace

// The requests waiting for their documents, by token.
struct PutSpool::Waiters {
  struct Waiter {
    Pipeline::SubmitCallback done;
    std::vector<DocumentOutcome> outcomes;
    size_t unapplied = 0;  // documents the writers have not yet applied
    bool durable = false;  // fdatasync'd in the spool
    // The request's accepted documents and their entities as Validate parsed
    // them, in record order, so the reader need not parse them again; empty
    // when over the budget. A record takes the entities of the next slot
    // only if its text is that slot's: a record delivered again (after
    // "retry later") is parsed.
    std::vector<std::string> texts;
    Pipeline::ParsedDocuments parsed;
    size_t next_parsed = 0;
    size_t text_bytes = 0;  // counted in parsed_text_bytes until the slots are used
  };
  // A request's answer, given outside the lock.
  struct Answer {
    Pipeline::SubmitCallback done;
    std::vector<DocumentOutcome> outcomes;
    Status status;
    void Give() { done(std::move(status), std::move(outcomes)); }
  };

  // `texts` and `parsed`: the accepted documents and their entities, kept
  // for the reader while the budget allows.
  uint64_t Add(Pipeline::SubmitCallback done, std::vector<DocumentOutcome> outcomes,
               size_t documents, std::vector<std::string> texts, Pipeline::ParsedDocuments parsed) {
    size_t bytes = 0;
    for (const std::string& t : texts) bytes += t.size();
    MutexLock lock(mu);
    const uint64_t token = next_token++;
    Waiter w{std::move(done), std::move(outcomes), documents, false, {}, {}, 0, 0};
    if (parsed_text_bytes + bytes <= kMaxParsedTextBytes) {
      parsed_text_bytes += bytes;
      w.text_bytes = bytes;
      w.texts = std::move(texts);
      w.parsed = std::move(parsed);
    }
    map.emplace(token, std::move(w));
    return token;
  }
  // Takes the waiter out (to be answered with `status`), if it is there.
  std::optional<Answer> Take(uint64_t token, Status status) REQUIRES(mu) {
    auto it = map.find(token);
    if (it == map.end()) return std::nullopt;
    Answer answer{std::move(it->second.done), std::move(it->second.outcomes), std::move(status)};
    parsed_text_bytes -= it->second.text_bytes;
    map.erase(it);
    return answer;
  }
  // Moves into `parsed[i]` the entities of each record (`documents[i]`, of
  // request `tokens[i]`) that its request still holds.
  void TakeParsed(const std::vector<uint64_t>& tokens,
                  const std::vector<std::string_view>& documents,
                  Pipeline::ParsedDocuments& parsed) {
    parsed.assign(documents.size(), {});
    MutexLock lock(mu);
    for (size_t i = 0; i < documents.size(); ++i) {
      auto it = map.find(tokens[i]);
      if (it == map.end()) continue;
      Waiter& w = it->second;
      if (w.next_parsed >= w.parsed.size() || w.texts[w.next_parsed] != documents[i]) continue;
      parsed[i] = std::move(w.parsed[w.next_parsed]);
      w.texts[w.next_parsed] = std::string();
      if (++w.next_parsed == w.parsed.size()) {
        // Every slot used: the budget is free for later requests.
        parsed_text_bytes -= w.text_bytes;
        w.text_bytes = 0;
        w.texts = {};
        w.parsed = {};
        w.next_parsed = 0;
      }
    }
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
      parsed_text_bytes = 0;
    }
    for (Answer& a : answers) a.Give();
  }

  Mutex mu;
  std::unordered_map<uint64_t, Waiter> map GUARDED_BY(mu);
  uint64_t next_token GUARDED_BY(mu) = RandomStart();
  size_t parsed_text_bytes GUARDED_BY(mu) = 0;  // the waiters' text_bytes

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
        Pipeline::ParsedDocuments parsed;
        waiters->TakeParsed(tokens, documents, parsed);
        pipeline.SubmitSpooled(
            documents, Pipeline::SpooledRecord::kValidatedDocument, std::move(done),
            [waiters, tokens = std::move(tokens)](Status status) {
              waiters->Applied(tokens, status);
            },
            &parsed);
      },
      metrics);
}

PutSpool::~PutSpool() { Stop(); }

Status PutSpool::Open() { return spool_->Open(); }

void PutSpool::Submit(std::vector<std::string> documents, Pipeline::SubmitCallback done) {
  Pipeline::ParsedDocuments parsed;
  std::vector<DocumentOutcome> outcomes = pipeline_.Validate(documents, &parsed);
  std::vector<std::string> records;
  std::vector<std::string> texts;
  Pipeline::ParsedDocuments accepted;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (!outcomes[i].accepted) continue;
    std::string record;
    record.reserve(kTokenBytes + documents[i].size());
    record.resize(kTokenBytes);  // the token, once known
    record += documents[i];
    records.push_back(std::move(record));
    texts.push_back(std::move(documents[i]));
    accepted.push_back(std::move(parsed[i]));
  }
  if (records.empty()) return done(Status::Ok(), std::move(outcomes));
  const uint64_t token = waiters_->Add(std::move(done), std::move(outcomes), records.size(),
                                       std::move(texts), std::move(accepted));
  for (std::string& record : records) coding::EncodeFixed64(record.data(), token);
  Status appended = spool_->AppendDurable(
      records, [waiters = waiters_, token](Status status) { waiters->Durable(token, status); });
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
