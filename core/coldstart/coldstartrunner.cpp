// The cold-start runner: see coldstartrunner.h. The worker only posts copies back to the
// runner's thread; it never touches the runner's members except through the posted calls.
#include "core/coldstart/coldstartrunner.h"

#include "core/db/conninfo.h"
#include "core/db/threadtlsstate.h"

#include <QMetaObject>

namespace poolscope {

void registerColdStartMetaTypes()
{
    qRegisterMetaType<ColdStartTrial>("poolscope::ColdStartTrial");
    qRegisterMetaType<ColdStartTargetResult>("poolscope::ColdStartTargetResult");
    qRegisterMetaType<ColdStartRun>("poolscope::ColdStartRun");
    qRegisterMetaType<DbError>("poolscope::DbError");
}

QString coldStartDisplayName(const QString &conninfo)
{
    const auto info = ConnInfo::parse(conninfo);
    if (!info)
        return QStringLiteral("(invalid connection string)");
    const QString host = info->host();
    const QString db = info->value(QStringLiteral("dbname"));
    return QStringLiteral("%1:%2%3")
        .arg(host.isEmpty() || host.startsWith(QLatin1Char('/')) ? QStringLiteral("local socket")
                                                                 : host)
        .arg(info->port())
        .arg(db.isEmpty() ? QString() : QLatin1Char('/') + db);
}

ColdStartRunner::ColdStartRunner(QObject *parent)
    : QObject(parent)
{
    registerColdStartMetaTypes();
}

ColdStartRunner::~ColdStartRunner()
{
    cancel();
    if (m_worker.joinable())
        m_worker.join();
}

bool ColdStartRunner::start(const ColdStartRequest &request)
{
    if (m_running || request.targets.isEmpty() || request.targets.size() > 2)
        return false;
    // A previous worker has posted finished() and is returning: joining it costs nothing.
    if (m_worker.joinable())
        m_worker.join();
    m_cancel = false;
    m_running = true;
    m_worker = std::thread([this, request, id = ++m_lastId] {
        ThreadTlsStateGuard tls;
        work(request, id);
    });
    return true;
}

void ColdStartRunner::cancel()
{
    m_cancel = true;
}

bool ColdStartRunner::isRunning() const
{
    return m_running;
}

void ColdStartRunner::work(ColdStartRequest request, int id)
{
    // Runs on the worker thread. Everything it reports is posted as a copy; the runner's
    // destructor joins this thread, so `this` outlives it, and posted calls that were not yet
    // delivered when the runner dies are dropped by Qt with it.
    const std::atomic<bool> *flag = &m_cancel;
    auto post = [this](auto call) {
        QMetaObject::invokeMethod(this, std::move(call), Qt::QueuedConnection);
    };

    ColdStartRun run;
    run.id = id;
    run.startedAt = QDateTime::currentDateTimeUtc();
    run.options = request.options;
    run.options.conninfo.clear();
    run.coldWait = request.coldWait;

    const int perTarget = std::max(1, request.options.trials);
    const int total = perTarget * int(request.targets.size());
    post([this, total] { Q_EMIT progress(0, total); });

    bool cancelled = false;
    if (request.coldWait.count() > 0) {
        post([this, ms = qint64(request.coldWait.count())] { Q_EMIT coldWaitStarted(ms); });
        cancelled = !coldStartWait(request.coldWait, flag);
    }
    for (int t = 0; t < request.targets.size() && !cancelled; ++t) {
        const ColdStartTarget &target = request.targets.at(t);
        ColdStartOptions options = request.options;
        options.conninfo = target.conninfo;
        const int before = t * perTarget;
        ColdStartTargetResult result;
        result.label = target.label;
        result.displayName = coldStartDisplayName(target.conninfo);
        result.report =
            runColdStartProbe(options, flag, [&](int index, const ColdStartTrial &trial) {
                post([this, label = target.label, index, trial, done = before + index + 1, total] {
                    Q_EMIT trialFinished(label, index, trial);
                    Q_EMIT progress(done, total);
                });
            });
        cancelled = result.report.cancelled || flag->load();
        // A target that stopped at a failed trial has no more trials to come: the bar moves on.
        if (!cancelled)
            post([this, done = before + perTarget, total] { Q_EMIT progress(done, total); });
        post([this, result] { Q_EMIT targetFinished(result); });
        run.results.append(result);
    }
    run.cancelled = cancelled || flag->load();
    run.finishedAt = QDateTime::currentDateTimeUtc();
    post([this, run] {
        m_running = false;
        Q_EMIT finished(run);
    });
}

} // namespace poolscope
