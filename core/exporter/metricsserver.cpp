#include "core/exporter/metricsserver.h"

#include "core/exporter/prometheusformat.h"

#include <QHostAddress>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace poolscope {
namespace {

// Per-connection state, kept as properties of the socket (it dies with the socket).
constexpr char kBufferProperty[] = "poolscopeRequest";
constexpr char kRespondedProperty[] = "poolscopeResponded";

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    }
    return "Error";
}

const QByteArray kTextPlain = "text/plain; charset=utf-8";

QByteArray indexPage()
{
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>PoolScope exporter</title>"
           "</head>\n<body><h1>PoolScope exporter</h1>\n<p>Prometheus metrics of PostgreSQL "
           "connections, PgBouncer pools and PoolScope's pool: <a href=\"/metrics\">/metrics</a>"
           "</p>\n</body></html>\n";
}

} // namespace

Result<ListenAddress, QString> ListenAddress::parse(const QString &text, bool allowRemote)
{
    const QString usage = QStringLiteral("expected host:port (e.g. 127.0.0.1:9187 or [::1]:9187)");
    QString host;
    QString portText;
    if (text.startsWith(QLatin1Char('['))) {
        const qsizetype close = text.indexOf(QLatin1String("]:"));
        if (close < 0)
            return QStringLiteral("'%1': %2").arg(text, usage);
        host = text.mid(1, close - 1);
        portText = text.mid(close + 2);
    } else {
        const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
        if (colon <= 0 || text.left(colon).contains(QLatin1Char(':')))
            return QStringLiteral("'%1': %2").arg(text, usage);
        host = text.left(colon);
        portText = text.mid(colon + 1);
    }
    bool ok = false;
    const uint port = portText.toUInt(&ok);
    if (!ok || port > 65535)
        return QStringLiteral("'%1': the port must be a number from 0 to 65535").arg(text);

    QHostAddress address;
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(host))
        return QStringLiteral("'%1' is not an IP address; listen on 127.0.0.1, [::1] or (with "
                              "--allow-remote) the address of one of this machine's interfaces")
            .arg(host);
    ListenAddress result;
    result.host = address.toString();
    result.port = quint16(port);
    if (!result.isLoopback() && !allowRemote)
        return QStringLiteral("refusing to listen on %1: it is not a loopback address, and the "
                              "metrics (database, user and application names) have no "
                              "authentication. Pass --allow-remote to serve them to other machines")
            .arg(result.toString());
    return result;
}

QString ListenAddress::toString() const
{
    const QString bracketed =
        host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return bracketed + QLatin1Char(':') + QString::number(port);
}

bool ListenAddress::isLoopback() const
{
    return QHostAddress(host).isLoopback();
}

MetricsServer::MetricsServer(BodyProvider metrics, QObject *parent)
    : QObject(parent)
    , m_metrics(std::move(metrics))
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &MetricsServer::acceptPending);
}

MetricsServer::~MetricsServer() = default;

bool MetricsServer::listen(const ListenAddress &address)
{
    const QHostAddress host(address.host);
    if (host.isNull()) {
        m_error = QStringLiteral("cannot listen on %1: not an IP address").arg(address.toString());
        return false;
    }
    if (!m_server->listen(host, address.port)) {
        m_error = QStringLiteral("cannot listen on %1: %2")
                      .arg(address.toString(), m_server->errorString());
        return false;
    }
    m_error.clear();
    return true;
}

void MetricsServer::close()
{
    m_server->close();
}

bool MetricsServer::isListening() const
{
    return m_server->isListening();
}

ListenAddress MetricsServer::boundAddress() const
{
    ListenAddress a;
    a.host = m_server->serverAddress().toString();
    a.port = m_server->serverPort();
    return a;
}

QString MetricsServer::metricsUrl() const
{
    return QStringLiteral("http://") + boundAddress().toString() + QStringLiteral("/metrics");
}

void MetricsServer::acceptPending()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        ++m_open;
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QObject::destroyed, this, [this] { --m_open; });
        // Drops a client that neither completes its request nor takes its response in time.
        auto *deadline = new QTimer(socket);
        deadline->setSingleShot(true);
        connect(deadline, &QTimer::timeout, socket, [socket] {
            socket->abort();
            socket->deleteLater();
        });
        deadline->start(m_timeout);
        if (m_open > m_maxConnections) {
            respond(socket, 503, kTextPlain, "too many connections\n", false);
            continue;
        }
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { serve(socket); });
        if (socket->bytesAvailable() > 0)
            serve(socket);
    }
}

void MetricsServer::serve(QTcpSocket *socket)
{
    if (socket->property(kRespondedProperty).toBool()) {
        socket->readAll(); // ignore whatever follows (a body, a pipelined request)
        return;
    }
    QByteArray buffer = socket->property(kBufferProperty).toByteArray() + socket->readAll();
    qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        headEnd = buffer.indexOf("\n\n"); // lenient: bare LF line ends
    if (headEnd < 0 || headEnd > m_maxRequestBytes) {
        if (buffer.size() > m_maxRequestBytes) {
            respond(socket, 431, kTextPlain, "request head too large\n", false);
            return;
        }
        socket->setProperty(kBufferProperty, buffer);
        return;
    }
    socket->setProperty(kBufferProperty, QVariant());

    const qsizetype lineEnd = buffer.indexOf('\n');
    const QByteArray requestLine = buffer.left(lineEnd).trimmed();
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || !parts.at(2).startsWith("HTTP/1.") || parts.at(1).isEmpty()) {
        respond(socket, 400, kTextPlain, "malformed request line\n", false);
        return;
    }
    const QByteArray &method = parts.at(0);
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
        respond(socket, 405, kTextPlain, "only GET and HEAD\n", false, "Allow: GET, HEAD\r\n");
        return;
    }
    QByteArray path = parts.at(1);
    if (const qsizetype query = path.indexOf('?'); query >= 0)
        path.truncate(query);
    if (path == "/metrics")
        respond(socket, 200, kPrometheusContentType, m_metrics ? m_metrics() : QByteArray(), head);
    else if (path == "/")
        respond(socket, 200, "text/html; charset=utf-8", indexPage(), head);
    else
        respond(socket, 404, kTextPlain, "not found; the metrics are at /metrics\n", head);
}

void MetricsServer::respond(QTcpSocket *socket, int status, const QByteArray &contentType,
                            const QByteArray &body, bool headOnly, const QByteArray &extraHeaders)
{
    socket->setProperty(kRespondedProperty, true);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
        + "\r\nContent-Type: " + contentType + "\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\nConnection: close\r\n" + extraHeaders + "\r\n";
    if (!headOnly)
        response += body;
    socket->write(response);
    // Closes once everything is written; the deadline timer still covers a client that never
    // reads its response.
    socket->disconnectFromHost();
}

} // namespace poolscope
