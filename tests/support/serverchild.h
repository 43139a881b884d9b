#pragma once

#include <QFile>
#include <QString>
#include <QStringList>

#include <sys/types.h>
#include <sys/wait.h>

#include <csignal>

namespace poolscope::testing {

// One server process (or initdb) for a test fixture, forked and exec'd as `uid`/`gid` when
// switchUser (a root test hands PostgreSQL and PgBouncer to the `postgres` user), with stdout and
// stderr appended to a log file, its own process group, and PR_SET_PDEATHSIG(SIGKILL) so that it
// dies with the thread that started it even if the test crashes.
//
// RAII: the destructor sends SIGQUIT (PostgreSQL's immediate shutdown), then SIGKILL after 10 s,
// and reaps. Use from the thread that called start().
class ServerChild
{
public:
    ServerChild(QString name, QStringList argv, QString logFile, QString workingDirectory)
        : m_name(std::move(name))
        , m_argv(std::move(argv))
        , m_logFile(std::move(logFile))
        , m_workingDirectory(std::move(workingDirectory))
    {
    }
    ~ServerChild() { stop(SIGQUIT, 10000); }
    ServerChild(const ServerChild &) = delete;
    ServerChild &operator=(const ServerChild &) = delete;

    bool start(bool switchUser, uid_t uid, gid_t gid, QString *error);
    bool running();
    // True once the process has exited (reaped), within `timeoutMs`.
    bool waitExit(int timeoutMs);
    // `signal`, then SIGKILL after `graceMs`; always reaps.
    void stop(int signal, int graceMs);
    bool exitedCleanly() const
    {
        return m_reaped && WIFEXITED(m_status) && WEXITSTATUS(m_status) == 0;
    }
    const QString &name() const { return m_name; }

    QString logTail() const
    {
        QFile file(m_logFile);
        if (!file.open(QIODevice::ReadOnly))
            return QString();
        if (file.size() > 4096)
            file.seek(file.size() - 4096);
        return QString::fromUtf8(file.readAll());
    }

private:
    QString m_name;
    QStringList m_argv;
    QString m_logFile;
    QString m_workingDirectory;
    pid_t m_pid = 0;
    bool m_reaped = true;
    int m_status = 0;
};

} // namespace poolscope::testing
