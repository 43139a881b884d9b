#include "ui/loaddemo/loaddemosandbox.h"

#include "core/db/conninfo.h"
#include "core/monitor/sandboxcontroller.h"

#include <QThread>

namespace poolscope::ui {

LoadDemoSandbox::LoadDemoSandbox(QObject *parent)
    : QObject(parent)
{
}

LoadDemoSandbox::~LoadDemoSandbox()
{
    stop();
    for (const QPointer<QThread> &thread : std::as_const(m_threads)) {
        if (thread) {
            thread->wait(); // the queued stop runs first: the servers are gone after this
            delete thread.data();
        }
    }
}

void LoadDemoSandbox::start(const sandbox::SandboxOptions &options)
{
    stop();
    auto *thread = new QThread;
    thread->setObjectName(QStringLiteral("poolscope-demo-sandbox"));
    auto *controller = new SandboxController;
    controller->moveToThread(thread);
    // The controller's destructor stops the sandbox on its own thread, before the thread ends.
    connect(thread, &QThread::finished, controller, &QObject::deleteLater);
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    connect(controller, &SandboxController::started, this,
            [this, controller](const sandbox::SandboxEndpoints &endpoints) {
                if (controller == m_controller)
                    Q_EMIT started(endpoints);
            });
    connect(controller, &SandboxController::failed, this,
            [this, controller](const QString &message) {
                if (controller == m_controller) {
                    stop();
                    Q_EMIT failed(message);
                }
            });
    m_thread = thread;
    m_controller = controller;
    m_threads.removeAll(nullptr);
    m_threads.append(thread);
    thread->start();
    QMetaObject::invokeMethod(
        controller, [controller, options] { controller->start(options); }, Qt::QueuedConnection);
}

void LoadDemoSandbox::stop()
{
    if (!m_controller)
        return;
    QMetaObject::invokeMethod(m_controller, &SandboxController::stop, Qt::QueuedConnection);
    if (m_thread)
        m_thread->quit();
    m_controller = nullptr;
    m_thread = nullptr;
}

int LoadDemoSandbox::threadsAlive() const
{
    int alive = 0;
    for (const QPointer<QThread> &thread : m_threads) {
        if (thread && !thread->isFinished())
            ++alive;
    }
    return alive;
}

QString LoadDemoSandbox::withPassFile(const QString &conninfo, const QString &passFile)
{
    if (conninfo.isEmpty())
        return conninfo;
    auto info = ConnInfo::parse(conninfo);
    if (!info)
        return conninfo; // left for the core's check to refuse, with libpq's message
    info->set(QStringLiteral("passfile"), passFile);
    return info->toConninfoString();
}

} // namespace poolscope::ui
