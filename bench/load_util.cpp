#include "load_util.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

namespace roentgen::bench {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::pair<std::string, std::string> SplitHostPort(const std::string& target) {
  auto colon = target.rfind(':');
  return {target.substr(0, colon), target.substr(colon + 1)};
}

ProcSample SampleProcess(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto paren = content.rfind(')');
  if (paren == std::string::npos || paren + 2 > content.size()) return s;
  std::istringstream fields(content.substr(paren + 2));
  std::string f;
  unsigned long utime = 0, stime = 0;
  // Fields 14 and 15 of /proc/PID/stat (1-based; the first two precede ')').
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoul(f);
    if (i == 15) stime = std::stoul(f);
  }
  s.cpu_seconds = double(utime + stime) / sysconf(_SC_CLK_TCK);
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kb = std::stol(line.substr(6));
  }
  return s;
}

std::string HttpGet(const std::string& host, uint16_t port, const std::string& path) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve(host, std::to_string(port)));
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, host);
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return res.body();
}

struct HttpClient::Impl {
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buf;
  std::string host;
};

HttpClient::HttpClient(const std::string& host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = host;
  tcp::resolver resolver(impl_->ioc);
  impl_->stream.connect(resolver.resolve(host, std::to_string(port)));
}

HttpClient::~HttpClient() = default;

std::pair<int, std::string> HttpClient::Post(const std::string& path, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, impl_->host);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(impl_->stream, req);
  http::response<http::string_body> res;
  http::read(impl_->stream, impl_->buf, res);
  return {static_cast<int>(res.result_int()), std::move(res.body())};
}

KernelUdpDrops ReadKernelUdpDrops() {
  // Two "Udp:" lines: the field names, then their values.
  std::ifstream snmp("/proc/net/snmp");
  std::string line, names;
  KernelUdpDrops out;
  while (std::getline(snmp, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    if (names.empty()) {
      names = line;
      continue;
    }
    std::istringstream n(names), v(line);
    std::string name, value;
    while (n >> name && v >> value) {
      if (name == "InErrors") out.in_errors = std::stoull(value);
      if (name == "RcvbufErrors") out.rcvbuf_errors = std::stoull(value);
    }
    break;
  }
  return out;
}

double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != ' ' && next != '{') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace roentgen::bench
