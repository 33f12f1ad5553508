#include "store/clickhouse/clickhouse_client.h"

#include <fmt/format.h>
#include <poll.h>

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <exception>
#include <vector>

#include "common/mutex.h"

namespace roentgen::store::clickhouse {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// ClickHouse's codes for memory and disk exhaustion (MEMORY_LIMIT_EXCEEDED,
// NOT_ENOUGH_SPACE).
constexpr int kClickHouseMemoryLimitExceeded = 241;
constexpr int kClickHouseNotEnoughSpace = 243;
// The most of ClickHouse's error text a Status carries.
constexpr size_t kChMaxErrorText = 4096;

// One keep-alive connection. Each has an io_context of its own, so a call
// runs its asynchronous operations (the only ones the stream's timeouts
// apply to) to completion on its own thread, sharing nothing with others.
struct ChConnection {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  // True once it has carried an exchange: a pooled connection the server
  // may have closed while it was idle.
  bool reused = false;
};

// Runs `start(handler)` (one asynchronous operation on `conn`) to its end
// and returns its error.
template <typename Start>
beast::error_code ChRunOnConnection(ChConnection& conn, Start start) {
  beast::error_code result = net::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  conn.ioc.restart();
  conn.ioc.run();
  return result;
}

// True when the idle connection's socket has something to read: the server
// closed it (EOF, reset) or sent what it should not have; either way it is
// not reusable.
bool ChConnectionLooksClosed(ChConnection& conn) {
  pollfd p{};
  p.fd = conn.stream.socket().native_handle();
  p.events = POLLIN;
  return ::poll(&p, 1, 0) != 0;
}

std::string ChPercentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

int ChHexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> ChPercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = ChHexDigitValue(s[i + 1]);
    const int lo = ChHexDigitValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool ChIsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool ChIsHeaderByte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte >= 0x20 && byte != 0x7f;
}

std::string ChHostForUrl(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// ClickHouse's text without its trailing newline, cut to a sane length.
std::string ChErrorText(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  if (body.size() > kChMaxErrorText) return std::string(body.substr(0, kChMaxErrorText)) + "…";
  if (body.empty()) return "(no text)";
  return std::string(body);
}

// The "N" of the first "Code: N" in `text`, at its start or after ": ".
std::optional<int> FindClickHouseCode(std::string_view text) {
  constexpr std::string_view kCode = "Code: ";
  for (size_t pos = text.find(kCode); pos != std::string_view::npos;
       pos = text.find(kCode, pos + 1)) {
    if (pos != 0 && (pos < 2 || text.substr(pos - 2, 2) != ": ")) continue;
    const char* begin = text.data() + pos + kCode.size();
    const char* end = text.data() + text.size();
    int code = 0;
    auto [ptr, ec] = std::from_chars(begin, end, code);
    if (ec == std::errc() && ptr != begin) return code;
  }
  return std::nullopt;
}

}  // namespace

// Idle connections, most recently used last, and how many were opened.
class ClickHouseClient::Pool {
 public:
  explicit Pool(size_t max_idle) : max_idle_(max_idle) {}

  // An idle connection that still looks open, or nullptr.
  std::unique_ptr<ChConnection> Take() EXCLUDES(mu_) {
    while (true) {
      std::unique_ptr<ChConnection> conn;
      {
        MutexLock lock(mu_);
        if (idle_.empty()) return nullptr;
        conn = std::move(idle_.back());
        idle_.pop_back();
      }
      if (!ChConnectionLooksClosed(*conn)) return conn;
    }
  }

  void Give(std::unique_ptr<ChConnection> conn) EXCLUDES(mu_) {
    conn->reused = true;
    MutexLock lock(mu_);
    if (idle_.size() >= max_idle_) return;  // closed as it goes out of scope
    idle_.push_back(std::move(conn));
  }

  void CountOpened() { opened_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }

 private:
  const size_t max_idle_;
  std::atomic<uint64_t> opened_{0};
  Mutex mu_;
  std::vector<std::unique_ptr<ChConnection>> idle_ GUARDED_BY(mu_);
};

namespace {

using ChRequest = http::request<http::span_body<const char>>;

// What one attempt of an exchange came to.
struct ChAttempt {
  Status status;             // of the transport; OK when a response arrived
  bool retryable = false;    // failed on a reused connection before any answer
  unsigned http_status = 0;  // with status OK
  std::string body;
  bool keep_alive = false;
};

class ChExchange {
 public:
  ChExchange(const ClickHouseUrl& url, const ClickHouseClientOptions& options)
      : url_(url), options_(options) {}

