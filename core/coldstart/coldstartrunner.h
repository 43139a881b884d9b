#pragma once

// The cold-start test for the window: one or two endpoints (direct and pooled)
// probed one after the other by runColdStartProbe on a worker thread, optionally after a "real
// cold" wait, with every trial reported as it completes.
//
// Thread contract:
//  - Create, start(), isRunning() and destroy the runner on one thread (normally the GUI thread;
//    "the runner's thread"). cancel() is thread-safe.
//  - start() never blocks: it copies the request and starts a std::thread that does all the libpq
//    work (and the waits). Nothing touches the network on the runner's thread.
//  - Every signal is emitted on the runner's thread (posted with a queued call), in the order the
//    worker produced them: coldWaitStarted (only with a cold wait), then per trial progress and
//    trialFinished, per endpoint targetFinished, and finished exactly once per successful start().
//    Each carries a copied, immutable value; none holds a password (conninfo is never copied
//    into a result; displayName is redacted).
//  - isRunning() is true from a successful start() until finished() is emitted (it is already
//    false inside a slot connected to finished(), so such a slot may start the next run).
//  - cancel() returns at once; the worker stops at the next trial, warm query or wait step
//    (bounded by options.timeout for a connect or query in flight), and finished() still comes,
//    with cancelled = true and what was measured.
//  - The destructor cancels and joins the worker; signals not yet delivered are dropped.
// Loopback-only policy stays with the caller (it knows whether the user allowed remote hosts).

#include "core/coldstart/coldstartprobe.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <thread>

namespace poolscope {

struct ColdStartTarget
{
    QString label;    // e.g. "direct", "pooled"
    QString conninfo; // keyword=value or URI, with its secrets: only handed to libpq
};

struct ColdStartRequest
{
    QList<ColdStartTarget> targets; // 1 or 2, probed one after the other
    ColdStartOptions options;       // options.conninfo is ignored: each target's conninfo is used
    // "Real cold": wait this long before the first trial of the first target, so that a
    // scale-to-zero compute can suspend (Neon: after 5 minutes without queries). Pause anything
    // else polling the endpoint first (MonitorSession::setBackgroundPaused).
    std::chrono::milliseconds coldWait { 0 };
};

struct ColdStartTargetResult
{
    QString label;
    QString displayName; // redacted host:port/db
    ColdStartReport report;
};

struct ColdStartRun
{
    int id = 0; // 1, 2, ... per runner
    QDateTime startedAt;
    QDateTime finishedAt;
    ColdStartOptions options; // with conninfo cleared (no secrets kept)
    std::chrono::milliseconds coldWait { 0 };
    QList<ColdStartTargetResult> results; // in target order; fewer when cancelled
    bool cancelled = false;
};

// "host:port/db" (or "local socket:port/db") without user or password, for titles and history.
QString coldStartDisplayName(const QString &conninfo);

class ColdStartRunner : public QObject
{
    Q_OBJECT

public:
    explicit ColdStartRunner(QObject *parent = nullptr);
    ~ColdStartRunner() override; // cancels and joins the worker

    // False when already running, or when the request has no target or more than two. Never
    // blocks.
    bool start(const ColdStartRequest &request);
    // Thread-safe, returns at once; finished() still comes with what was measured.
    void cancel();
    bool isRunning() const;

Q_SIGNALS:
    void coldWaitStarted(qint64 ms);
    void progress(int done, int total); // trials over all targets
    void trialFinished(const QString &label, int index, const poolscope::ColdStartTrial &trial);
    void targetFinished(const poolscope::ColdStartTargetResult &result);
    void finished(const poolscope::ColdStartRun &run);

private:
    void work(ColdStartRequest request, int id);

    std::thread m_worker;
    std::atomic<bool> m_cancel { false }; // reset by start() before the worker starts
    bool m_running = false;
    int m_lastId = 0;
};

void registerColdStartMetaTypes();

} // namespace poolscope

Q_DECLARE_METATYPE(poolscope::ColdStartTrial)
Q_DECLARE_METATYPE(poolscope::ColdStartTargetResult)
Q_DECLARE_METATYPE(poolscope::ColdStartRun)
