#include "tests/support/serverchild.h"

#include <QDeadlineTimer>
#include <QThread>

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

extern char **environ;

namespace poolscope::testing {

// Everything the child needs is prepared before fork(): between fork and exec only
// async-signal-safe calls are allowed in a threaded process.
bool ServerChild::start(bool switchUser, uid_t uid, gid_t gid, QString *error)
{
    std::vector<QByteArray> args;
    for (const QString &arg : m_argv)
        args.push_back(QFile::encodeName(arg));
    std::vector<char *> argv;
    for (QByteArray &arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    const QByteArray directory = QFile::encodeName(m_workingDirectory);
    const int log = ::open(QFile::encodeName(m_logFile).constData(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log < 0 || devNull < 0 || (switchUser && ::fchown(log, uid, gid) != 0)) {
        *error = QStringLiteral("cannot open %1").arg(m_logFile);
        return false;
    }
    std::vector<gid_t> groups { gid };
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0); // a terminal's Ctrl-C reaches the test, which then stops us in order
        ::dup2(devNull, 0);
        ::dup2(log, 1);
        ::dup2(log, 2);
        if (switchUser
            && (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0
                || ::setuid(uid) != 0))
            ::_exit(126);
        // After setuid, which clears it; then make sure the parent did not die meanwhile.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
            ::_exit(126);
        if (::chdir(directory.constData()) != 0)
            ::_exit(126);
        ::execve(argv[0], argv.data(), environ);
        ::_exit(127);
    }
    ::close(log);
    ::close(devNull);
    if (pid < 0) {
        *error = QStringLiteral("cannot fork for %1").arg(m_name);
        return false;
    }
    m_pid = pid;
    m_reaped = false;
    return true;
}

bool ServerChild::running()
{
    if (m_reaped)
        return false;
    if (::waitpid(m_pid, &m_status, WNOHANG) == m_pid)
        m_reaped = true;
    return !m_reaped;
}

bool ServerChild::waitExit(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (running()) {
        if (deadline.hasExpired())
            return false;
        QThread::msleep(10);
    }
    return true;
}

void ServerChild::stop(int signal, int graceMs)
{
    if (!running())
        return;
    ::kill(m_pid, signal);
    if (!waitExit(graceMs)) {
        ::kill(m_pid, SIGKILL);
        ::waitpid(m_pid, &m_status, 0);
        m_reaped = true;
    }
}

} // namespace poolscope::testing
