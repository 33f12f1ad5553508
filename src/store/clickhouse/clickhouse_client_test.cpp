// The ClickHouse client against a real clickhouse-server started for the
// test (testing/clickhouse_test_server.h), and against a scripted HTTP
// server for the failures a real one does not produce on demand (a stale
// keep-alive connection, a hang, an answer cut midway).
#include "store/clickhouse/clickhouse_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/test_dir.h"
#include "store/clickhouse/testing/clickhouse_test_server.h"

namespace roentgen::store::clickhouse {
namespace {

using testing::ClickHouseTestServer;

// ---- URLs and quoting (no server) ----

TEST(ClickHouseUrlTest, ParsesEveryPart) {
  Result<ClickHouseUrl> url =
      ParseClickHouseUrl("clickhouse://alice:p%40ss:w@db.example:9000/traces");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "db.example");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->database, "traces");
  EXPECT_EQ(url->user, "alice");
  EXPECT_EQ(url->password, "p@ss:w");
  EXPECT_EQ(url->ToString(), "clickhouse://alice@db.example:9000/traces");
}

TEST(ClickHouseUrlTest, DefaultsPortAndUser) {
  Result<ClickHouseUrl> url = ParseClickHouseUrl("clickhouse://localhost/roentgen_1");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 8123);
  EXPECT_EQ(url->user, "default");
  EXPECT_EQ(url->password, "");
  EXPECT_EQ(url->database, "roentgen_1");
}

TEST(ClickHouseUrlTest, TakesAnIpv6HostInBrackets) {
  Result<ClickHouseUrl> url = ParseClickHouseUrl("clickhouse://[::1]:8124/db");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8124);
  EXPECT_EQ(url->ToString(), "clickhouse://default@[::1]:8124/db");
  Result<ClickHouseUrl> no_port = ParseClickHouseUrl("clickhouse://u@[fe80::1]/db");
  ASSERT_TRUE(no_port.ok()) << no_port.status().ToString();
  EXPECT_EQ(no_port->host, "fe80::1");
  EXPECT_EQ(no_port->port, 8123);
  EXPECT_EQ(no_port->user, "u");
}

TEST(ClickHouseUrlTest, RefusesBadUrlsSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://localhost:8123/db", "the scheme must be clickhouse://"},
      {"localhost:8123/db", "missing the scheme"},
      {"clickhouse://localhost:8123", "missing '/DATABASE'"},
      {"clickhouse://localhost:8123/", "missing '/DATABASE'"},
      {"clickhouse://localhost:0/db", "the port must be a number from 1 to 65535"},
      {"clickhouse://localhost:65536/db", "the port must be a number from 1 to 65535"},
      {"clickhouse://localhost:12ab/db", "the port must be a number from 1 to 65535"},
      {"clickhouse://localhost:/db", "the port must be a number from 1 to 65535"},
      {"clickhouse://:8123/db", "missing the host"},
      {"clickhouse://::1/db", "put an IPv6 host in brackets"},
      {"clickhouse://[::1/db", "unbalanced brackets"},
      {"clickhouse://[not-v6]:1/db", "must be an IPv6 address"},
      {"clickhouse://host/my-db", "only letters, digits and '_'"},
      {"clickhouse://host/db/more", "only letters, digits and '_'"},
      {"clickhouse://ho st/db", "the host may hold only"},
      {"clickhouse://:secret@host/db", "an empty user"},
      {"clickhouse://u:%zz@host/db", "bad %-escape in the password"},
      {"clickhouse://u%0D%0AX:p@host/db", "a control character in the user"},
      {"clickhouse://u:p%0A@host/db", "a control character in the password"},
  };
  for (const auto& [text, why] : cases) {
    Result<ClickHouseUrl> url = ParseClickHouseUrl(text);
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(url.status().message().find(why), std::string::npos)
        << text << " → " << url.status().message();
  }
  // A refused URL's message never shows its password.
  Result<ClickHouseUrl> url = ParseClickHouseUrl("clickhouse://u:topsecret@host:99999/db");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().message().find("topsecret"), std::string::npos) << url.status().message();
}

