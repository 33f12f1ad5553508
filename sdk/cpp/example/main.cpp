// Roentgen's C++ X-Ray SDK, end to end: a function in the Lambda role that
// continues the caller's trace, writes to a datastore (a remote subsegment
// with its sql block), fans work out to a thread, and fails on "boom".
//
//   roentgen serve &                          # or AWS's X-Ray daemon
//   AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 build/sdk/cpp/xray_sdk_example "a note" "boom"
//
// Prints the trace id of each invocation, one per line.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "roentgen/xray.h"

namespace xr = roentgen::sdk;

static void Invoke(xr::Recorder& recorder, const std::string& note,
                   const xr::TraceHeader& incoming) {
  // As Lambda records an invocation: the service's AWS::Lambda segment
  // continues the caller's trace, and the function's AWS::Lambda::Function
  // segment is its child (ended first, as it is declared last).
  xr::SegmentOptions service_options;
  service_options.incoming = incoming;
  service_options.origin = "AWS::Lambda";
  service_options.make_current = false;
  auto service = recorder.BeginSegment("notes-function", service_options);
  service.SetAws("function_arn", "arn:aws:lambda:us-east-1:000000000000:function:notes-function");
  service.SetHttpResponse({200, -1});

  xr::SegmentOptions options;
  options.incoming = service.OutgoingHeader();
  options.origin = "AWS::Lambda::Function";
  auto seg = recorder.BeginSegment("notes-function", options);
  seg.SetAws("function_arn", "arn:aws:lambda:us-east-1:000000000000:function:notes-function");
  seg.SetAwsJson("resource_names", R"(["notes-function"])");
  seg.AddAnnotation("note_length", note.size());
  seg.AddMetadataJson("event", R"({"note":")" + note + R"("})", "function");
  try {
    auto db = recorder.BeginSubsegment("notes.sqlite");  // the current entity's child
    db.SetNamespace(xr::Namespace::kRemote);
    xr::Sql sql;
    sql.url = "sqlite:///var/lib/notes/notes.db";
    sql.sanitized_query = "INSERT INTO notes(text) VALUES (?)";
    sql.database_type = "SQLite";
    sql.database_version = "3.40.1";
    sql.preparation = "statement";
    db.SetSql(sql);
    // Work on another thread stays in the trace through a TraceContext.
    std::thread audit([&recorder, ctx = db.context()] {
      auto scope = recorder.Activate(ctx);
      auto sub = recorder.BeginSubsegment("audit");
      sub.AddAnnotation("audited", true);
    });
    audit.join();
    if (note == "boom") throw std::runtime_error("the note said boom");
  } catch (const std::exception& e) {
    seg.AddException(e);  // a fault, with its type, message and stack
  }
  std::printf("%s\n", seg.trace_id().ToString().c_str());
}

int main(int argc, char** argv) {
  xr::RecorderOptions options;
  options.service_name = "notes-function";
  xr::Recorder recorder(options);
  // An incoming header as an API gateway would pass it.
  xr::TraceHeader incoming;
  incoming.root = xr::TraceId::Generate();
  incoming.parent = xr::SegmentId::Generate();
  incoming.sampled = xr::Sampled::kYes;
  for (int i = 1; i < argc; ++i) Invoke(recorder, argv[i], incoming);
  if (argc == 1) Invoke(recorder, "hello", incoming);
  recorder.Flush();
  return 0;
}
