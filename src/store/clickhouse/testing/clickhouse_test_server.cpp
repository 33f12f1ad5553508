#include "store/clickhouse/testing/clickhouse_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

namespace roentgen::store::clickhouse::testing {
namespace {

constexpr std::string_view kDefaultServer = "/usr/sbin/clickhouse-server";
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(20);
// Tries with fresh ports when another process took one between choosing
// and the server's bind.
constexpr int kPortAttempts = 5;

std::string ClickHouseServerProgram() {
  const char* env = std::getenv("ROENTGEN_CLICKHOUSE_SERVER");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultServer);
}

// `count` distinct ports free on 127.0.0.1 now (each bound to port 0 and
// released; all held at once so they differ).
Result<std::vector<uint16_t>> ChooseFreeLoopbackPorts(size_t count) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  Status status;
  for (size_t i = 0; i < count && status.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = Status::IOError(fmt::format("socket: {}", std::strerror(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = Status::IOError(
          fmt::format("cannot find a free port on 127.0.0.1: {}", std::strerror(errno)));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

// The body of GET /ping on 127.0.0.1:`port`, or "" when it does not answer.
std::string ChPingBody(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    constexpr std::string_view kRequest = "GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(kRequest.size())) {
      std::array<char, 1024> buf;
      ssize_t n;
      while ((n = ::recv(fd, buf.data(), buf.size(), 0)) > 0) response.append(buf.data(), n);
    }
  }
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The last `max_bytes` of the file, or "" when it cannot be read.
std::string ChFileTail(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  if (text.size() > max_bytes) text = "…" + text.substr(text.size() - max_bytes);
  return text;
}

Status ChWriteTextFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError(fmt::format("cannot write {}", path.string()));
  return Status::Ok();
}

std::string ChXmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Waits up to `timeout` for `pid` to exit; true when it did (and was reaped).
bool ChWaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int wstatus = 0;
    const pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

Result<std::unique_ptr<ClickHouseTestServer>> ClickHouseTestServer::Start(
    const std::filesystem::path& dir) {
  const std::string program = ClickHouseServerProgram();
  if (::access(program.c_str(), X_OK) != 0) {
    return Status::NotFound(fmt::format(
        "cannot run the ClickHouse server {} ({}): the ClickHouse tests start one of their own; "
        "run scripts/install-deps.sh --with-tests to install it (or set "
        "ROENTGEN_CLICKHOUSE_SERVER to another clickhouse-server)",
        program, std::strerror(errno)));
  }
  RG_RETURN_IF_ERROR(MakeDirs(dir));
  std::unique_ptr<ClickHouseTestServer> server(new ClickHouseTestServer(dir));
  Status status;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    Result<std::vector<uint16_t>> ports = ChooseFreeLoopbackPorts(3);
    if (!ports.ok()) return ports.status();
    server->http_port_ = (*ports)[0];
    server->tcp_port_ = (*ports)[1];
    server->interserver_port_ = (*ports)[2];
    RG_RETURN_IF_ERROR(server->WriteConfig());
    status = server->Launch();
    if (status.ok()) return server;
    if (server->ErrorLogTail().find("Address already in use") == std::string::npos) break;
  }
  return status;
}

Status ClickHouseTestServer::MakeDirs(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const char* sub : {"data", "tmp", "user_files", "format_schemas", "log"}) {
    std::filesystem::create_directories(dir / sub, ec);
    if (ec) {
      return Status::IOError(
          fmt::format("cannot create {}: {}", (dir / sub).string(), ec.message()));
    }
  }
  return Status::Ok();
}

Result<std::vector<std::unique_ptr<ClickHouseTestServer>>> ClickHouseTestServer::StartCluster(
    const std::filesystem::path& dir, std::string_view cluster, size_t shards) {
  const std::string program = ClickHouseServerProgram();
  if (::access(program.c_str(), X_OK) != 0) {
    return Status::NotFound(fmt::format(
        "cannot run the ClickHouse server {} ({}): the ClickHouse tests start their own; "
        "run scripts/install-deps.sh --with-tests to install it (or set "
        "ROENTGEN_CLICKHOUSE_SERVER to another clickhouse-server)",
        program, std::strerror(errno)));
  }
  std::vector<std::unique_ptr<ClickHouseTestServer>> servers;
  for (size_t i = 0; i < shards; ++i) {
    const std::filesystem::path sub = dir / fmt::format("shard{}", i + 1);
    RG_RETURN_IF_ERROR(MakeDirs(sub));
    servers.push_back(std::unique_ptr<ClickHouseTestServer>(new ClickHouseTestServer(sub)));
  }
  Status status;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    Result<std::vector<uint16_t>> ports = ChooseFreeLoopbackPorts(3 * shards);
    if (!ports.ok()) return ports.status();
    std::string remote = fmt::format("  <remote_servers>\n    <{}>\n", cluster);
    for (size_t i = 0; i < shards; ++i) {
      servers[i]->http_port_ = (*ports)[3 * i];
      servers[i]->tcp_port_ = (*ports)[3 * i + 1];
      servers[i]->interserver_port_ = (*ports)[3 * i + 2];
      remote += fmt::format(
          "      <shard><replica><host>127.0.0.1</host><port>{}</port></replica></shard>\n",
          servers[i]->tcp_port_);
    }
    remote += fmt::format("    </{}>\n  </remote_servers>\n", cluster);
    bool port_taken = false;
    status = Status::Ok();
    for (auto& server : servers) {
      server->extra_config_ = remote;
      RG_RETURN_IF_ERROR(server->WriteConfig());
      status = server->Launch();
      if (!status.ok()) {
        port_taken = server->ErrorLogTail().find("Address already in use") != std::string::npos;
        break;
      }
    }
    if (status.ok()) return servers;
    for (auto& server : servers) server->Kill();
    if (!port_taken) break;
  }
  return status;
}