TEST(ClickHouseUrlTest, NamesAClusterAndEveryServerOfIt) {
  Result<ClickHouseUrl> url = ParseClickHouseUrl(
      "clickhouse://alice:pw@ch1.example:8123,[::1]:8124,ch3/traces?cluster=roentgen_2");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "ch1.example");
  EXPECT_EQ(url->port, 8123);
  EXPECT_EQ(url->cluster, "roentgen_2");
  EXPECT_EQ(url->database, "traces");
  ASSERT_EQ(url->more_hosts.size(), 2u);
  EXPECT_EQ(url->more_hosts[0].host, "::1");
  EXPECT_EQ(url->more_hosts[0].port, 8124);
  EXPECT_EQ(url->more_hosts[1].host, "ch3");
  EXPECT_EQ(url->more_hosts[1].port, 8123);
  EXPECT_EQ(url->ToString(),
            "clickhouse://alice@ch1.example:8123,[::1]:8124,ch3:8123/traces?cluster=roentgen_2");
  // One URL per server, each with the credentials and database.
  const std::vector<ClickHouseUrl> servers = url->Servers();
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[1].ToString(), "clickhouse://alice@[::1]:8124/traces");
  EXPECT_EQ(servers[2].password, "pw");
  EXPECT_TRUE(servers[2].cluster.empty());
  // A cluster of one listed server; a single server has one URL, itself.
  Result<ClickHouseUrl> one = ParseClickHouseUrl("clickhouse://h/db?cluster=c");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->cluster, "c");
  EXPECT_TRUE(one->more_hosts.empty());
  Result<ClickHouseUrl> single = ParseClickHouseUrl("clickhouse://h:9/db");
  ASSERT_TRUE(single.ok());
  ASSERT_EQ(single->Servers().size(), 1u);
  EXPECT_EQ(single->Servers()[0].ToString(), "clickhouse://default@h:9/db");
}

TEST(ClickHouseUrlTest, RefusesBadClusterUrlsSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"clickhouse://h1,h2/db", "several hosts need ?cluster=NAME"},
      {"clickhouse://h1,/db?cluster=c", "missing the host"},
      {"clickhouse://h1,h2:0/db?cluster=c", "the port must be a number"},
      {"clickhouse://h1/db?cluster=", "the cluster name may hold only"},
      {"clickhouse://h1/db?cluster=a-b", "the cluster name may hold only"},
      {"clickhouse://h1/db?shards=2", "unknown parameter 'shards=2'"},
      {"clickhouse://h1/db?cluster=c&x=1", "unknown parameter 'x=1'"},
      {"clickhouse://h1/?cluster=c", "missing '/DATABASE'"},
  };
  for (const auto& [text, why] : cases) {
    Result<ClickHouseUrl> url = ParseClickHouseUrl(text);
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(url.status().message().find(why), std::string::npos)
        << text << " → " << url.status().message();
  }
}

TEST(ClickHouseQuoteTest, EscapesBackslashQuoteAndControlBytes) {
  EXPECT_EQ(QuoteString(""), "''");
  EXPECT_EQ(QuoteString("plain"), "'plain'");
  EXPECT_EQ(QuoteString("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteString("a\\b"), "'a\\\\b'");
  EXPECT_EQ(QuoteString("l1\nl2\tx\r"), "'l1\\nl2\\tx\\r'");
  EXPECT_EQ(QuoteString(std::string("\0\x01\x1f\x7f", 4)), "'\\x00\\x01\\x1F\\x7F'");
  EXPECT_EQ(QuoteString("\xc3\xa9\xff"), "'\xc3\xa9\xff'");  // bytes ≥ 0x80 as they are
}

TEST(ClickHouseErrorCodeTest, ReadsTheCodeOfClickHouseErrorsOnly) {
  EXPECT_EQ(ClickHouseErrorCode(Status::InvalidArgument(
                "ClickHouse at x refused the statement: Code: 60, e.displayText() = ...")),
            60);
  EXPECT_EQ(ClickHouseErrorCode(Status::InvalidArgument("Code: 62. DB::Exception: Syntax")), 62);
  EXPECT_EQ(ClickHouseErrorCode(Status::Unavailable("cannot reach ClickHouse: refused")),
            std::nullopt);
  EXPECT_EQ(ClickHouseErrorCode(Status::Ok()), std::nullopt);
}

// ---- against a real clickhouse-server ----

// A client of a fresh database on the test binary's shared server.
class ClickHouseClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<ClickHouseTestServer*> server = testing::SharedClickHouseTestServer();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
    Result<std::string> database = testing::NewTestDatabase();
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    url_ = server_->Url(*database);
    client_ = std::make_unique<ClickHouseClient>(url_);
  }

  std::string MustQuery(const std::string& sql) {
    Result<std::string> rows = client_->Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    return rows.ok() ? *rows : std::string();
  }

  ClickHouseTestServer* server_ = nullptr;
  ClickHouseUrl url_;
  std::unique_ptr<ClickHouseClient> client_;
};

