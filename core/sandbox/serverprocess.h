#pragma once

#include "core/sandbox/serveruser.h"

#include <QString>
#include <QStringList>

#include <chrono>
#include <csignal>
#include <memory>

QT_BEGIN_NAMESPACE
class QProcess;
QT_END_NAMESPACE

namespace poolscope::sandbox {

// One child process run in the foreground as the server user: its stdout and stderr go to a log
// file, its working directory is the sandbox directory, and it gets PR_SET_PDEATHSIG(SIGKILL) so
// it dies with the thread that started it. It also gets its own process group, so a terminal's
// Ctrl-C reaches only us and we decide the shutdown order.
//
// RAII: the destructor stops the process (stopSignal, then SIGKILL after the grace period) and
// reaps it. Not thread-safe; use from the thread that called start().
class ServerProcess
{
public:
    struct Spec
    {
        QString name; // for logs and errors: "postgres", "pgbouncer", "initdb"
        QString program;
        QStringList arguments;
        QString workingDirectory;
        QString logFile;          // stdout + stderr, appended
        int stopSignal = SIGTERM; // the polite request used by stop()
        std::chrono::milliseconds stopGrace { 5000 };
    };

    ServerProcess(Spec spec, const ServerUser &user);
    ~ServerProcess();
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    // Forks and execs. False with *error when the program cannot be started.
    bool start(QString *error);

    bool isRunning() const;
    qint64 pid() const { return m_pid; }
    const QString &name() const { return m_spec.name; }

    // Waits up to `timeout` for the process to exit by itself (it also notices an exit that
    // already happened). True when it is no longer running.
    bool waitForExit(std::chrono::milliseconds timeout);

    // Exit status once it has exited: "exit code N" or "killed by a signal".
    QString exitDescription() const;

    // Sends stopSignal, waits stopGrace, then SIGKILL; always reaps. Idempotent.
    void stop();

    // The last `lines` lines of the log file, for error messages.
    QString logTail(int lines = 20) const;

private:
    Spec m_spec;
    ServerUser m_user;
    std::unique_ptr<QProcess> m_process;
    qint64 m_pid = 0;
    bool m_stopping = false;
};

} // namespace poolscope::sandbox
