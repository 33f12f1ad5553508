// A minimal HTTP/1.1 client over a POSIX TCP socket, enough for the daemon's
// sampling API (a JSON POST, the whole answer read): one connection per call,
// `Connection: close`, a timeout on connect, send and receive.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace roentgen::sdk::detail {

struct HttpResult {
  int status = 0;  // 0: no answer (error says why)
  std::string body;
  std::string error;
};

HttpResult HttpPost(const std::string& host, uint16_t port, std::string_view path,
                    std::string_view body,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace roentgen::sdk::detail
