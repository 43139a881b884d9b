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
    QString name; // "dns", "tcp", "tls", "auth", "server_version", "limits", "pooler"
    bool ok = false;
    bool skipped = false;
    double ms = 0;  // how long the step took
    QString detail; // e.g. "127.0.0.1 (1 address)", "TLSv1.3 TLS_AES_256_GCM_SHA384", "15.20"
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
    // The method, on the check's own client connection A, in up to three rounds:
    //  1. A: SET statement_timeout to an unusual value (a session setting) and SELECT
    //     pg_backend_pid() in the same transaction;
    //  2. a second client connection B opens a transaction and keeps it open: a transaction pooler
    //     hands B a server connection, usually the one A just released (PgBouncer reuses the most
    //     recent), so A's next transaction must run on another one;
    //  3. A: SELECT pg_backend_pid(), current_setting('statement_timeout') in the next transaction.
    // A different pid, or the SET not seen, means a pooler; a step 3 that waits out the deadline
    // while B holds its transaction means a pool of one server connection. Same pid and the SET
    // seen in all rounds: no transaction pooler (unset when B could not connect). A session-mode
    // pooler or a plain proxy keeps one server connection per client and is invisible this way;
    // a BackendKeyData pid that differs from pg_backend_pid() is reported as a hint of a proxy.
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

    void start(const QString &conninfo, const EndpointInfo &expected,
               std::chrono::milliseconds stepTimeout);
    void cancel();

    // Blocking form for the command line (runs on the caller's thread).
    static LiveCheckReport
    runBlocking(const QString &conninfo, const EndpointInfo &expected,
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