  Result<std::unique_ptr<ChConnection>> Connect() {
    auto conn = std::make_unique<ChConnection>();
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    const net::ip::address address = net::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, url_.port), url_.host,
                                                      std::to_string(url_.port));
    } else {
      tcp::resolver resolver(conn->ioc);
      endpoints = resolver.resolve(url_.host, std::to_string(url_.port), ec);
      if (ec) {
        return Status::Unavailable(
            fmt::format("cannot reach ClickHouse at {}: cannot resolve {}: {}", url_.ToString(),
                        url_.host, ec.message()));
      }
    }
    conn->stream.expires_after(options_.connect_timeout);
    ec = ChRunOnConnection(*conn, [&](auto handler) {
      conn->stream.async_connect(
          endpoints, [handler](beast::error_code e, const tcp::endpoint&) { handler(e); });
    });
    if (ec == beast::error::timeout) {
      return Status::Unavailable(
          fmt::format("cannot reach ClickHouse at {}: no connection within {} ms", url_.ToString(),
                      options_.connect_timeout.count()));
    }
    if (ec) {
      return Status::Unavailable(
          fmt::format("cannot reach ClickHouse at {}: {}", url_.ToString(), ec.message()));
    }
    beast::error_code ignored;
    conn->stream.socket().set_option(tcp::no_delay(true), ignored);
    return conn;
  }

  // Writes `req` on `conn` and reads the whole response.
  ChAttempt Attempt(ChConnection& conn, ChRequest& req) {
    ChAttempt attempt;
    conn.stream.expires_after(options_.query_timeout);
    const beast::error_code write_ec = ChRunOnConnection(
        conn, [&](auto handler) { http::async_write(conn.stream, req, handler); });
    // A server that refuses a statement may answer and close before it has
    // read the whole body: the answer is still worth reading.
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(64 * 1024);
    const beast::error_code read_ec = ChRunOnConnection(
        conn, [&](auto handler) { http::async_read(conn.stream, buffer, parser, handler); });
    if (!read_ec) {
      attempt.http_status = parser.get().result_int();
      attempt.keep_alive = parser.get().keep_alive() && !write_ec;
      attempt.body = std::move(parser.get().body());
      return attempt;
    }
    const beast::error_code ec = write_ec ? write_ec : read_ec;
    const bool answered = parser.got_some() || buffer.size() > 0;
    if (ec == beast::error::timeout || read_ec == beast::error::timeout) {
      attempt.status =
          Status::IOError(fmt::format("ClickHouse at {} did not answer within {} ms",
                                      url_.ToString(), options_.query_timeout.count()));
      return attempt;
    }
    if (answered) {
      attempt.status =
          Status::IOError(fmt::format("the exchange with ClickHouse at {} failed midway: {}",
                                      url_.ToString(), read_ec.message()));
      return attempt;
    }
    attempt.retryable = conn.reused;
    attempt.status = Status::Unavailable(
        fmt::format("ClickHouse at {} closed the connection before answering: {}", url_.ToString(),
                    ec.message()));
    return attempt;
  }

 private:
  const ClickHouseUrl& url_;
  const ClickHouseClientOptions& options_;
};

Status ChStatusFromAnswer(const ClickHouseUrl& url, unsigned http_status, const std::string& body) {
  const std::string text = ChErrorText(body);
  if (http_status == 503) {
    return Status::Unavailable(
        fmt::format("ClickHouse at {} is unavailable (HTTP 503): {}", url.ToString(), text));
  }
  const std::optional<int> code = FindClickHouseCode(text);
  if (!code) {
    return Status::IOError(
        fmt::format("ClickHouse at {} answered HTTP {}: {}", url.ToString(), http_status, text));
  }
  if (*code == kClickHouseMemoryLimitExceeded || *code == kClickHouseNotEnoughSpace) {
    return Status::ResourceExhausted(
        fmt::format("ClickHouse at {} ran out of resources: {}", url.ToString(), text));
  }
  return Status::InvalidArgument(
      fmt::format("ClickHouse at {} refused the statement: {}", url.ToString(), text));
}