// Bytes no text format carries unescaped: NUL, quotes, backslashes, line
// breaks, tabs, DEL and bytes that are not UTF-8.
const std::vector<std::string>& AwkwardStrings() {
  static const std::vector<std::string> strings = {
      "",
      "plain",
      std::string("nul\0inside", 10),
      "quote ' and \"double\"",
      "back\\slash\\",
      "line\nbreak\r\nand\ttab",
      std::string("\x01\x02\x1f\x7f", 4),
      "\xff\xfe not utf-8 \xc3\x28",
      "\\x41 \\N \\' literally",
      std::string(1, '\n'),
  };
  return strings;
}

// RowBinary: a String is its length as LEB128, then its bytes.
std::string RowBinaryString(const std::string& s) {
  std::string out;
  uint64_t n = s.size();
  do {
    uint8_t byte = n & 0x7f;
    n >>= 7;
    if (n != 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n != 0);
  return out + s;
}

std::string RowBinaryUInt32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

TEST_F(ClickHouseClientTest, InsertsRowBinaryAndReadsItBackByteExact) {
  ASSERT_TRUE(
      client_->Execute("CREATE TABLE t (id UInt32, s String) ENGINE = MergeTree ORDER BY id").ok());
  std::string rows;
  const std::vector<std::string>& strings = AwkwardStrings();
  for (size_t i = 0; i < strings.size(); ++i) {
    rows += RowBinaryUInt32(static_cast<uint32_t>(i)) + RowBinaryString(strings[i]);
  }
  // The data begins with bytes ClickHouse might take for the statement's
  // end (a NUL id, then whitespace in later rows): all of it must arrive.
  Status inserted = client_->Insert("INSERT INTO t FORMAT RowBinary", rows);
  ASSERT_TRUE(inserted.ok()) << inserted.ToString();
  EXPECT_EQ(MustQuery("SELECT id, s FROM t ORDER BY id FORMAT RowBinary"), rows);
  // And each one equals its literal written with QuoteString.
  for (size_t i = 0; i < strings.size(); ++i) {
    EXPECT_EQ(MustQuery(fmt::format("SELECT count() FROM t WHERE id = {} AND s = {}", i,
                                    QuoteString(strings[i]))),
              "1\n")
        << i;
  }
}

TEST_F(ClickHouseClientTest, QuotedLiteralsRoundTripEveryByte) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  std::vector<std::string> strings = AwkwardStrings();
  strings.push_back(all_bytes);
  for (const std::string& s : strings) {
    EXPECT_EQ(MustQuery("SELECT " + QuoteString(s) + " FORMAT RowBinary"), RowBinaryString(s));
  }
}

TEST_F(ClickHouseClientTest, InsertsTabSeparatedRows) {
  ASSERT_TRUE(client_->Execute("CREATE TABLE t (id UInt32, s String) ENGINE = Memory").ok());
  // TabSeparated escapes \t \n and the backslash itself.
  const std::string rows = "1\tone\n2\ttab\\there\n3\tline\\nbreak \\\\ back\n";
  Status inserted = client_->Insert("INSERT INTO t FORMAT TabSeparated", rows);
  ASSERT_TRUE(inserted.ok()) << inserted.ToString();
  EXPECT_EQ(MustQuery("SELECT id, s FROM t ORDER BY id"), rows);
  EXPECT_EQ(MustQuery("SELECT s FROM t WHERE id = 3 FORMAT RowBinary"),
            RowBinaryString("line\nbreak \\ back"));
}

