// A fake X-Ray daemon for the SDK's tests: a UDP socket on loopback that
// collects the datagrams the recorder sends.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace roentgen::sdk::testing {

class FakeDaemon {
 public:
  FakeDaemon() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    int size = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  ~FakeDaemon() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Datagrams received until `count` arrived or `timeout` passed with none.
  std::vector<std::string> Receive(
      size_t count, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    std::vector<std::string> out;
    std::vector<char> buf(70000);
    while (out.size() < count) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n > 0) out.emplace_back(buf.data(), static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace roentgen::sdk::testing
