// Output of `poolscope demo`: see demooutput.h.
#include "app/demooutput.h"

#include "app/commandline.h"

#include <QJsonArray>

#include <cmath>
#include <functional>

namespace poolscope::app {
namespace {

double ms(std::uint64_t us)
{
    return std::round(double(us) / 10.0) / 100.0; // two decimals
}

QJsonObject latencyJson(const LatencySummary &l)
{
    return QJsonObject { { QStringLiteral("p50"), ms(l.p50Us) },
                         { QStringLiteral("p95"), ms(l.p95Us) },
                         { QStringLiteral("p99"), ms(l.p99Us) },
                         { QStringLiteral("max"), ms(l.maxUs) },
                         { QStringLiteral("count"), qint64(l.count) } };
}

QString ofLimit(int value, int limit)
{
    return limit > 0 ? QStringLiteral("%1 / %2").arg(loadDemoCount(value), loadDemoCount(limit))
                     : loadDemoCount(value);
}

QString triple(const LatencySummary &l)
{
    return QStringLiteral("%1 / %2 / %3")
        .arg(ms(l.p50Us), 0, 'f', 1)
        .arg(ms(l.p95Us), 0, 'f', 1)
        .arg(ms(l.p99Us), 0, 'f', 1);
}

// The runs side by side, one column each.
} // namespace

QJsonObject loadDemoRunJson(const LoadDemoRunSummary &r)
{
    QJsonArray first;
    for (const LoadDemoFirstError &e : r.firstErrors)
        first.append(
            QJsonObject { { QStringLiteral("class"), loadDemoErrorClassName(e.errorClass) },
                          { QStringLiteral("at_s"), e.atSeconds },
                          { QStringLiteral("error"), errorToJson(e.error) } });
    auto orNull = [](int v) {
        return v < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(v);
    };
    return QJsonObject {
        { QStringLiteral("target"), r.target },
        { QStringLiteral("display_name"), r.displayName },
        { QStringLiteral("instances"), r.config.instances },
        { QStringLiteral("pool_min"), r.config.pool.minSize },
        { QStringLiteral("pool_max"), r.config.pool.maxSize },
        { QStringLiteral("pooled"), r.pooled },
        { QStringLiteral("requests"), r.requests },
        { QStringLiteral("ok"), r.ok },
        { QStringLiteral("errors"),
          QJsonObject { { QStringLiteral("too_many_connections"), r.errors.tooManyConnections },
                        { QStringLiteral("acquire_timeout"), r.errors.acquireTimeout },
                        { QStringLiteral("pooler"), r.errors.pooler },
                        { QStringLiteral("other"), r.errors.other } } },
        { QStringLiteral("abandoned"), r.abandoned },
        { QStringLiteral("first_errors"), first },
        { QStringLiteral("peak_server_connections"), orNull(r.peakServerConnections) },
        { QStringLiteral("baseline_server_connections"), orNull(r.baselineServerConnections) },
        { QStringLiteral("server_connections_after"), orNull(r.serverConnectionsAfter) },
        { QStringLiteral("returned_to_baseline"), r.returnedToBaseline },
        { QStringLiteral("server_limit"), orNull(r.serverLimit) },
        { QStringLiteral("pooler_pool_size"), r.poolerPoolSize },
        { QStringLiteral("peak_pooler_cl_waiting"), orNull(r.peakPoolerClientsWaiting) },
        { QStringLiteral("peak_client_connections"), r.peakClientConnections },
        { QStringLiteral("latency_ms"), latencyJson(r.latency) },
        { QStringLiteral("acquire_wait_ms"), latencyJson(r.acquireWait) },
        { QStringLiteral("dispatch_lag_ms"), latencyJson(r.dispatchLag) },
        { QStringLiteral("offered_rate"), std::round(r.offeredRatePerSecond * 10) / 10 },
        { QStringLiteral("achieved_rate"), std::round(r.achievedRatePerSecond * 10) / 10 },
        { QStringLiteral("duration_s"), std::round(r.durationSeconds * 1000) / 1000 },
        { QStringLiteral("connections_opened"), r.connectionsOpened },
        { QStringLiteral("cold_starts"), r.coldStarts },
        { QStringLiteral("client_cpu_s"), std::round(r.clientCpuSeconds * 100) / 100 },
        { QStringLiteral("cancelled"), r.cancelled },
        { QStringLiteral("warnings"), QJsonArray::fromStringList(r.warnings) },
        { QStringLiteral("error"), errorToJson(r.fatal) },
    };
}

QJsonObject loadDemoConfigJson(const LoadDemoConfig &c)
{
    return QJsonObject {
        { QStringLiteral("instances"), c.instances },
        { QStringLiteral("pool_min"), c.pool.minSize },
        { QStringLiteral("pool_max"), c.pool.maxSize },
        { QStringLiteral("rate"), c.ratePerSecond },
        { QStringLiteral("hold_ms"), qint64(c.hold.count()) },
        { QStringLiteral("hold_mode"),
          c.holdMode == LoadDemoHold::ClientTransaction ? QStringLiteral("transaction")
                                                        : QStringLiteral("sleep") },
        { QStringLiteral("duration_s"), double(c.duration.count()) / 1000.0 },
        { QStringLiteral("acquire_timeout_ms"), qint64(c.pool.acquireTimeout.count()) },
        { QStringLiteral("burst_ms"), qint64(c.burstRamp.count()) },
        { QStringLiteral("workers"), c.workerThreads },
    };
}

QString loadDemoCount(qint64 v)
{
    return v < 0 ? QStringLiteral("-") : QString::number(v);
}

void printLoadDemoSummary(const LoadDemoReport &report)
{
    QList<QPair<QString, std::function<QString(const LoadDemoRunSummary &)>>> rows {
        { QStringLiteral("endpoint"),
          [](const auto &r) {
              return r.displayName;
          } },
        { QStringLiteral("instances x pool"),
          [](const auto &r) {
              return QStringLiteral("%1 x %2:%3")
                  .arg(r.config.instances)
                  .arg(r.config.pool.minSize)
                  .arg(r.config.pool.maxSize);
          } },
        { QStringLiteral("requests"),
          [](const auto &r) {
              return loadDemoCount(r.requests);
          } },
        { QStringLiteral("ok"),
          [](const auto &r) {
              return loadDemoCount(r.ok);
          } },
        { QStringLiteral("too_many_connections (53300)"),
          [](const auto &r) {
              return loadDemoCount(r.errors.tooManyConnections);
          } },
        { QStringLiteral("acquire_timeout"),
          [](const auto &r) {
              return loadDemoCount(r.errors.acquireTimeout);
          } },
        { QStringLiteral("pooler (08P01)"),
          [](const auto &r) {
              return loadDemoCount(r.errors.pooler);
          } },
        { QStringLiteral("other"),
          [](const auto &r) {
              return loadDemoCount(r.errors.other);
          } },
        { QStringLiteral("abandoned at the end"),
          [](const auto &r) {
              return loadDemoCount(r.abandoned);
          } },
        { QStringLiteral("peak server conns / limit"),
          [](const auto &r) {
              return ofLimit(r.peakServerConnections, r.serverLimit);
          } },
        { QStringLiteral("server conns before -> after"),
          [](const auto &r) {
              return QStringLiteral("%1 -> %2")
                  .arg(loadDemoCount(r.baselineServerConnections),
                       loadDemoCount(r.serverConnectionsAfter));
          } },
        { QStringLiteral("peak client connections"),
          [](const auto &r) {
              return loadDemoCount(r.peakClientConnections);
          } },
        { QStringLiteral("peak pooler cl_waiting"),
          [](const auto &r) {
              return loadDemoCount(r.peakPoolerClientsWaiting);
          } },
        { QStringLiteral("latency p50/p95/p99 ms"),
          [](const auto &r) {
              return triple(r.latency);
          } },
        { QStringLiteral("acquire wait p50/p95/p99 ms"),
          [](const auto &r) {
              return triple(r.acquireWait);
          } },
        { QStringLiteral("offered / achieved req/s"),
          [](const auto &r) {
              return QStringLiteral("%1 / %2")
                  .arg(r.offeredRatePerSecond, 0, 'f', 1)
                  .arg(r.achievedRatePerSecond, 0, 'f', 1);
          } },
        { QStringLiteral("duration s"),
          [](const auto &r) {
              return QString::number(r.durationSeconds, 'f', 1);
          } },
    };
    QString header = QStringLiteral("%1").arg(QString(), -30);
    for (const LoadDemoRunSummary &r : report.runs)
        header += QStringLiteral("  %1").arg(r.target, 24);
    printLine(header);
    for (const auto &[name, value] : rows) {
        QString line = QStringLiteral("%1").arg(name, -30);
        for (const LoadDemoRunSummary &r : report.runs)
            line += QStringLiteral("  %1").arg(value(r), 24);
        printLine(line);
    }
    for (const LoadDemoRunSummary &r : report.runs) {
        for (const LoadDemoFirstError &e : r.firstErrors)
            printLine(QStringLiteral("\n%1: first %2 after %3 s: %4\n  remedy: %5")
                          .arg(r.target, loadDemoErrorClassName(e.errorClass))
                          .arg(e.atSeconds, 0, 'f', 2)
                          .arg(e.error.summary(), e.error.remedy));
        if (r.fatal)
            printLine(QStringLiteral("\n%1: did not run: %2").arg(r.target, r.fatal->summary()));
        for (const QString &w : r.warnings)
            printLine(QStringLiteral("%1: warning: %2").arg(r.target, w));
    }
    if (report.cancelled)
        printLine(QStringLiteral("\ncancelled: the figures cover what ran"));
}

QString loadDemoLiveLine(const LoadDemoSnapshot &s)
{
    return QStringLiteral("%1 s  %2  req %3  ok %4  errors %5 (53300 %6, acquire %7, pooler %8, "
                          "other %9)  in flight %10  client conns %11  server %12  p95 %13 ms")
        .arg(s.elapsedSeconds, 5, 'f', 1)
        .arg(s.target, -7)
        .arg(s.requests)
        .arg(s.ok)
        .arg(s.errors.total())
        .arg(s.errors.tooManyConnections)
        .arg(s.errors.acquireTimeout)
        .arg(s.errors.pooler)
        .arg(s.errors.other)
        .arg(s.inFlight)
        .arg(s.clientConnections)
        .arg(ofLimit(s.serverConnections, s.serverLimit))
        .arg(s.latency.count ? QString::number(ms(s.latency.p95Us), 'f', 1) : QStringLiteral("-"));
}

} // namespace poolscope::app
