#include "xray/parse_reader.h"

#include <fmt/format.h>

#include <charconv>

namespace roentgen::xray::parse {

// Epoch seconds above this (the year 5138) are refused: they would overflow
// nothing, but no real clock produces them and they usually mean milliseconds.
constexpr double kMaxEpochSeconds = 1e11;

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// `body` points just after a string's opening quote (stage 1 guarantees a closing
// one). Sets `out` and returns true when the string has no escape sequence.
bool WithoutEscapes(const char* body, std::string_view& out) {
  const char* end = body;
  while (*end != '"' && *end != '\\') ++end;
  if (*end != '"') return false;
  out = std::string_view(body, static_cast<size_t>(end - body));
  return true;
}

// The same for a string value from its raw token (the string and any whitespace
// up to the next structural character, which stage 1 puts right after every
// string): no scan for the closing quote.
bool TokenWithoutEscapes(std::string_view token, std::string_view& out) {
  size_t n = token.size();
  while (n > 0 && IsJsonSpace(token[n - 1])) --n;
  if (n < 2 || token[n - 1] != '"') return WithoutEscapes(token.data() + 1, out);
  if (HasBackslash(token.data() + 1, n - 2)) return false;
  out = std::string_view(token.data() + 1, n - 2);
  return true;
}

// Same for a key, whose text runs from `body` to the quote before the colon
// that precedes `value_start`.
bool KeyWithoutEscapes(const char* body, const char* value_start, std::string_view& out) {
  const char* end = value_start;
  while (end > body && IsJsonSpace(end[-1])) --end;
  if (end > body && end[-1] == ':') {
    --end;
    while (end > body && IsJsonSpace(end[-1])) --end;
    if (end > body && end[-1] == '"') {
      --end;
      auto n = static_cast<size_t>(end - body);
      if (HasBackslash(body, n)) return false;
      out = std::string_view(body, n);
      return true;
    }
  }
  return WithoutEscapes(body, out);
}

// For a number token (with its trailing whitespace) of the form D{1,11}[.D+],
// no leading zero unless alone before the point (the common shape of epoch
// seconds, valid JSON and within ReadTime's range): sets what
// DecimalSecondsToMicros(token) returns, in one pass, and returns true.
// The byte after the token must be one that may follow a number (whitespace
// or structural), as simdjson's number parser demands: a token directly
// followed by a string or literal ("1.5\"x\"") is left to that parser's error.
bool PlainSecondsToMicros(std::string_view token, int64_t& micros) {
  size_t n = token.size();
  while (n > 0 && IsJsonSpace(token[n - 1])) --n;
  if (n == token.size()) {
    char next = token.data()[n];
    if (next != ',' && next != '}' && next != ']' && next != ':' && next != '{' && next != '[') {
      return false;
    }
  }
  const char* p = token.data();
  int64_t seconds = 0;
  size_t i = 0;
  // At most 12 digits are read (12 is already too many): more would overflow.
  for (; i < n && i < 12 && p[i] >= '0' && p[i] <= '9'; ++i) {
    seconds = seconds * 10 + (p[i] - '0');
  }
  if (i == 0 || i > 11 || (p[0] == '0' && i > 1)) return false;
  int64_t fraction = 0;  // the first 6 fraction digits, as microseconds
  int64_t scale = 100000;
  bool round_up = false;
  if (i < n) {
    if (p[i] != '.') return false;
    size_t frac = ++i;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; ++i) {
      size_t k = i - frac;
      if (k < 6) {
        fraction += (p[i] - '0') * scale;
        scale /= 10;
      } else if (k == 6) {
        round_up = p[i] >= '5';  // half up on the next digit, as DecimalSecondsToMicros
      }
    }
    if (i != n || i == frac) return false;
  }
  micros = seconds * 1000000 + fraction + (round_up ? 1 : 0);
  return true;
}

}  // namespace

std::string JsonReader::path() const {
  std::string out;
  for (const PathPart& part : path_) {
    if (part.key.data() == nullptr) {
      char digits[24];
      auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), part.index);
      out += '[';
      out.append(digits, end);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += part.key;
    }
  }
  return out;
}

bool JsonReader::Fail(ParseError error, std::string_view key, std::string_view reason) {
  if (failed_) return false;
  failed_ = true;
  error_ = error;
  message_ = path();
  if (!message_.empty() && !key.empty() && key.front() != '[') message_ += '.';
  message_ += key;
  message_ += ": ";
  message_ += reason;
  return false;
}

bool JsonReader::FailHere(ParseError error, std::string_view reason) {
  if (failed_) return false;
  failed_ = true;
  error_ = error;
  message_ = path();
  if (message_.empty()) message_ = "document";
  message_ += ": ";
  message_ += reason;
  return false;
}