TEST_F(ClickHouseClientTest, RunsAStatementLongerThanAnUrlMayBe) {
  // The statement travels in the body, never in the URL (16 KiB at most in
  // ClickHouse 18.16).
  std::string in_list;
  for (int i = 0; i < 20000; ++i) in_list += fmt::format("{}{}", i == 0 ? "" : ",", i);
  EXPECT_EQ(MustQuery("SELECT count() FROM numbers(30000) WHERE number IN (" + in_list + ")"),
            "20000\n");
}

TEST_F(ClickHouseClientTest, ASyntaxErrorIsInvalidArgumentWithCode62) {
  Status status = client_->Execute("SELEC 1");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(ClickHouseErrorCode(status), 62) << status.ToString();
  EXPECT_NE(status.message().find(url_.ToString()), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("Syntax error"), std::string::npos) << status.message();
  // The connection stays usable after an error.
  EXPECT_EQ(MustQuery("SELECT 41 + 1"), "42\n");
}

TEST_F(ClickHouseClientTest, AStatementFailingAfterItsFirstRowsIsAnError) {
  // Streamed, ClickHouse would send 200, ~18 MB of rows, then its error text.
  Result<std::string> rows =
      client_->Query("SELECT number, throwIf(number = 2000000) FROM numbers(3000000)");
  ASSERT_FALSE(rows.ok()) << rows->size() << " bytes";
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ClickHouseErrorCode(rows.status()), 395) << rows.status().ToString();
}

TEST_F(ClickHouseClientTest, AnUnknownTableIsCode60) {
  Result<std::string> rows = client_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ClickHouseErrorCode(rows.status()), 60) << rows.status().ToString();
  Status insert = client_->Insert("INSERT INTO no_such_table FORMAT RowBinary", "xyz");
  EXPECT_EQ(ClickHouseErrorCode(insert), 60) << insert.ToString();
}

TEST_F(ClickHouseClientTest, SendsItsSettingsWithEveryStatement) {
  ClickHouseClientOptions options;
  options.settings = {{"insert_distributed_sync", "1"}, {"max_threads", "3"}};
  ClickHouseClient client(url_, options);
  Result<std::string> rows = client.Query(
      "SELECT name, value FROM system.settings WHERE name IN ('insert_distributed_sync',"
      " 'max_threads') ORDER BY name");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, "insert_distributed_sync\t1\nmax_threads\t3\n");
  // Unknown to ClickHouse: refused, not ignored.
  ClickHouseClientOptions bad;
  bad.settings = {{"no_such_setting_x", "1"}};
  ClickHouseClient refused(url_, bad);
  EXPECT_EQ(refused.Query("SELECT 1").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClickHouseClientTest, QueriesWithoutADatabase) {
  ClickHouseUrl url = url_;
  url.database = "no_such_database";
  ClickHouseClient client(url);
  Result<std::string> rows = client.QueryWithoutDatabase("SELECT currentDatabase()");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, "default\n");
  // With it, the missing database is ClickHouse's UNKNOWN_DATABASE (81).
  EXPECT_EQ(ClickHouseErrorCode(client.Query("SELECT 1").status()), 81);
}

TEST_F(ClickHouseClientTest, AuthenticatesWithAPasswordAndRefusesAWrongOne) {
  ClickHouseUrl url = url_;
  url.user = std::string(ClickHouseTestServer::kPasswordUser);
  url.password = std::string(ClickHouseTestServer::kPassword);
  ClickHouseClient client(url);
  Result<std::string> user = client.Query("SELECT 'let in'");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, "let in\n");

  url.password = "wrong-password";
  ClickHouseClient wrong(url);
  Status status = wrong.Execute("SELECT 1");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  // 193 WRONG_PASSWORD (18.16), 516 AUTHENTICATION_FAILED (current).
  std::optional<int> code = ClickHouseErrorCode(status);
  EXPECT_TRUE(code == 193 || code == 516) << status.ToString();
  EXPECT_EQ(status.message().find("wrong-password"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(url.ToString()), std::string::npos) << status.message();
}