// One HOST[:PORT] of a URL; the error says what is wrong with it.
Result<ClickHouseHost> ChParseHost(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unbalanced brackets around the host");
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::InvalidArgument("only ':PORT' may follow ']'");
      port_text = after.substr(1);
      has_port = true;
    }
    beast::error_code ec;
    net::ip::make_address_v6(std::string(host), ec);
    if (host.empty() || ec) {
      return Status::InvalidArgument("the host in brackets must be an IPv6 address");
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
      has_port = true;
      if (port_text.find(':') != std::string_view::npos) {
        return Status::InvalidArgument("put an IPv6 host in brackets");
      }
    }
    if (host.empty()) return Status::InvalidArgument("missing the host");
    if (!std::all_of(host.begin(), host.end(), ChIsHostChar)) {
      return Status::InvalidArgument("the host may hold only letters, digits, '-', '.' and '_'");
    }
  }
  ClickHouseHost out;
  out.host = std::string(host);
  if (has_port) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port == 0 || port > 65535) {
      return Status::InvalidArgument("the port must be a number from 1 to 65535");
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

}  // namespace

std::string ClickHouseUrl::ToString() const {
  std::string hosts = fmt::format("{}:{}", ChHostForUrl(host), port);
  for (const ClickHouseHost& h : more_hosts) {
    hosts += fmt::format(",{}:{}", ChHostForUrl(h.host), h.port);
  }
  return fmt::format("clickhouse://{}@{}/{}{}", ChPercentEncode(user), hosts, database,
                     cluster.empty() ? "" : "?cluster=" + cluster);
}

std::vector<ClickHouseUrl> ClickHouseUrl::Servers() const {
  ClickHouseUrl first = *this;
  first.cluster.clear();
  first.more_hosts.clear();
  std::vector<ClickHouseUrl> out = {first};
  for (const ClickHouseHost& h : more_hosts) {
    ClickHouseUrl u = first;
    u.host = h.host;
    u.port = h.port;
    out.push_back(std::move(u));
  }
  return out;
}

Result<ClickHouseUrl> ParseClickHouseUrl(std::string_view text) {
  auto invalid = [text](std::string_view why) {
    // The text may hold a password: only what follows the '@' is shown.
    std::string shown(text);
    if (const size_t at = text.rfind('@'); at != std::string_view::npos) {
      const size_t scheme_end = text.find("://");
      shown =
          std::string(text.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end + 3)) +
          "…@" + std::string(text.substr(at + 1));
    }
    return Status::InvalidArgument(fmt::format(
        "invalid ClickHouse URL '{}': {} (use clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/"
        "DATABASE, or for a cluster clickhouse://[USER[:PASSWORD]@]HOST[:PORT],HOST[:PORT],…/"
        "DATABASE?cluster=NAME)",
        shown, why));
  };
  constexpr std::string_view kScheme = "clickhouse://";
  if (!text.starts_with(kScheme)) {
    return invalid(text.find("://") == std::string_view::npos ? "missing the scheme clickhouse://"
                                                              : "the scheme must be clickhouse://");
  }
  std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view database =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  std::string_view query;
  if (const size_t q = database.find('?'); q != std::string_view::npos) {
    query = database.substr(q + 1);
    database = database.substr(0, q);
  }
  ClickHouseUrl url;
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    std::optional<std::string> user = ChPercentDecode(userinfo.substr(0, colon));
    if (!user) return invalid("a bad %-escape in the user");
    if (user->empty()) return invalid("an empty user before '@'");
    // Both travel in HTTP headers, where a line break would end them.
    if (!std::all_of(user->begin(), user->end(), ChIsHeaderByte)) {
      return invalid("a control character in the user");
    }
    url.user = std::move(*user);
    if (colon != std::string_view::npos) {
      std::optional<std::string> password = ChPercentDecode(userinfo.substr(colon + 1));
      if (!password) return invalid("a bad %-escape in the password");
      if (!std::all_of(password->begin(), password->end(), ChIsHeaderByte)) {
        return invalid("a control character in the password");
      }
      url.password = std::move(*password);
    }
  }
  std::vector<ClickHouseHost> hosts;
  while (true) {
    // A comma outside brackets ends a host (an IPv6 host has none, its
    // colons sit inside brackets).
    size_t comma = std::string_view::npos;
    if (authority.starts_with('[')) {
      const size_t close = authority.find(']');
      if (close != std::string_view::npos) comma = authority.find(',', close);
    } else {
      comma = authority.find(',');
    }
    Result<ClickHouseHost> parsed = ChParseHost(authority.substr(0, comma));
    if (!parsed.ok()) return invalid(parsed.status().message());
    hosts.push_back(std::move(*parsed));
    if (comma == std::string_view::npos) break;
    authority = authority.substr(comma + 1);
  }
  url.host = hosts[0].host;
  url.port = hosts[0].port;
  url.more_hosts.assign(hosts.begin() + 1, hosts.end());
  if (slash == std::string_view::npos || database.empty()) return invalid("missing '/DATABASE'");
  if (!std::all_of(database.begin(), database.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      })) {
    return invalid("the database name may hold only letters, digits and '_'");
  }
  url.database = std::string(database);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!param.starts_with("cluster=")) {
      return invalid(fmt::format("unknown parameter '{}' (only cluster=NAME)", param));
    }
    const std::string_view name = param.substr(8);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return invalid("the cluster name may hold only letters, digits and '_'");
    }
    url.cluster = std::string(name);
  }
  if (!url.more_hosts.empty() && url.cluster.empty()) {
    return invalid(
        "several hosts need ?cluster=NAME, the cluster of the servers' remote_servers config");
  }
  return url;
}

