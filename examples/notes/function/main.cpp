// The notes function, in the Lambda role: the API runs it once per resolver
// call, as AppSync invokes a Lambda data source. Like a Lambda runtime it
// reads the invocation's trace header from _X_AMZN_TRACE_ID, the event
// (AppSync's direct Lambda resolver event: info.fieldName, arguments) as JSON
// on stdin, and answers on stdout with the result, or with
// {"errorType", "errorMessage"} when the function fails (exit status 0 then,
// as Lambda answers 200 with X-Amz-Function-Error: a failed invocation is
// still an answer; a non-zero status means the process itself broke).
//
// It records what Lambda records with active tracing: an AWS::Lambda segment
// (the service) whose parent is the caller's subsegment, and under it the
// AWS::Lambda::Function segment, with one remote subsegment per SQL
// statement carrying its sql block. A note whose text is "boom" makes the
// handler throw: a fault on the function's segment, with the exception.
//
//   echo '{"info":{"fieldName":"signIn"},"arguments":{"email":"a@example.com"}}' |
//     NOTES_DB=notes.db AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 _X_AMZN_TRACE_ID=...
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "roentgen/xray.h"

namespace xr = roentgen::sdk;
using nlohmann::json;

namespace {

constexpr const char* kFunctionName = "notes-function";
constexpr long long kMaxNotes = 1000;
constexpr const char* kFunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:notes-function";

std::string Env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// What the handler throws for a bad event: an error (the caller's fault),
// not a fault.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SqliteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Db {
 public:
  explicit Db(std::string path) : path_(std::move(path)) {
    if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) throw SqliteError(Message("open"));
    sqlite3_busy_timeout(db_, 5000);  // concurrent invocations share the file
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one statement with text parameters in a remote subsegment of the
  // current entity, with the sql block X-Ray shows for database calls.
  // Returns the rows, each column as text.
  std::vector<std::vector<std::string>> Run(xr::Recorder& recorder, const std::string& sql,
                                            const std::vector<std::string>& params) {
    auto sub = recorder.BeginSubsegment("notes.sqlite");
    sub.SetNamespace(xr::Namespace::kRemote);
    xr::Sql block;
    block.url = "sqlite://" + path_;
    block.sanitized_query = sql;  // values are bound, never in the text
    block.database_type = "SQLite";
    block.database_version = sqlite3_libversion();
    block.driver_version = std::string("libsqlite3 ") + sqlite3_sourceid();
    block.preparation = "statement";
    sub.SetSql(block);
    try {
      return Execute(sql, params);
    } catch (const std::exception& e) {
      sub.AddException(e);
      throw;
    }
  }

  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      throw SqliteError(m);
    }
  }

 private:
  std::string Message(const char* what) const {
    return std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
  }

  std::vector<std::vector<std::string>> Execute(const std::string& sql, const std::vector<std::string>& params) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) throw SqliteError(Message("prepare"));
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    for (size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(raw, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                        SQLITE_TRANSIENT);
    }
    std::vector<std::vector<std::string>> rows;
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw SqliteError(Message("step"));
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(raw); ++c) {
        const unsigned char* t = sqlite3_column_text(raw, c);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

json NoteJson(const std::vector<std::string>& row) {
  return {{"id", row.at(0)}, {"email", row.at(1)}, {"text", row.at(2)}, {"createdAt", row.at(3)}};
}

std::string Arg(const json& event, const char* name) {
  const json& args = event.value("arguments", json::object());
  auto it = args.find(name);
  if (it == args.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw BadRequest(std::string("argument ") + name + " must be a non-empty string");
  }
  return it->get<std::string>();
}

std::string Now() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The resolvers' work: signIn and addNote run two statements, signOut one.
json Handle(xr::Recorder& recorder, Db& db, const json& event, const xr::Entity& fn) {
  std::string field = event.value("info", json::object()).value("fieldName", "");
  fn.AddAnnotation("field", field);
  if (field == "signIn") {
    std::string email = Arg(event, "email");
    fn.AddAnnotation("email", email);
    db.Run(recorder, "INSERT INTO sessions(email, signed_in) VALUES (?, ?)", {email, Now()});
    json notes = json::array();
    for (auto& row : db.Run(recorder,
                            "SELECT id, email, text, created_at FROM notes WHERE email = ? ORDER BY id",
                            {email})) {
      notes.push_back(NoteJson(row));
    }
    return {{"email", email}, {"notes", notes}};
  }
  if (field == "addNote") {
    std::string email = Arg(event, "email");
    std::string text = Arg(event, "text");
    fn.AddAnnotation("email", email);
    auto count = db.Run(recorder, "SELECT count(*) FROM notes WHERE email = ?", {email});
    if (std::stoll(count.at(0).at(0)) >= kMaxNotes) {
      throw BadRequest("at most " + std::to_string(kMaxNotes) + " notes a user");
    }
    // The example's way to see a failure end to end: the function breaks
    // after its first datastore call, as a bug would.
    if (text == "boom") throw std::runtime_error("the note said boom");
    auto rows = db.Run(recorder,
                       "INSERT INTO notes(email, text, created_at) VALUES (?, ?, ?) "
                       "RETURNING id, email, text, created_at",
                       {email, text, Now()});
    return NoteJson(rows.at(0));
  }
  if (field == "signOut") {
    std::string email = Arg(event, "email");
    fn.AddAnnotation("email", email);
    db.Run(recorder, "DELETE FROM sessions WHERE email = ?", {email});
    return true;
  }
  throw BadRequest("unknown field \"" + field + "\"");
}

}  // namespace

