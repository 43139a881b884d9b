#pragma once

#include "core/util/result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <chrono>
#include <functional>

class QTcpServer;
class QTcpSocket;

namespace poolscope {

// Where the metrics server listens: an IP address and a port. (QtNetwork stays out of core's
// public headers: it is a private dependency of poolscope_core.)
struct ListenAddress
{
    QString host = QStringLiteral("127.0.0.1"); // an IP literal, normalised ("::1", not "[::1]")
    quint16 port = 9187; // postgres_exporter's port; 0 = let the kernel pick a free one

    // "127.0.0.1:9187", "[::1]:9187", "localhost:9187". The host must be an IP literal (or
    // localhost). A non-loopback address (0.0.0.0 included) is refused unless allowRemote: the
    // metrics carry database, user and application names and the server has no authentication.
    static Result<ListenAddress, QString> parse(const QString &text, bool allowRemote);
    QString toString() const; // "127.0.0.1:9187", "[::1]:9187"
    bool isLoopback() const;
};

// A deliberately tiny HTTP/1.1 server for Prometheus scrapes, on QTcpServer:
//   GET|HEAD /metrics  200, text/plain; version=0.0.4, body from the provider
//   GET|HEAD /         200, a small HTML page linking /metrics
//   other paths        404;  other methods 405;  malformed request 400
//   request head over maxRequestBytes (8 KiB)  431
// Every response carries Connection: close and the connection is closed once it is written.
// A client that has not sent a whole request head (or not read the response) within the request
// timeout (10 s) is dropped, and at most maxConnections (64) are served at once, so a slow or
// idle client cannot pin sockets. Request bodies are ignored.
//
// Thread contract: the server, its sockets and the provider calls all live on the thread that
// created the server (which needs a running event loop); use it from that thread only.
class MetricsServer : public QObject
{
    Q_OBJECT

public:
    using BodyProvider = std::function<QByteArray()>;

    explicit MetricsServer(BodyProvider metrics, QObject *parent = nullptr);
    ~MetricsServer() override;

    // Binds and listens; false with errorString() on failure (port in use, no such address).
    bool listen(const ListenAddress &address);
    void close();
    bool isListening() const;
    QString errorString() const { return m_error; }
    // The address actually bound (the real port when 0 was asked for).
    ListenAddress boundAddress() const;
    QString metricsUrl() const; // "http://127.0.0.1:9187/metrics"

    void setRequestTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }
    void setMaxRequestBytes(int bytes) { m_maxRequestBytes = bytes; }
    void setMaxConnections(int connections) { m_maxConnections = connections; }
    int openConnections() const { return m_open; }

private:
    void acceptPending();
    void serve(QTcpSocket *socket);
    void respond(QTcpSocket *socket, int status, const QByteArray &contentType,
                 const QByteArray &body, bool headOnly, const QByteArray &extraHeaders = {});

    BodyProvider m_metrics;
    QTcpServer *m_server;
    QString m_error;
    std::chrono::milliseconds m_timeout { 10000 };
    int m_maxRequestBytes = 8192;
    int m_maxConnections = 64;
    int m_open = 0;
};

} // namespace poolscope