bool JsonReader::Malformed(simdjson::error_code code) {
  if (failed_) return false;
  failed_ = true;
  error_ = ParseError::kMalformedJson;
  std::string_view what = simdjson::error_message(code);
  if (code == simdjson::INCORRECT_TYPE) {
    // Only raised here for a value whose first byte promised a type it does not
    // have ("tru", "nul"): a syntax error.
    what = "a literal or number is not valid JSON";
  }
  if (code == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
    message_ = "malformed JSON: the document ends inside an object or array";
    return false;
  }
  const char* at = nullptr;
  if (doc_.current_location().get(at) == simdjson::SUCCESS && at > base_) {
    message_ = fmt::format("malformed JSON near byte {}: {}", at - base_, what);
  } else {
    message_ = fmt::format("malformed JSON: {}", what);
  }
  return false;
}

bool JsonReader::WrongType(std::string_view key, std::string_view expected) {
  return Fail(ParseError::kInvalidField, key, fmt::format("must be {}", expected));
}

bool JsonReader::TypeOf(od::value& v, od::json_type& type) {
  if (auto err = v.type().get(type)) return Malformed(err);
  if (type == od::json_type::null) {
    // type() only looks at the first byte; is_null() checks the whole atom.
    bool is_null = false;
    if (auto err = v.is_null().get(is_null)) return Malformed(err);
    if (!is_null) return Malformed(simdjson::N_ATOM_ERROR);
  }
  return true;
}

bool JsonReader::ReadStringView(od::value& v, std::string_view key, std::string_view& out,
                                bool& present) {
  // The expected type, told by its first byte: no dispatch on every type.
  if (v.raw_json_token().data()[0] == '"') {
    present = true;
    return GetString(v, out);
  }
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  present = false;
  if (type == od::json_type::null) return true;
  if (type != od::json_type::string) return WrongType(key, "a string");
  if (!GetString(v, out)) return false;
  present = true;
  return true;
}

bool JsonReader::GetString(od::value& v, std::string_view& out) {
  // Most strings have no escapes: view them in place instead of unescaping a copy.
  std::string_view unescaped;
  if (TokenWithoutEscapes(v.raw_json_token(), unescaped)) {
    od::raw_json_string raw;
    if (auto err = v.get_raw_json_string().get(raw)) return Malformed(err);
    out = unescaped;
    return true;
  }
  if (auto err = v.get_string().get(out)) return Malformed(err);
  return true;
}

bool JsonReader::ReadString(od::value& v, std::string_view key, std::string& out) {
  std::string_view s;
  bool present = false;
  if (!ReadStringView(v, key, s, present)) return false;
  out.assign(s.data(), s.size());
  return true;
}

bool JsonReader::ReadBool(od::value& v, std::string_view key, bool& out) {
  std::optional<bool> b;
  if (!ReadOptionalBool(v, key, b)) return false;
  out = b.value_or(false);
  return true;
}

bool JsonReader::ReadOptionalBool(od::value& v, std::string_view key, std::optional<bool>& out) {
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  out.reset();
  if (type == od::json_type::null) return true;
  if (type != od::json_type::boolean) return WrongType(key, "true or false");
  bool b = false;
  if (auto err = v.get_bool().get(b)) return Malformed(err);
  out = b;
  return true;
}

bool JsonReader::ReadInt(od::value& v, std::string_view key, int64_t min, int64_t max,
                         std::optional<int64_t>& out) {
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  out.reset();
  if (type == od::json_type::null) return true;
  auto wrong = [&] { return WrongType(key, fmt::format("an integer from {} to {}", min, max)); };
  if (type != od::json_type::number) return wrong();
  int64_t i = 0;
  if (v.get_int64().get(i) != simdjson::SUCCESS) {
    // Not an int64 (a fraction, an exponent, too big) or not a number at all:
    // get_int64 did not advance, so the syntax can still be checked.
    double d = 0;
    if (auto err = v.get_double().get(d)) return Malformed(err);
    return wrong();
  }
  if (i < min || i > max) return wrong();
  out = i;
  return true;
}

bool JsonReader::ReadDouble(od::value& v, std::string_view key, std::optional<double>& out) {
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  out.reset();
  if (type == od::json_type::null) return true;
  if (type != od::json_type::number) return WrongType(key, "a number");
  double d = 0;
  if (auto err = v.get_double().get(d)) return Malformed(err);
  out = d;
  return true;
}

bool JsonReader::ReadTime(od::value& v, std::string_view key, std::optional<int64_t>& micros) {
  int64_t plain = 0;
  if (PlainSecondsToMicros(v.raw_json_token(), plain)) {
    // A plain decimal with at most 11 integer digits (so a number, see below).
    micros = plain;
    return true;
  }
  std::optional<double> seconds;
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  micros.reset();
  if (type == od::json_type::null) return true;
  if (type != od::json_type::number) return WrongType(key, "a number (epoch seconds)");
  // Not a plain decimal (PlainSecondsToMicros, above, takes those: valid JSON,
  // from 0 to under 1e11, so this double parse would accept them; they are
  // left unconsumed, which On Demand allows: the object's iteration skips it).
  std::string_view text = v.raw_json_token();
  if (!ReadDouble(v, key, seconds)) return false;
  if (!(*seconds >= 0 && *seconds <= kMaxEpochSeconds)) {
    return WrongType(key, "epoch seconds from 0 to 100000000000");
  }
  micros = DecimalSecondsToMicros(text);
  return true;
}

