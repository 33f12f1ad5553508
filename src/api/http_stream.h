// Internal to the HTTP server: one connection's byte stream, plain TCP or
// TLS over TCP (HTTPS with --tls-cert/--tls-key), chosen when the connection
// is accepted. It is a Beast AsyncReadStream and AsyncWriteStream, so
// http::async_read/async_write work on it alike, and it exposes the TCP
// layer for timeouts, shutdown and close, which TLS does not change.
//
// Not thread-safe: used on its connection's strand, like the stream it wraps.
#pragma once

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <variant>

namespace roentgen::api::internal {

class HttpStream {
 public:
  using Plain = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using executor_type = Plain::executor_type;

  // Plain TCP.
  explicit HttpStream(boost::asio::ip::tcp::socket socket) : stream_(Plain(std::move(socket))) {}
  // TLS with `context` (kept alive as long as the connection).
  HttpStream(boost::asio::ip::tcp::socket socket,
             std::shared_ptr<boost::asio::ssl::context> context)
      : context_(std::move(context)),
        stream_(std::in_place_type<Tls>, std::move(socket), *context_) {}

  bool tls() const { return std::holds_alternative<Tls>(stream_); }

  // The TCP layer: timeouts (expires_after, expires_never), socket(), close().
  Plain& tcp() {
    if (Tls* s = std::get_if<Tls>(&stream_)) return boost::beast::get_lowest_layer(*s);
    return std::get<Plain>(stream_);
  }
  executor_type get_executor() noexcept { return tcp().get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return tcp().socket(); }
  template <class Duration>
  void expires_after(Duration d) {
    tcp().expires_after(d);
  }
  void expires_never() { tcp().expires_never(); }
  void close() { tcp().close(); }

  // The server's side of the TLS handshake; calls `handler(error_code)`.
  // Only for a TLS stream.
  template <class Handler>
  void async_handshake(Handler&& handler) {
    std::get<Tls>(stream_).async_handshake(boost::asio::ssl::stream_base::server,
                                           std::forward<Handler>(handler));
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (Tls* s = std::get_if<Tls>(&stream_)) {
      s->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      std::get<Plain>(stream_).async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (Tls* s = std::get_if<Tls>(&stream_)) {
      s->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      std::get<Plain>(stream_).async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

 private:
  std::shared_ptr<boost::asio::ssl::context> context_;  // before stream_: outlives its SSL
  std::variant<Plain, Tls> stream_;
};

}  // namespace roentgen::api::internal
