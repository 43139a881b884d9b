#pragma once

#include "core/db/dberror.h"

#include <QList>
#include <QObject>
#include <QString>

#include <memory>

class QThread;

namespace poolscope {

class SessionActionsWorker;

struct SessionActionResult
{
    enum class Action { Cancel, Terminate };
    Action action = Action::Cancel;
    QList<int> requested;
    QList<int> succeeded;         // pg_cancel_backend / pg_terminate_backend returned true
    QList<int> failed;            // returned false (gone already, or not allowed)
    std::optional<DbError> error; // the call itself failed (no connection, no privilege, ...)
};

// Cancels queries and terminates sessions with pg_cancel_backend / pg_terminate_backend, on its
// own thread and its own short-lived connection (opened per request, closed after), so the GUI
// thread never waits. Results come back through finished(), queued to this object's thread.
// Never touches the sampler's own backend: callers pass pids from the session list, which
// excludes it.
class SessionActions : public QObject
{
    Q_OBJECT

public:
    explicit SessionActions(QString conninfo, QObject *parent = nullptr);
    ~SessionActions() override; // waits for a request in flight (bounded by its timeouts)

    void cancel(const QList<int> &pids);
    void terminate(const QList<int> &pids);

Q_SIGNALS:
    void finished(const poolscope::SessionActionResult &result);

private:
    QThread *m_thread;
    SessionActionsWorker *m_worker;
};

} // namespace poolscope
