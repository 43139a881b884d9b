#pragma once

#include "core/check/endpointlint.h"

#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

class QThread;

namespace poolscope {

// One live check, timed. Shown as it completes.
struct LiveCheckStep
{
    QString name;       // "dns", "tcp", "tls", "auth", "server_version", "limits", "pooler"
    bool ok = false;
    bool skipped = false;
    double ms = 0;      // how long the step took
    QString detail;     // e.g. "127.0.0.1 (1 address)", "TLSv1.3 TLS_AES_256_GCM_SHA384", "15.20"
    std::optional<DbError> error;
};

struct LiveCheckReport
{
    QList<LiveCheckStep> steps;
    QString serverVersion;
    int maxConnections = 0;
    int reservedConnections = 0; // superuser_reserved_connections (+ reserved_connections on 16+)
    // Pooler in the path, judged by behaviour: the backend pid changes between transactions of one
    // client connection, or a session SET is not seen by the next transaction.
    std::optional<bool> poolerDetected;
    QString poolerEvidence;
    // True when the behaviour contradicts what the host name claims.
    bool contradictsHostName = false;
};

// Runs DNS, TCP connect, TLS, authentication, server version, limits and the pooler-behaviour
// probe against an endpoint, each timed, on its own thread. The GUI thread never waits: results
// come as queued signals, one per step, then finished().
//
// Each step has its own deadline (stepTimeout); the TLS and auth phases of the libpq connect each
// get one too. start() while a run is in flight cancels that run. After cancel() the cancelled
// run emits nothing more (not even finished()); it stops at the next step boundary.
//
// Contradiction rule: for `local`/`direct` kinds (and any kind whose EndpointInfo::pooled is
// false) a detected pooler contradicts the host name; for pooled kinds, no pooler observed does,
// except for Supabase's session mode, which keeps one server connection per client and so cannot
// be seen by behaviour. An inconclusive probe (poolerDetected unset) contradicts nothing.
class LiveChecker : public QObject
{
    Q_OBJECT

public:
    explicit LiveChecker(QObject *parent = nullptr);
    ~LiveChecker() override; // cancels and waits (bounded by the per-step deadlines)

    void start(const QString &conninfo, const EndpointInfo &expected, std::chrono::milliseconds stepTimeout);
    void cancel();

    // Blocking form for the command line (runs on the caller's thread).
    static LiveCheckReport runBlocking(const QString &conninfo, const EndpointInfo &expected,
                                       std::chrono::milliseconds stepTimeout,
                                       const std::function<void(const LiveCheckStep &)> &onStep = {});

Q_SIGNALS:
    void stepFinished(const poolscope::LiveCheckStep &step);
    void finished(const poolscope::LiveCheckReport &report);

private:
    QThread *m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
};

} // namespace poolscope
