// Fuzzes the restJson1 request-body helpers every X-Ray API handler reads its
// request with (src/api/json_io.h): RequestBody, the typed field accessors on
// every member (and on every element of array members), timestamps (epoch
// seconds and ISO 8601), TimeRange, TraceIds and NextToken, and the error
// responses their messages become.
//
// Invariants: errors carry a message and become X-Ray's error shape (valid
// JSON, whatever bytes the message quotes); a time range is ordered.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_io.h"
#include "fuzz_check.h"

using namespace roentgen;
using namespace roentgen::api;

namespace {

// An error's response must be X-Ray's shape, parseable JSON.
void CheckError(const Status& status) {
  FUZZ_CHECK(!status.ok());
  FUZZ_CHECK(!status.message().empty());
  const HttpResponse response = StatusResponse(status);
  FUZZ_CHECK(response.status >= 400);
  FUZZ_CHECK(nlohmann::json::accept(response.body));
}

template <typename T>
void Check(const Field<T>& field) {
  if (!field.ok()) CheckError(field.status());
}

void ReadMember(simdjson::dom::object object, std::string_view key) {
  const std::string path = "fuzz." + std::string(key);
  Check(GetString(object, key, path));
  Check(GetBool(object, key, path));
  Check(GetNumber(object, key, path));
  Check(GetCount(object, key, path));
  Check(GetEpochMicros(object, key, path));
  Check(GetObject(object, key, path));
  Field<simdjson::dom::array> array = GetArray(object, key, path);
  Check(array);
  if (array.ok() && array->has_value()) {
    for (simdjson::dom::element e : **array) {
      Result<int64_t> us = ParseEpochMicros(e, path);
      if (!us.ok()) CheckError(us.status());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  Result<int64_t> iso = ParseIsoTimestamp(text);
  if (!iso.ok()) CheckError(iso.status());

  static RequestBody body;
  if (Status s = body.Parse(text); !s.ok()) {
    CheckError(s);
    return 0;
  }
  Result<TimeRange> range = ReadTimeRange(body);
  if (range.ok()) {
    FUZZ_CHECK(range->start_us < range->end_us);
  } else {
    CheckError(range.status());
  }
  Result<std::vector<xray::TraceId>> ids = ReadTraceIds(body, 5);
  if (ids.ok()) {
    FUZZ_CHECK(ids->size() <= 5);
  } else {
    CheckError(ids.status());
  }
  if (Status s = RejectNextToken(body, "does not split these results into pages"); !s.ok()) {
    CheckError(s);
  }
  for (auto [key, value] : body.root()) ReadMember(body.root(), key);

  // Echoing client strings back in a 200 never throws on invalid UTF-8.
  nlohmann::json echo = nlohmann::json::object();
  echo["text"] = std::string(text);
  FUZZ_CHECK(nlohmann::json::accept(JsonResponse(echo).body));
  return 0;
}
