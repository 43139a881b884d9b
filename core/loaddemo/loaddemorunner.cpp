// LoadDemoRunner: runLoadDemo() on a std::thread, results posted back as copies (see the thread
// contract in loaddemo.h). The worker touches the runner only through posted calls; the
// destructor joins it, and calls still queued when the runner dies are dropped by Qt with it.
#include "core/db/threadtlsstate.h"
#include "core/loaddemo/loaddemo.h"

#include <QMetaObject>

namespace poolscope {

void registerLoadDemoMetaTypes()
{
    qRegisterMetaType<LoadDemoSnapshot>("poolscope::LoadDemoSnapshot");
    qRegisterMetaType<LoadDemoRunSummary>("poolscope::LoadDemoRunSummary");
    qRegisterMetaType<LoadDemoReport>("poolscope::LoadDemoReport");
}

LoadDemoRunner::LoadDemoRunner(QObject *parent)
    : QObject(parent)
    , m_cancel(std::make_shared<std::atomic<bool>>(false))
    , m_abandon(std::make_shared<std::atomic<bool>>(false))
{
    registerLoadDemoMetaTypes();
}

LoadDemoRunner::~LoadDemoRunner()
{
    m_abandon->store(true); // no re-measuring after the close: return quickly
    stop();
    if (m_worker.joinable())
        m_worker.join();
}

bool LoadDemoRunner::start(const LoadDemoRequest &request, QString *whyNot)
{
    if (m_running) {
        if (whyNot)
            *whyNot = QStringLiteral("a load demo is already running");
        return false;
    }
    LoadDemoRequest checked = request;
    auto limits = applyLoadDemoLimits(checked); // no network: parsing and arithmetic only
    if (!limits) {
        if (whyNot)
            *whyNot = limits.error();
        return false;
    }
    // The previous worker already posted finished() and is returning: joining costs nothing.
    if (m_worker.joinable())
        m_worker.join();
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    m_worker = std::thread([this, request, cancel = m_cancel, abandon = m_abandon] {
        ThreadTlsStateGuard tls;
        auto post = [this](auto call) {
            QMetaObject::invokeMethod(this, std::move(call), Qt::QueuedConnection);
        };
        LoadDemoCallbacks callbacks;
        callbacks.runStarted = [&post, this](const LoadDemoRunSummary &run) {
            post([this, run] { Q_EMIT runStarted(run); });
        };
        callbacks.snapshot = [&post, this](const LoadDemoSnapshot &s) {
            post([this, s] { Q_EMIT snapshot(s); });
        };
        callbacks.runFinished = [&post, this](const LoadDemoRunSummary &run) {
            post([this, run] { Q_EMIT runFinished(run); });
        };
        const LoadDemoReport report = runLoadDemo(request, cancel.get(), callbacks, abandon.get());
        post([this, report] {
            m_running = false;
            Q_EMIT finished(report);
        });
    });
    return true;
}

void LoadDemoRunner::stop()
{
    m_cancel->store(true);
}

bool LoadDemoRunner::isRunning() const
{
    return m_running;
}

} // namespace poolscope