TEST_F(ClickHouseClientTest, ReadsALargeResultWhole) {
  constexpr int kRows = 1'500'000;
  std::string expected;
  for (uint64_t i = 0; i < kRows; ++i) expected += fmt::format("{}\t{}\n", i, i * 7919);
  ASSERT_GT(expected.size(), 20u << 20);
  Result<std::string> rows =
      client_->Query(fmt::format("SELECT number, number * 7919 FROM numbers({})", kRows));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), expected.size());
  EXPECT_TRUE(*rows == expected);
}

TEST_F(ClickHouseClientTest, InsertsALargeBody) {
  ASSERT_TRUE(client_->Execute("CREATE TABLE t (id UInt32, s String) ENGINE = Memory").ok());
  std::string rows;
  const std::string payload(1000, 'p');
  for (uint32_t i = 0; i < 20'000; ++i) rows += RowBinaryUInt32(i) + RowBinaryString(payload);
  Status inserted = client_->Insert("INSERT INTO t FORMAT RowBinary", rows);
  ASSERT_TRUE(inserted.ok()) << inserted.ToString();
  EXPECT_EQ(MustQuery("SELECT count(), sum(length(s)) FROM t"), "20000\t20000000\n");
}

TEST_F(ClickHouseClientTest, ManyThreadsShareOneClientAndReuseItsConnections) {
  constexpr int kThreads = 8;
  constexpr int kQueriesEach = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &wrong] {
      for (int q = 0; q < kQueriesEach; ++q) {
        const int n = t * 1000 + q;
        Result<std::string> rows = client_->Query(fmt::format("SELECT {} * 2", n));
        if (!rows.ok() || *rows != fmt::format("{}\n", n * 2)) wrong.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  // At most one connection per thread at a time, kept for reuse.
  EXPECT_LE(client_->connections_opened(), static_cast<uint64_t>(kThreads) + 2);
  EXPECT_GE(client_->connections_opened(), 1u);
}

TEST_F(ClickHouseClientTest, AConnectionTheServerClosedWhileIdleIsNotUsed) {
  EXPECT_EQ(MustQuery("SELECT 1"), "1\n");
  // The test server closes a keep-alive connection idle for 3 s.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(MustQuery("SELECT 2"), "2\n");
  EXPECT_EQ(client_->connections_opened(), 2u);
}

TEST(ClickHouseClientUnreachableTest, AClosedPortIsUnavailable) {
  // A port that was free a moment ago: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  ClickHouseUrl url;
  url.host = "127.0.0.1";
  url.port = ntohs(addr.sin_port);
  url.database = "db";
  ClickHouseClient client(url);
  Status status = client.Execute("SELECT 1");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find(url.ToString()), std::string::npos) << status.message();
  EXPECT_EQ(ClickHouseErrorCode(status), std::nullopt);
}

TEST(ClickHouseClientUnreachableTest, AnUnknownHostIsUnavailable) {
  ClickHouseUrl url;
  url.host = "no-such-host.invalid";
  url.database = "db";
  ClickHouseClient client(url);
  Status status = client.Execute("SELECT 1");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("no-such-host.invalid"), std::string::npos);
}

TEST(ClickHouseClientRestartTest, AStoppedServerIsUnavailableUntilItIsBack) {
  roentgen::testing::TestDir dir("clickhouse-restart");
  Result<std::unique_ptr<ClickHouseTestServer>> server = ClickHouseTestServer::Start(dir.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ClickHouseClient client((*server)->Url());
  ASSERT_TRUE(client.Execute("CREATE TABLE kept (x UInt8) ENGINE = TinyLog").ok());
  ASSERT_TRUE(client.Insert("INSERT INTO kept FORMAT TabSeparated", "7\n").ok());

  ASSERT_TRUE((*server)->Stop().ok());
  // The pooled connection is dead and nothing listens any more.
  Status down = client.Execute("SELECT 1");
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();

  Status restarted = (*server)->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  Result<std::string> rows = client.Query("SELECT x FROM kept");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, "7\n");
}

// ---- the test server itself ----

