#pragma once

#include "core/sandbox/sandbox.h"

#include <QList>
#include <QObject>
#include <QPointer>

class QThread;

namespace poolscope {
class SandboxController;
}

namespace poolscope::ui {

// A demo sandbox of the Load demo page's own (e.g. max_connections 20 for the "small plan"
// scenario, which the session's sandbox does not have), started and stopped without ever
// blocking the GUI thread.
//
// Threads: each start() gets a fresh QThread with a SandboxController on it (the sandbox's
// servers die with the thread that started them, and starting takes about a second). stop()
// only queues the stop and the thread's exit and returns; the thread deletes itself when done.
// Signals of a sandbox that is being stopped are dropped, so a new start() may follow at once.
// The destructor stops what runs and waits for every such thread (bounded by the sandbox's own
// start and stop timeouts): when it returns, every server it started is gone.
//
// Passwords: the endpoints carry none; they live in the sandbox's pgpass file (passFile), which
// withPassFile() names in a connection string so that PGPASSFILE (the session's sandbox) is left
// alone.
class LoadDemoSandbox : public QObject
{
    Q_OBJECT

public:
    explicit LoadDemoSandbox(QObject *parent = nullptr);
    ~LoadDemoSandbox() override;

    void start(const sandbox::SandboxOptions &options); // stops a previous one first
    void stop();                                        // idempotent, never blocks
    bool isActive() const { return m_controller != nullptr; }
    int threadsAlive() const; // this sandbox's and those still stopping (tests)

    // `conninfo` (URI or keyword=value) with passfile=<passFile>, as keyword=value.
    static QString withPassFile(const QString &conninfo, const QString &passFile);

Q_SIGNALS:
    void started(const poolscope::sandbox::SandboxEndpoints &endpoints);
    void failed(const QString &message);

private:
    QPointer<QThread> m_thread;
    SandboxController *m_controller = nullptr;
    QList<QPointer<QThread>> m_threads; // every thread not yet finished, for the destructor
};

} // namespace poolscope::ui