ClickHouseTestServer::~ClickHouseTestServer() {
  if (running()) (void)Stop();
}

Status ClickHouseTestServer::WriteConfig() const {
  const std::string d = dir_.string();
  const std::string config = fmt::format(
      R"(<?xml version="1.0"?>
<!-- A ClickHouse server of a test's own (src/store/clickhouse/testing/clickhouse_test_server.h). -->
<yandex>
  <logger>
    <level>warning</level>
    <log>{0}/log/server.log</log>
    <errorlog>{0}/log/err.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{1}</http_port>
  <tcp_port>{2}</tcp_port>
  <interserver_http_port>{3}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>{0}/data/</path>
  <tmp_path>{0}/tmp/</tmp_path>
  <user_files_path>{0}/user_files/</user_files_path>
  <format_schema_path>{0}/format_schemas/</format_schema_path>
  <users_config>{0}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <!-- A stop waits for open keep-alive connections: not 10 s. -->
  <keep_alive_timeout>3</keep_alive_timeout>
  <mark_cache_size>5368709</mark_cache_size>
  <uncompressed_cache_size>8388608</uncompressed_cache_size>
{4}</yandex>
)",
      ChXmlEscape(d), http_port_, tcp_port_, interserver_port_, extra_config_);
  const std::string users = fmt::format(
      R"(<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <{0}>
      <password>{1}</password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </{0}>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
)",
      kPasswordUser, ChXmlEscape(kPassword));
  RG_RETURN_IF_ERROR(ChWriteTextFile(dir_ / "config.xml", config));
  return ChWriteTextFile(dir_ / "users.xml", users);
}