// Sets ROENTGEN_CLICKHOUSE_SERVER for its scope.
class ScopedClickHouseProgram {
 public:
  explicit ScopedClickHouseProgram(const char* program) {
    if (const char* old = std::getenv("ROENTGEN_CLICKHOUSE_SERVER"); old != nullptr) old_ = old;
    ::setenv("ROENTGEN_CLICKHOUSE_SERVER", program, 1);
  }
  ~ScopedClickHouseProgram() {
    if (old_) {
      ::setenv("ROENTGEN_CLICKHOUSE_SERVER", old_->c_str(), 1);
    } else {
      ::unsetenv("ROENTGEN_CLICKHOUSE_SERVER");
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST(ClickHouseTestServerTest, AMissingServerSaysHowToInstallIt) {
  roentgen::testing::TestDir dir("clickhouse-missing");
  ScopedClickHouseProgram program("/nonexistent/clickhouse-server");
  Result<std::unique_ptr<ClickHouseTestServer>> server = ClickHouseTestServer::Start(dir.path());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kNotFound);
  EXPECT_NE(server.status().message().find("scripts/install-deps.sh --with-tests"),
            std::string::npos)
      << server.status().message();
}

TEST(ClickHouseTestServerTest, AServerThatExitsAtOnceFailsTheStart) {
  roentgen::testing::TestDir dir("clickhouse-exits");
  ScopedClickHouseProgram program("/bin/false");
  Result<std::unique_ptr<ClickHouseTestServer>> server = ClickHouseTestServer::Start(dir.path());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(server.status().message().find("exited (status 1)"), std::string::npos)
      << server.status().message();
}

// ---- against a scripted HTTP server ----

// Serves one connection at a time on 127.0.0.1; `respond(connection,
// request)` says what to do with the n-th request on the c-th connection
// (both from 0): a raw response to send (then to close the connection when
// it begins with kThenClose), kClose to close without answering, or kHang to
// never answer.
class ScriptedHttpServer {
 public:
  static constexpr std::string_view kClose = "<close>";
  static constexpr std::string_view kHang = "<hang>";
  static constexpr std::string_view kThenClose = "<then-close>";
  using Script = std::function<std::string(int connection, int request)>;

  explicit ScriptedHttpServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedHttpServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (const int fd = current_fd_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  ClickHouseUrl Url() const {
    ClickHouseUrl url;
    url.host = "127.0.0.1";
    url.port = port_;
    url.database = "db";
    return url;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      current_fd_ = fd;
      const int connection = connections_.fetch_add(1);
      std::string pending;
      for (int request = 0; !stop_; ++request) {
        if (!ReadRequest(fd, pending)) break;
        const std::string action = script_(connection, request);
        if (action == kClose) break;
        if (action == kHang) {
          while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
          break;
        }
        const bool then_close = std::string_view(action).starts_with(kThenClose);
        const std::string_view response =
            std::string_view(action).substr(then_close ? kThenClose.size() : 0);
        ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
        if (then_close) break;
      }
      current_fd_ = -1;
      ::close(fd);
    }
  }

  // Reads one request (headers and a Content-Length body) off `fd`.
  static bool ReadRequest(int fd, std::string& pending) {
    char buf[65536];
    size_t header_end;
    while ((header_end = pending.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      pending.append(buf, n);
    }
    size_t length = 0;
    const std::string headers = pending.substr(0, header_end);
    if (size_t at = headers.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(headers.substr(at + 16));
    }
    while (pending.size() < header_end + 4 + length) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      pending.append(buf, n);
    }
    pending.erase(0, header_end + 4 + length);
    return true;
  }

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> current_fd_{-1};
  std::thread thread_;
};

std::string HttpResponse(int status, std::string_view body, bool keep_alive = true) {
  return fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{}", status,
                     body.size(), keep_alive ? "keep-alive" : "close", body);
}

TEST(ClickHouseClientScriptedTest, RetriesAStalePooledConnectionOnAFreshOne) {
  // The first connection answers once, then closes on the next request
  // without a byte of answer, as a server whose keep-alive ran out does.
  ScriptedHttpServer server([](int connection, int request) {
    if (connection == 0 && request == 1) return std::string(ScriptedHttpServer::kClose);
    return HttpResponse(200, fmt::format("c{}r{}\n", connection, request));
  });
  ClickHouseClient client(server.Url());
  Result<std::string> first = client.Query("SELECT 1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, "c0r0\n");
  Result<std::string> second = client.Query("SELECT 2");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, "c1r0\n");
  EXPECT_EQ(client.connections_opened(), 2u);
  // The fresh connection is pooled in turn.
  Result<std::string> third = client.Query("SELECT 3");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(*third, "c1r1\n");
}

TEST(ClickHouseClientScriptedTest, AFreshConnectionClosedBeforeAnAnswerIsUnavailable) {
  ScriptedHttpServer server([](int, int) { return std::string(ScriptedHttpServer::kClose); });
  ClickHouseClient client(server.Url());
  Status status = client.Execute("SELECT 1");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_EQ(server.connections(), 1);  // no retry of a connection just opened
}

TEST(ClickHouseClientScriptedTest, AnAnswerCutMidwayIsIOError) {
  ScriptedHttpServer server([](int, int) {
    return std::string(ScriptedHttpServer::kThenClose) +
           "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part";
  });
  // The server then closes: the client sees the body end early.
  ClickHouseClient client(server.Url());
  Result<std::string> rows = client.Query("SELECT 1");
  EXPECT_EQ(rows.status().code(), StatusCode::kIOError) << rows.status().ToString();
  EXPECT_NE(rows.status().message().find("midway"), std::string::npos) << rows.status().message();
}

TEST(ClickHouseClientScriptedTest, NoAnswerWithinTheQueryTimeoutIsIOError) {
  ScriptedHttpServer server([](int, int) { return std::string(ScriptedHttpServer::kHang); });
  ClickHouseClientOptions options;
  options.query_timeout = std::chrono::milliseconds(300);
  ClickHouseClient client(server.Url(), options);
  const auto start = std::chrono::steady_clock::now();
  Status status = client.Execute("SELECT sleep(3)");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status.code(), StatusCode::kIOError) << status.ToString();
  EXPECT_NE(status.message().find("did not answer within 300 ms"), std::string::npos)
      << status.message();
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(ClickHouseClientScriptedTest, MapsAnswersToStatuses) {
  ScriptedHttpServer server([](int, int request) {
    switch (request) {
      case 0:
        return HttpResponse(503, "Code: 202. DB::Exception: Too many simultaneous queries\n");
      case 1:
        return HttpResponse(
            500,
            "Code: 241, e.displayText() = DB::Exception: Memory limit exceeded, e.what() = "
            "DB::Exception\n");
      case 2:
        return HttpResponse(500, "Code: 243. DB::Exception: Not enough space\n");
      case 3:
        return HttpResponse(502, "Bad Gateway from a proxy\n");
      case 4:
        return HttpResponse(404, "Code: 60. DB::Exception: Table db.x doesn't exist\n");
      default:
        return HttpResponse(200, "fine\n", /*keep_alive=*/false);
    }
  });
  ClickHouseClient client(server.Url());
  Status unavailable = client.Execute("q");
  EXPECT_EQ(unavailable.code(), StatusCode::kUnavailable) << unavailable.ToString();
  EXPECT_EQ(ClickHouseErrorCode(unavailable), 202);
  Status memory = client.Execute("q");
  EXPECT_EQ(memory.code(), StatusCode::kResourceExhausted) << memory.ToString();
  EXPECT_EQ(ClickHouseErrorCode(memory), 241);
  Status disk = client.Execute("q");
  EXPECT_EQ(disk.code(), StatusCode::kResourceExhausted) << disk.ToString();
  Status proxy = client.Execute("q");
  EXPECT_EQ(proxy.code(), StatusCode::kIOError) << proxy.ToString();
  EXPECT_NE(proxy.message().find("HTTP 502"), std::string::npos) << proxy.message();
  EXPECT_EQ(ClickHouseErrorCode(proxy), std::nullopt);
  Status missing = client.Execute("q");
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument) << missing.ToString();
  EXPECT_EQ(ClickHouseErrorCode(missing), 60);
  // All of those on one kept-alive connection; a "Connection: close" answer
  // is not pooled.
  EXPECT_TRUE(client.Query("q").ok());
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace roentgen::store::clickhouse