ClickHouseClient::ClickHouseClient(ClickHouseUrl url, ClickHouseClientOptions options)
    : url_(std::move(url)),
      options_(options),
      pool_(std::make_unique<Pool>(options.max_idle_connections)) {}

ClickHouseClient::~ClickHouseClient() = default;

uint64_t ClickHouseClient::connections_opened() const { return pool_->opened(); }

Result<std::string> ClickHouseClient::Post(std::string_view query_param, std::string_view body,
                                           bool with_database) {
  try {
    // wait_end_of_query: ClickHouse holds the answer (in memory, then in a
    // temp file) until the statement has finished, so an error midway comes
    // as an error status; streamed, it would follow a 200 and rows already
    // sent, as text appended to the body.
    std::string target = "/?wait_end_of_query=1";
    if (with_database) target += "&database=" + ChPercentEncode(url_.database);
    for (const auto& [name, value] : options_.settings) {
      target += "&" + ChPercentEncode(name) + "=" + ChPercentEncode(value);
    }
    if (!query_param.empty()) target += "&query=" + ChPercentEncode(query_param);
    ChRequest req{http::verb::post, target, 11};
    req.set(http::field::host, fmt::format("{}:{}", ChHostForUrl(url_.host), url_.port));
    req.set(http::field::user_agent, "roentgen");
    req.set(http::field::connection, "keep-alive");
    req.set("X-ClickHouse-User", url_.user);
    if (!url_.password.empty()) req.set("X-ClickHouse-Key", url_.password);
    req.body() = {body.data(), body.size()};
    req.prepare_payload();

    ChExchange exchange(url_, options_);
    std::unique_ptr<ChConnection> conn = pool_->Take();
    ChAttempt attempt;
    // A pooled connection the server closed while it was idle fails before
    // any answer: then once more on a fresh one.
    for (int tries = 0; tries < 2; ++tries) {
      if (conn == nullptr) {
        Result<std::unique_ptr<ChConnection>> fresh = exchange.Connect();
        if (!fresh.ok()) return fresh.status();
        pool_->CountOpened();
        conn = std::move(*fresh);
      }
      attempt = exchange.Attempt(*conn, req);
      if (!attempt.retryable) break;
      conn.reset();
    }
    if (!attempt.status.ok()) return attempt.status;
    if (attempt.keep_alive && conn != nullptr) pool_->Give(std::move(conn));
    if (attempt.http_status != 200)
      return ChStatusFromAnswer(url_, attempt.http_status, attempt.body);
    return std::move(attempt.body);
  } catch (const std::exception& e) {
    return Status::IOError(
        fmt::format("the exchange with ClickHouse at {} failed: {}", url_.ToString(), e.what()));
  }
}

Result<std::string> ClickHouseClient::Query(std::string_view sql) { return Post({}, sql, true); }

Status ClickHouseClient::Execute(std::string_view sql) { return Post({}, sql, true).status(); }

Status ClickHouseClient::Insert(std::string_view insert_sql, std::string_view data) {
  return Post(insert_sql, data, true).status();
}

Result<std::string> ClickHouseClient::QueryWithoutDatabase(std::string_view sql) {
  return Post({}, sql, false);
}

std::optional<int> ClickHouseErrorCode(const Status& status) {
  if (status.ok()) return std::nullopt;
  return FindClickHouseCode(status.message());
}

std::string QuoteString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          out += fmt::format("\\x{:02X}", byte);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace roentgen::store::clickhouse
