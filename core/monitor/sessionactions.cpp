#include "core/monitor/sessionactions.h"

#include "core/db/connection.h"
#include "core/db/conninfo.h"
#include "core/db/threadtlsstate.h"

#include <QMetaObject>
#include <QStringList>
#include <QThread>

#include <chrono>

namespace poolscope {

using namespace std::chrono_literals;

namespace {

constexpr auto ConnectTimeout = 5s;
// pg_cancel_backend/pg_terminate_backend only signal the backend; they return at once, so a
// short statement deadline is plenty even for a long pid list.
constexpr auto StatementTimeout = 10s;

void registerSessionActionMetaTypes()
{
    qRegisterMetaType<SessionActionResult>("poolscope::SessionActionResult");
    qRegisterMetaType<DbError>("poolscope::DbError");
}

} // namespace

// Lives on SessionActions' thread. Each request is a functor queued to it; its result goes back
// through finished(), which the facade relays with a queued connection, so the worker never holds
// a pointer to the facade.
class SessionActionsWorker : public QObject
{
    Q_OBJECT

public:
    explicit SessionActionsWorker(QString conninfo)
        : m_conninfo(std::move(conninfo))
    {
    }

    SessionActionResult run(SessionActionResult::Action action, const QList<int> &pids) const
    {
        SessionActionResult result;
        result.action = action;
        result.requested = pids;
        if (pids.isEmpty())
            return result;

        auto info = ConnInfo::parse(m_conninfo);
        if (!info) {
            result.error = info.error();
            result.failed = pids;
            return result;
        }
        // Named so an operator can tell this short-lived connection from the sampler's.
        info->set(QStringLiteral("application_name"), QStringLiteral("poolscope-actions"));
        auto connection = Connection::open(info.value(), ConnectTimeout);
        if (!connection) {
            result.error = connection.error();
            result.failed = pids;
            return result;
        }

        QStringList pidTexts;
        pidTexts.reserve(pids.size());
        for (int pid : pids)
            pidTexts.append(QString::number(pid));
        const QString function = action == SessionActionResult::Action::Cancel
            ? QStringLiteral("pg_cancel_backend")
            : QStringLiteral("pg_terminate_backend");
        const QString sql =
            QStringLiteral("SELECT pid, %1(pid) FROM unnest($1::int[]) AS pid").arg(function);
        auto rows = connection->execParams(
            sql, { QLatin1Char('{') + pidTexts.join(QLatin1Char(',')) + QLatin1Char('}') },
            StatementTimeout);
        if (!rows) {
            result.error = rows.error();
            result.failed = pids;
            return result;
        }
        for (int row = 0; row < rows->rowCount(); ++row) {
            const int pid = int(rows->toInt64(row, 0));
            if (rows->value(row, 1) == QLatin1String("t"))
                result.succeeded.append(pid);
            else
                result.failed.append(pid);
        }
        return result; // the connection closes here: one per request
    }

    void submit(SessionActionResult::Action action, const QList<int> &pids)
    {
        QMetaObject::invokeMethod(
            this, [this, action, pids] { Q_EMIT finished(run(action, pids)); },
            Qt::QueuedConnection);
    }

Q_SIGNALS:
    void finished(const poolscope::SessionActionResult &result);

private:
    const QString m_conninfo;
};

SessionActions::SessionActions(QString conninfo, QObject *parent)
    : QObject(parent)
    , m_thread(new QThread(this))
    , m_worker(new SessionActionsWorker(std::move(conninfo)))
{
    registerSessionActionMetaTypes();
    m_thread->setObjectName(QStringLiteral("poolscope-actions"));
    releaseThreadTlsStateOnFinish(m_thread);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &SessionActionsWorker::finished, this, &SessionActions::finished);
    m_thread->start();
}

SessionActions::~SessionActions()
{
    // A request in flight finishes first (bounded by the connect and statement deadlines); its
    // queued result is discarded with this object.
    m_thread->quit();
    m_thread->wait();
}

void SessionActions::cancel(const QList<int> &pids)
{
    m_worker->submit(SessionActionResult::Action::Cancel, pids);
}

void SessionActions::terminate(const QList<int> &pids)
{
    m_worker->submit(SessionActionResult::Action::Terminate, pids);
}

} // namespace poolscope

#include "sessionactions.moc"
