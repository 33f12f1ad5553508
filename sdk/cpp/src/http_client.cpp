#include "http_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace roentgen::sdk::detail {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

// Decodes a chunked body; false when it is malformed.
bool Dechunk(std::string_view in, std::string& out) {
  out.clear();
  while (true) {
    size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    size_t size = 0;
    try {
      size = std::stoul(std::string(in.substr(0, eol)), nullptr, 16);
    } catch (...) {
      return false;
    }
    in.remove_prefix(eol + 2);
    if (size == 0) return true;
    if (in.size() < size + 2) return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

HttpResult HttpPost(const std::string& host, uint16_t port, std::string_view path,
                    std::string_view body, std::chrono::milliseconds timeout) {
  HttpResult result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &addrs); rc != 0) {
    result.error = "resolve " + host + ": " + gai_strerror(rc);
    return result;
  }
  int fd_raw = -1;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  for (addrinfo* a = addrs; a; a = a->ai_next) {
    fd_raw = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_raw < 0) continue;
    // On Linux SO_SNDTIMEO also bounds connect().
    setsockopt(fd_raw, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd_raw, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd_raw, a->ai_addr, a->ai_addrlen) == 0) break;
    result.error = std::string("connect: ") + strerror(errno);
    close(fd_raw);
    fd_raw = -1;
  }
  freeaddrinfo(addrs);
  if (fd_raw < 0) {
    if (result.error.empty()) result.error = "connect: no address";
    return result;
  }
  Fd fd(fd_raw);
  std::string request;
  request.reserve(200 + body.size());
  request.append("POST ")
      .append(path)
      .append(" HTTP/1.1\r\nHost: ")
      .append(host)
      .append(":")
      .append(port_text);
  request.append(
      "\r\nContent-Type: application/json\r\nAccept: application/json\r\nConnection: close\r\n");
  request.append("User-Agent: roentgen-xray-cpp\r\nContent-Length: ")
      .append(std::to_string(body.size()));
  request.append("\r\n\r\n").append(body);
  for (size_t off = 0; off < request.size();) {
    ssize_t n = send(fd.get(), request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      result.error = std::string("send: ") + strerror(errno);
      return result;
    }
    off += static_cast<size_t>(n);
  }
  std::string response;
  char buf[8192];
  while (true) {
    ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      result.error = std::string("recv: ") + strerror(errno);
      return result;
    }
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
    if (response.size() > (8u << 20)) {
      result.error = "response over 8 MB";
      return result;
    }
  }
  size_t head_end = response.find("\r\n\r\n");
  if (response.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) {
    result.error = "malformed HTTP response";
    return result;
  }
  size_t sp = response.find(' ');
  result.status = std::atoi(response.c_str() + sp + 1);
  std::string head = Lower(std::string_view(response).substr(0, head_end));
  std::string_view rest = std::string_view(response).substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    if (!Dechunk(rest, result.body)) result.error = "malformed chunked body";
  } else {
    size_t cl = head.find("content-length:");
    size_t len =
        cl == std::string::npos ? rest.size() : std::strtoul(head.c_str() + cl + 15, nullptr, 10);
    result.body = std::string(rest.substr(0, std::min(len, rest.size())));
  }
  return result;
}

}  // namespace roentgen::sdk::detail
