#include <fmt/format.h>

#include "xray/parse_blocks.h"
#include "xray/parse_text.h"

namespace roentgen::xray::parse {

bool ReadAnnotations(JsonReader& r, od::value& v, std::vector<Annotation>& out) {
  od::object obj;
  bool present = false;
  if (!r.OpenObject(v, "annotations", obj, present)) return false;
  if (!present) return true;
  JsonReader::PathScope scope(r, "annotations");
  for (auto field : obj) {
    std::string_view key;
    od::value value;
    if (!r.Field(field, key, value)) return false;
    std::string bad_key = CheckAnnotationKey(key);
    if (!bad_key.empty()) {
      return r.Fail(ParseError::kInvalidField, "",
                    fmt::format("key {} {}", QuoteForMessage(key), bad_key));
    }
    od::json_type type;
    if (!r.TypeOf(value, type)) return false;
    // Documents usually carry a few: one allocation instead of growing 1, 2, 4.
    if (out.capacity() == 0) out.reserve(4);
    if (type == od::json_type::string) {
      std::string_view s;
      bool unused = false;
      if (!r.ReadStringView(value, key, s, unused)) return false;
      size_t chars = CountCodePoints(s);
      if (chars > kMaxAnnotationValueChars) {
        return r.Fail(ParseError::kInvalidField, key,
                      fmt::format("value is {} characters, over the {} limit", chars,
                                  kMaxAnnotationValueChars));
      }
      out.push_back(
          Annotation{std::string(key), AnnotationValue(std::in_place_type<std::string>, s)});
    } else if (type == od::json_type::number) {
      std::optional<double> d;
      if (!r.ReadDouble(value, key, d)) return false;
      out.push_back(Annotation{std::string(key), AnnotationValue(std::in_place_type<double>, *d)});
    } else if (type == od::json_type::boolean) {
      bool b = false;
      if (!r.ReadBool(value, key, b)) return false;
      out.push_back(Annotation{std::string(key), AnnotationValue(std::in_place_type<bool>, b)});
    } else {
      return r.Fail(ParseError::kInvalidField, key, "must be a string, number or boolean");
    }
  }
  return true;
}

bool ReadMetadata(JsonReader& r, od::value& v, std::string& json) {
  const char* begin = r.RawBegin(v);
  od::json_type type;
  if (!r.TypeOf(v, type)) return false;
  if (type == od::json_type::null) return true;
  if (type != od::json_type::object) {
    return r.Fail(ParseError::kInvalidField, "metadata", "must be an object");
  }
  {
    JsonReader::PathScope scope(r, "metadata");
    if (!r.Skip(v)) return false;
  }
  std::string_view raw;
  if (!r.RawEnd(begin, raw)) return false;
  json.assign(raw.data(), raw.size());
  return true;
}

}  // namespace roentgen::xray::parse
