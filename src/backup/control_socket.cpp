#include "backup/control_socket.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "backup/staging.h"
#include "common/thread_name.h"

namespace roentgen::backup {
namespace {

constexpr char kRequest[] = "backup 1";
// How long a client has to send its request, and `roentgen backup` waits
// for the snapshot (a flush of full write buffers takes seconds).
constexpr int kRequestTimeoutMs = 5'000;
constexpr int kSnapshotTimeoutMs = 10 * 60'000;
// How long a refused client's request is waited for before the refusal.
constexpr int kRefusalReadTimeoutMs = 1'000;

// The socket's address. sun_path holds 107 bytes: a longer data dir is
// reached through /proc/self/fd/N/, N being the data dir opened in `dir`.
Status SocketAddress(const std::string& data_dir, sockaddr_un& addr, socklen_t& len,
                     UniqueFd& dir) {
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  std::string path = fmt::format("{}/{}", data_dir, kControlSocket);
  if (path.size() >= sizeof(addr.sun_path)) {
    dir = UniqueFd(::open(data_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return ErrnoStatus(errno, fmt::format("open {}", data_dir), data_dir);
    path = fmt::format("/proc/self/fd/{}/{}", dir.get(), kControlSocket);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return Status::Ok();
}

// Sends all of `line` and a newline; false when the peer is gone.
bool SendLine(int fd, std::string line) {
  std::replace(line.begin(), line.end(), '\n', ' ');
  line.push_back('\n');
  for (size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one line (without its newline) within `timeout_ms`, or until `stop`
// is readable. Errors: Unavailable (EOF, timeout, stop), IOError.
Result<std::string> ReadLine(int fd, int timeout_ms, int stop = -1) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Unavailable("no answer in time");
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop, POLLIN, 0}};
    int ready = ::poll(fds, stop >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return Status::IOError(std::strerror(errno));
    if (ready <= 0) continue;
    if (stop >= 0 && fds[1].revents != 0) return Status::Unavailable("stopping");
    char c = 0;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(std::strerror(errno));
    if (n == 0) return Status::Unavailable("the connection was closed");
    if (c == '\n') return line;
    if (line.size() >= 64 * 1024) return Status::InvalidArgument("a line too long");
    line.push_back(c);
  }
}

}  // namespace

ControlSocket::ControlSocket(std::string data_dir, store::Store& store, MetricsRegistry& metrics)
    : data_dir_(std::move(data_dir)),
      store_(store),
      completed_(metrics.GetCounter("roentgen_backups_total",
                                    "Backups through the data dir's control socket (roentgen "
                                    "backup): completed, or failed (not staged, or not finished)",
                                    {{"result", "completed"}})),
      failed_(metrics.GetCounter("roentgen_backups_total",
                                 "Backups through the data dir's control socket (roentgen "
                                 "backup): completed, or failed (not staged, or not finished)",
                                 {{"result", "failed"}})),
      last_completed_(metrics.GetGauge(
          "roentgen_backup_last_completed_seconds",
          "Unix time of the last backup completed through the control socket (0: none yet)")) {}

Result<std::unique_ptr<ControlSocket>> ControlSocket::Start(const std::string& data_dir,
                                                            store::Store& store,
                                                            MetricsRegistry& metrics) {
  std::unique_ptr<ControlSocket> control(new ControlSocket(data_dir, store, metrics));
  // What a server that died left behind: its socket file (bind would fail on
  // it) and any snapshot it had staged.
  const std::string path = fmt::format("{}/{}", data_dir, kControlSocket);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, fmt::format("serve: cannot remove the stale {}", path), path);
  }
  if (Status s = RemoveStaging(data_dir); !s.ok()) spdlog::warn("{}", s.message());

