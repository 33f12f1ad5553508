// Private to the segment parser: readers for the sub-objects of a segment or
// subsegment (http, aws, sql, service, cause, annotations, metadata).
//
// Each takes the field's value, consumes it whole, fills the model (null leaves
// it unset) and reports errors through the JsonReader, as described there.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xray/parse_reader.h"
#include "xray/segment.h"

namespace roentgen::xray::parse {

bool ReadHttp(JsonReader& r, od::value& v, std::optional<Http>& out);
// Known fields, plus the whole block's source text in AwsInfo::raw_json.
bool ReadAws(JsonReader& r, od::value& v, std::optional<AwsInfo>& out);
bool ReadSql(JsonReader& r, od::value& v, std::optional<Sql>& out);
// `service.version`, plus the whole block's source text.
bool ReadService(JsonReader& r, od::value& v, std::string& version, std::string& json);
// An object with exceptions and stacks, or a bare 16-hex exception id.
bool ReadCause(JsonReader& r, od::value& v, std::optional<Cause>& out);
// parse_annotations.cpp: the free-form blocks.
// Appends in document order; a bad key or value rejects the document.
bool ReadAnnotations(JsonReader& r, od::value& v, std::vector<Annotation>& out);
// Must be an object; keeps its source text.
bool ReadMetadata(JsonReader& r, od::value& v, std::string& json);

}  // namespace roentgen::xray::parse