Status ClickHouseTestServer::Launch() {
  const std::string program = ClickHouseServerProgram();
  const std::string config_arg = "--config-file=" + (dir_ / "config.xml").string();
  const std::string stdout_path = (dir_ / "log" / "stdout.log").string();
  // Everything the child needs is made before fork: after it, only calls
  // that are safe in the child of a threaded process.
  std::vector<char*> argv = {const_cast<char*>("clickhouse-server"),
                             const_cast<char*>(config_arg.c_str()), nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (true) {
    if (ChPingBody(http_port_) == "Ok.\n") return Status::Ok();
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable(
          fmt::format("{} exited ({}) before answering on 127.0.0.1:{}; its log ends:\n{}", program,
                      WIFEXITED(wstatus) ? fmt::format("status {}", WEXITSTATUS(wstatus))
                                         : fmt::format("signal {}", WTERMSIG(wstatus)),
                      http_port_, ErrorLogTail()));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)Stop();
      return Status::Unavailable(
          fmt::format("{} did not answer /ping on 127.0.0.1:{} within {} s; its log ends:\n{}",
                      program, http_port_, kStartTimeout.count(), ErrorLogTail()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status ClickHouseTestServer::Stop() {
  if (pid_ <= 0) return Status::Ok();
  const pid_t pid = pid_;
  pid_ = -1;
  ::kill(pid, SIGTERM);
  if (ChWaitForExit(pid, kStopTimeout)) return Status::Ok();
  ::kill(pid, SIGKILL);
  ChWaitForExit(pid, std::chrono::seconds(10));
  return Status::IOError(
      fmt::format("clickhouse-server (pid {}) ignored SIGTERM for {} s and "
                  "was killed",
                  pid, kStopTimeout.count()));
}

void ClickHouseTestServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ChWaitForExit(pid_, kStopTimeout);
  pid_ = -1;
}

Status ClickHouseTestServer::Restart() {
  if (running()) return Status::Ok();
  return Launch();
}

ClickHouseUrl ClickHouseTestServer::Url(std::string database) const {
  ClickHouseUrl url;
  url.host = "127.0.0.1";
  url.port = http_port_;
  url.database = std::move(database);
  return url;
}

std::string ClickHouseTestServer::ErrorLogTail() const {
  std::string tail = ChFileTail(dir_ / "log" / "err.log", 3000);
  const std::string out = ChFileTail(dir_ / "log" / "stdout.log", 2000);
  if (!out.empty()) tail += (tail.empty() ? "" : "\n") + out;
  return tail.empty() ? "(no log)" : tail;
}

namespace {

// The shared server and its temp directory, stopped and removed at exit.
struct SharedChServer {
  std::filesystem::path dir;
  std::unique_ptr<ClickHouseTestServer> server;
  Status status;
  int databases = 0;

  SharedChServer() {
    std::string pattern = (std::filesystem::temp_directory_path() /
                           fmt::format("roentgen-clickhouse-{}-XXXXXX", ::getpid()))
                              .string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      status = Status::IOError(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
      return;
    }
    dir = pattern;
    Result<std::unique_ptr<ClickHouseTestServer>> started = ClickHouseTestServer::Start(dir);
    if (started.ok()) {
      server = std::move(*started);
    } else {
      status = started.status();
    }
  }
  ~SharedChServer() {
    // Its data goes with the directory: no need to wait for a clean stop.
    if (server != nullptr) server->Kill();
    server.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

SharedChServer& SharedChServerInstance() {
  static SharedChServer shared;
  return shared;
}

}  // namespace

Result<ClickHouseTestServer*> SharedClickHouseTestServer() {
  SharedChServer& shared = SharedChServerInstance();
  if (!shared.status.ok()) return shared.status;
  return shared.server.get();
}

Result<std::string> NewTestDatabase() {
  Result<ClickHouseTestServer*> server = SharedClickHouseTestServer();
  if (!server.ok()) return server.status();
  SharedChServer& shared = SharedChServerInstance();
  const std::string name = fmt::format("test_{}_{}", ::getpid(), ++shared.databases);
  ClickHouseClient client((*server)->Url());
  RG_RETURN_IF_ERROR(client.Execute("CREATE DATABASE " + name));
  return name;
}

namespace {

// The shared cluster and its temp directory, stopped and removed at exit.
struct SharedChCluster {
  std::filesystem::path dir;
  std::vector<std::unique_ptr<ClickHouseTestServer>> servers;
  Status status;

  SharedChCluster() {
    std::string pattern = (std::filesystem::temp_directory_path() /
                           fmt::format("roentgen-clickhouse-cluster-{}-XXXXXX", ::getpid()))
                              .string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      status = Status::IOError(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
      return;
    }
    dir = pattern;
    Result<std::vector<std::unique_ptr<ClickHouseTestServer>>> started =
        ClickHouseTestServer::StartCluster(dir, kTestCluster, 2);
    if (started.ok()) {
      servers = std::move(*started);
    } else {
      status = started.status();
    }
  }
  ~SharedChCluster() {
    for (auto& server : servers) server->Kill();
    servers.clear();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

int shared_database_names = 0;

}  // namespace

Result<std::vector<ClickHouseTestServer*>> SharedClickHouseTestCluster() {
  static SharedChCluster shared;
  if (!shared.status.ok()) return shared.status;
  std::vector<ClickHouseTestServer*> out;
  for (auto& server : shared.servers) out.push_back(server.get());
  return out;
}

ClickHouseUrl ClusterUrl(const std::vector<ClickHouseTestServer*>& servers, std::string database) {
  ClickHouseUrl url = servers.front()->Url(std::move(database));
  url.cluster = std::string(kTestCluster);
  for (size_t i = 1; i < servers.size(); ++i) {
    url.more_hosts.push_back(ClickHouseHost{"127.0.0.1", servers[i]->http_port()});
  }
  return url;
}

std::string NewTestDatabaseName() {
  return fmt::format("cluster_test_{}_{}", ::getpid(), ++shared_database_names);
}

}  // namespace roentgen::store::clickhouse::testing