  sockaddr_un addr{};
  socklen_t len = 0;
  RG_RETURN_IF_ERROR(SocketAddress(data_dir, addr, len, control->dir_));
  control->listen_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!control->listen_.valid()) return ErrnoStatus(errno, "serve: control socket", path);
  if (::bind(control->listen_.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    return ErrnoStatus(errno, fmt::format("serve: bind {}", path), path);
  }
  // Before listen(): until then no one can connect, whatever the umask gave.
  if (::chmod(addr.sun_path, 0600) != 0 || ::listen(control->listen_.get(), 8) != 0) {
    Status s = ErrnoStatus(errno, fmt::format("serve: control socket {}", path), path);
    ::unlink(path.c_str());
    return s;
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::unlink(path.c_str());
    return ErrnoStatus(errno, "serve: control socket pipe", path);
  }
  control->stop_read_ = UniqueFd(pipe_fds[0]);
  control->stop_write_ = UniqueFd(pipe_fds[1]);
  control->thread_ = std::thread([self = control.get()] {
    SetCurrentThreadName("rg-control");
    self->Run();
  });
  return control;
}

ControlSocket::~ControlSocket() {
  if (thread_.joinable()) {
    const char byte = 1;
    while (::write(stop_write_.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  const std::string path = fmt::format("{}/{}", data_dir_, kControlSocket);
  ::unlink(path.c_str());
}

void ControlSocket::Run() {
  while (true) {
    pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("control socket: poll: {}; backups through it stop", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    UniqueFd client(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client.valid()) Serve(std::move(client));
  }
}

void ControlSocket::Refuse(UniqueFd client, const std::string& why, bool read_request) {
  // Closing with the client's request unread would reset the connection,
  // and the client could lose the answer: read it first, briefly.
  if (read_request) (void)ReadLine(client.get(), kRefusalReadTimeoutMs);
  SendLine(client.get(), "error " + why);
  ::shutdown(client.get(), SHUT_WR);
}

void ControlSocket::Serve(UniqueFd client) {
  ucred peer{};
  socklen_t peer_len = sizeof(peer);
  if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0 ||
      (peer.uid != ::geteuid() && peer.uid != 0)) {
    spdlog::warn("control socket: refused a connection from uid {} (only uid {} or root)", peer.uid,
                 ::geteuid());
    return Refuse(std::move(client), "permission denied: run as the server's user or root",
                  /*read_request=*/true);
  }
  Result<std::string> request = ReadLine(client.get(), kRequestTimeoutMs, stop_read_.get());
  if (!request.ok()) return;
  if (*request != kRequest) {
    return Refuse(std::move(client),
                  fmt::format("unknown request '{}' (this server speaks '{}')",
                              request->substr(0, 100), kRequest),
                  /*read_request=*/false);
  }
  const auto began = std::chrono::steady_clock::now();
  Result<StagedSnapshot> staged = StageBackup(data_dir_, store_);
  if (!staged.ok()) {
    failed_.Inc();
    spdlog::error("backup: the data dir's snapshot failed: {}", staged.status().message());
    return Refuse(std::move(client), staged.status().message(), /*read_request=*/false);
  }
  spdlog::info(
      "backup: staged a snapshot of the data dir in {} in {:.3f} s (spooled records: {} udp, {} "
      "otlp and {} api files); it is removed when the backup's copy is done",
      StagingPath(data_dir_, staged->name),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
      staged->spools[0].files, staged->spools[1].files, staged->spools[2].files);
  bool done = false;
  if (SendLine(client.get(), "staged " + staged->name)) {
    // The client copies; meanwhile others are told to wait their turn.
    std::string received;
    while (true) {
      pollfd fds[3] = {
          {client.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[2].revents != 0) {
        spdlog::warn("backup: stopping while a backup's copy runs; it will fail");
        break;
      }
      if (fds[1].revents != 0) {
        UniqueFd other(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (other.valid()) {
          Refuse(std::move(other), "another backup of this data dir is in progress; retry later",
                 /*read_request=*/true);
        }
      }
      if (fds[0].revents != 0) {
        char buf[64];
        ssize_t n = ::recv(client.get(), buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        received.append(buf, static_cast<size_t>(n));
        if (received.find("done\n") != std::string::npos) done = true;
        if (received.size() > 1024) break;
      }
    }
  }
  // Counted before the snapshot goes: once it is gone, the count is final.
  if (done) {
    completed_.Inc();
    last_completed_.Set(static_cast<int64_t>(std::time(nullptr)));
  } else {
    failed_.Inc();
  }
  if (Status s = RemoveStaging(data_dir_, staged->name); !s.ok()) spdlog::warn("{}", s.message());
  if (done) {
    spdlog::info("backup: completed; its snapshot is removed");
  } else {
    spdlog::warn("backup: the client left before its copy was complete; the snapshot is removed");
  }
}

void StagedByServer::Done() { SendLine(connection_.get(), "done"); }

Result<std::unique_ptr<StagedByServer>> RequestSnapshot(const std::string& data_dir) {
  const std::string path = fmt::format("{}/{}", data_dir, kControlSocket);
  sockaddr_un addr{};
  socklen_t len = 0;
  UniqueFd dir;
  RG_RETURN_IF_ERROR(SocketAddress(data_dir, addr, len, dir));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket", path);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    // No socket, or one nobody listens on (left by a server that died).
    if (err == ENOENT || err == ECONNREFUSED) return std::unique_ptr<StagedByServer>();
    if (err == EACCES || err == EPERM) {
      return Status::PermissionDenied(fmt::format(
          "cannot connect to {}: permission denied; run roentgen backup as the user the "
          "server runs as (or root)",
          path));
    }
    return ErrnoStatus(err, fmt::format("connect {}", path), path);
  }
  // A server that refuses may close before the request is sent: its answer
  // is read all the same.
  const bool sent = SendLine(fd.get(), kRequest);
  Result<std::string> answer = ReadLine(fd.get(), kSnapshotTimeoutMs);
  if (!sent && !answer.ok()) {
    return Status::Unavailable(fmt::format("the server closed {} at once", path));
  }
  if (!answer.ok()) {
    return Status::Unavailable(
        fmt::format("no snapshot from the server on {}: {}", path, answer.status().message()));
  }
  if (answer->starts_with("staged ")) {
    std::string name = answer->substr(7);
    // A name is one directory under backup-staging/, never a way out of it.
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
      return Status::IOError(fmt::format("the server answered a bad name '{}'", name));
    }
    return std::make_unique<StagedByServer>(std::move(fd), std::move(name));
  }
  if (answer->starts_with("error ")) {
    return Status::Unavailable("the server could not take a snapshot: " + answer->substr(6));
  }
  return Status::IOError(fmt::format("the server answered '{}'", answer->substr(0, 100)));
}

}  // namespace roentgen::backup