int64_t DecimalSecondsToMicros(std::string_view number) {
  // The value is 0.D1D2D3… × 10^(int_digits + exponent); microseconds keep the
  // first int_digits + exponent + 6 digits, and the next digit decides rounding.
  // Working on the decimal text avoids the double rounding of seconds * 1e6.
  char digits[32];
  int n = 0;  // digits kept (the first 32 significant positions suffice)
  int int_digits = 0;
  bool in_fraction = false;
  size_t i = 0;
  for (; i < number.size(); ++i) {
    char c = number[i];
    if (c == '.') {
      in_fraction = true;
    } else if (c >= '0' && c <= '9') {
      if (n < static_cast<int>(sizeof(digits))) digits[n++] = c;
      if (!in_fraction) ++int_digits;
    } else {
      break;
    }
  }
  int exponent = 0;
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    ++i;
    bool negative = i < number.size() && number[i] == '-';
    if (i < number.size() && (number[i] == '-' || number[i] == '+')) ++i;
    for (; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i) {
      if (exponent < 10000) exponent = exponent * 10 + (number[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  int keep = int_digits + exponent + 6;
  int64_t micros = 0;
  for (int k = 0; k < keep && k < 40; ++k) {
    micros = micros * 10 + (k < n ? digits[k] - '0' : 0);
  }
  if (keep >= 0 && keep < n && digits[keep] >= '5') ++micros;
  return micros;
}

bool JsonReader::OpenObject(od::value& v, std::string_view key, od::object& out, bool& present) {
  if (v.raw_json_token().data()[0] == '{') {
    if (auto err = v.get_object().get(out)) return Malformed(err);
    present = true;
    return true;
  }
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  present = false;
  if (type == od::json_type::null) return true;
  if (type != od::json_type::object) return WrongType(key, "an object");
  if (auto err = v.get_object().get(out)) return Malformed(err);
  present = true;
  return true;
}

bool JsonReader::OpenArray(od::value& v, std::string_view key, od::array& out, bool& present) {
  if (v.raw_json_token().data()[0] == '[') {
    if (auto err = v.get_array().get(out)) return Malformed(err);
    present = true;
    return true;
  }
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  present = false;
  if (type == od::json_type::null) return true;
  if (type != od::json_type::array) return WrongType(key, "an array");
  if (auto err = v.get_array().get(out)) return Malformed(err);
  present = true;
  return true;
}

bool JsonReader::FieldKeySlow(simdjson::simdjson_result<od::field>& field, const char* body,
                              const char* value_start, std::string_view& key) {
  if (KeyWithoutEscapes(body, value_start, key)) return true;
  if (auto err = field.unescaped_key().get(key)) return Malformed(err);
  return true;
}

bool JsonReader::Skip(od::value& v) {
  od::json_type type;
  if (!TypeOf(v, type)) return false;
  if (type == od::json_type::object || type == od::json_type::array) {
    // On Demand sets no depth limit of its own; this bounds the recursion.
    if (skip_depth_ >= kMaxSkipDepth) {
      return FailHere(ParseError::kInvalidField,
                      fmt::format("JSON nested more than {} levels deep", kMaxSkipDepth));
    }
    ++skip_depth_;
    bool ok = SkipContainer(v, type);
    --skip_depth_;
    return ok;
  }
  return SkipContainer(v, type);
}

bool JsonReader::SkipContainer(od::value& v, od::json_type type) {
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (auto err = v.get_object().get(obj)) return Malformed(err);
      for (auto field : obj) {
        std::string_view key;
        od::value child;
        if (!Field(field, key, child) || !Skip(child)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array arr;
      if (auto err = v.get_array().get(arr)) return Malformed(err);
      for (auto element : arr) {
        od::value child;
        if (!Element(element, child) || !Skip(child)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      return GetString(v, s);
    }
    case od::json_type::number: {
      double d = 0;
      if (auto err = v.get_double().get(d)) return Malformed(err);
      return true;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto err = v.get_bool().get(b)) return Malformed(err);
      return true;
    }
    case od::json_type::null:
      return true;  // TypeOf consumed and checked it
  }
  return Malformed(simdjson::TAPE_ERROR);
}

bool JsonReader::RawEnd(const char* begin, std::string_view& out) {
  const char* end = nullptr;
  if (auto err = doc_.current_location().get(end)) return Malformed(err);
  while (end > begin && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t')) {
    --end;
  }
  out = std::string_view(begin, static_cast<size_t>(end - begin));
  return true;
}

}  // namespace roentgen::xray::parse