int main() {
  std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  json event = json::parse(input, nullptr, /*allow_exceptions=*/false);
  json answer;

  xr::RecorderOptions options;
  options.service_name = kFunctionName;
  xr::Recorder recorder(options);
  {
    // Lambda's own segment: the invocation as the service saw it, a child of
    // the caller's subsegment (the header's Parent).
    xr::SegmentOptions service_options;
    if (auto h = xr::TraceHeader::Parse(Env("_X_AMZN_TRACE_ID"))) service_options.incoming = *h;
    service_options.origin = "AWS::Lambda";
    service_options.request.service_type = "AWS::Lambda";
    service_options.make_current = false;
    auto service = recorder.BeginSegment(kFunctionName, service_options);
    service.SetAws("function_arn", kFunctionArn);
    if (std::string id = Env("AWS_REQUEST_ID"); !id.empty()) service.SetAws("request_id", id);
    service.SetHttpResponse({200, -1});

    // The function's segment, the child of the service's.
    xr::SegmentOptions options;
    options.incoming = service.OutgoingHeader();
    options.origin = "AWS::Lambda::Function";
    options.request.service_type = "AWS::Lambda::Function";
    auto fn = recorder.BeginSegment(kFunctionName, options);
    fn.SetAws("function_arn", kFunctionArn);
    fn.SetAwsJson("resource_names", R"(["notes-function"])");
    try {
      if (event.is_discarded() || !event.is_object()) throw BadRequest("the event is not a JSON object");
      Db db(Env("NOTES_DB", "notes.db"));
      db.Exec(
          "CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, email TEXT NOT NULL, text TEXT NOT NULL, "
          "created_at TEXT NOT NULL);"
          "CREATE TABLE IF NOT EXISTS sessions(email TEXT NOT NULL, signed_in TEXT NOT NULL)");
      answer = Handle(recorder, db, event, fn);
    } catch (const BadRequest& e) {
      fn.AddException(e, /*fault=*/false);
      answer = {{"errorType", "BadRequest"}, {"errorMessage", e.what()}};
    } catch (const std::exception& e) {
      fn.AddException(e);
      answer = {{"errorType", "Error"}, {"errorMessage", e.what()}};
    }
  }
  std::cout << answer.dump() << '\n';
  recorder.Flush();
  return 0;
}
