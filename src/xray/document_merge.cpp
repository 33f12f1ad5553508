// Splices independent subsegments' raw JSON into their parents' documents.
//
// Render(entity, text) walks an assembled entity alongside the raw text of the
// JSON object it came from. The object's own `subsegments` elements are matched
// to the entity's children by id and rendered recursively; children with no
// matching element were spliced in by AssembleTrace and are rendered from their
// own stored documents. Text spans are located with simdjson On Demand
// (raw_json), so every other byte is copied unchanged.
#include "xray/document_merge.h"

#include <simdjson.h>

#include <optional>
#include <string_view>
#include <unordered_map>

namespace roentgen::xray {
namespace {

namespace od = simdjson::ondemand;

struct Span {
  size_t begin = 0;
  size_t end = 0;  // exclusive
};

// Where the parts we edit sit in the text of one JSON object.
struct ObjectLayout {
  std::optional<SegmentId> id;
  std::optional<Span> subsegments;  // the array, brackets included
  size_t closing_brace = 0;
};

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

Span SpanIn(const simdjson::padded_string& buffer, std::string_view part) {
  const size_t begin = static_cast<size_t>(part.data() - buffer.data());
  return Span{begin, begin + TrimRight(part).size()};
}

Result<ObjectLayout> ReadObjectLayout(std::string_view text) {
  const std::string_view trimmed = TrimRight(text);
  if (trimmed.empty() || trimmed.back() != '}') {
    return Status::Internal("stored segment document is not a JSON object");
  }
  ObjectLayout layout;
  layout.closing_brace = trimmed.size() - 1;
  od::parser parser;
  const simdjson::padded_string buffer(text);
  od::document doc;
  od::object object;
  if (parser.iterate(buffer).get(doc) || doc.get_object().get(object)) {
    return Status::Internal("stored segment document does not parse");
  }
  for (auto field : object) {
    std::string_view key;
    od::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) {
      return Status::Internal("stored segment document does not parse");
    }
    if (key == "id") {
      std::string_view id_text;
      if (!value.get_string().get(id_text)) {
        auto id = SegmentId::Parse(id_text);
        if (id.ok()) layout.id = *id;
      }
    } else if (key == "subsegments") {
      od::array array;
      std::string_view raw;
      if (value.get_array().get(array) || array.raw_json().get(raw)) {
        return Status::Internal("stored segment document has a malformed subsegments array");
      }
      layout.subsegments = SpanIn(buffer, raw);
    }
  }
  return layout;
}

// The spans of the elements of a JSON array of objects, relative to `text`.
Result<std::vector<Span>> ReadArrayElements(std::string_view text) {
  od::parser parser;
  const simdjson::padded_string buffer(text);
  od::document doc;
  od::array array;
  if (parser.iterate(buffer).get(doc) || doc.get_array().get(array)) {
    return Status::Internal("stored subsegments array does not parse");
  }
  std::vector<Span> elements;
  for (auto element : array) {
    od::object object;
    std::string_view raw;
    if (element.get_object().get(object) || object.raw_json().get(raw)) {
      return Status::Internal("stored subsegment is not a JSON object");
    }
    elements.push_back(SpanIn(buffer, raw));
  }
  return elements;
}

class Merger {
 public:
  explicit Merger(const std::vector<const ReceivedDocument*>& docs) {
    for (const ReceivedDocument* doc : SelectLatestVersions(docs)) {
      raw_by_id_.emplace(doc->doc.entity.id.value, &doc->doc.raw);
    }
  }

  // The stored document of a top-level (or independently sent) entity, merged.
  Result<std::string> RenderStored(const Entity& entity) {
    auto it = raw_by_id_.find(entity.id.value);
    if (it == raw_by_id_.end()) {
      return Status::Internal("no stored document for entity " + entity.id.ToString());
    }
    return Render(entity, *it->second);
  }

 private:
  Result<std::string> Render(const Entity& entity, std::string_view text) {
    auto layout = ReadObjectLayout(text);
    if (!layout.ok()) return layout.status();

    std::vector<bool> matched(entity.subsegments.size(), false);
    std::vector<std::string> parts;
    bool changed = false;
    if (layout->subsegments) {
      const Span array = *layout->subsegments;
      const std::string_view array_text = text.substr(array.begin, array.end - array.begin);
      auto elements = ReadArrayElements(array_text);
      if (!elements.ok()) return elements.status();
      for (const Span& span : *elements) {
        const std::string_view element = array_text.substr(span.begin, span.end - span.begin);
        auto element_layout = ReadObjectLayout(element);
        if (!element_layout.ok()) return element_layout.status();
        const size_t child = FindChild(entity, element_layout->id, matched);
        if (child == entity.subsegments.size()) {
          parts.emplace_back(element);
          continue;
        }
        matched[child] = true;
        auto rendered = Render(entity.subsegments[child], element);
        if (!rendered.ok()) return rendered.status();
        changed |= *rendered != element;
        parts.push_back(std::move(*rendered));
      }
    }
    for (size_t i = 0; i < entity.subsegments.size(); ++i) {
      if (matched[i]) continue;
      auto rendered = RenderStored(entity.subsegments[i]);
      if (!rendered.ok()) return rendered.status();
      parts.push_back(std::move(*rendered));
      changed = true;
    }
    if (!changed) return std::string(text);
    return Rebuild(text, *layout, parts);
  }

  static size_t FindChild(const Entity& entity, const std::optional<SegmentId>& id,
                          const std::vector<bool>& matched) {
    if (id) {
      for (size_t i = 0; i < entity.subsegments.size(); ++i) {
        if (!matched[i] && entity.subsegments[i].id == *id) return i;
      }
    }
    return entity.subsegments.size();
  }

  static std::string Rebuild(std::string_view text, const ObjectLayout& layout,
                             const std::vector<std::string>& parts) {
    std::string array = "[";
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) array += ',';
      array += parts[i];
    }
    array += ']';
    std::string out;
    if (layout.subsegments) {
      out.append(text.substr(0, layout.subsegments->begin));
      out.append(array);
      out.append(text.substr(layout.subsegments->end));
      return out;
    }
    // No array yet: add the member before the closing brace.
    const std::string_view head = TrimRight(text.substr(0, layout.closing_brace));
    out.append(head);
    if (head.back() != '{') out += ',';
    out.append("\"subsegments\":");
    out.append(array);
    out.append(text.substr(layout.closing_brace));
    return out;
  }

  std::unordered_map<uint64_t, const std::string*> raw_by_id_;
};

}  // namespace

Result<std::vector<MergedDocument>> MergeDocuments(
    const AssembledTrace& trace, const std::vector<const ReceivedDocument*>& docs) {
  Merger merger(docs);
  std::vector<MergedDocument> merged;
  merged.reserve(trace.segments.size() + trace.orphans.size());
  for (const auto* list : {&trace.segments, &trace.orphans}) {
    for (const Entity& entity : *list) {
      auto json = merger.RenderStored(entity);
      if (!json.ok()) return json.status();
      merged.push_back(MergedDocument{entity.id, std::move(*json)});
    }
  }
  return merged;
}

}  // namespace roentgen::xray
