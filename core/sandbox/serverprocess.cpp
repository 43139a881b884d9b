#include "core/sandbox/serverprocess.h"

#include "core/logging/logging.h"

#include <QFile>
#include <QProcess>

#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace poolscope::sandbox {
namespace {

// Everything the child needs, captured before fork: the modifier may only make async-signal-safe
// calls, so it must not allocate or touch Qt.
struct ChildSetup
{
    bool switchUser = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    pid_t expectedParent = 0;
};

void setUpChild(const ChildSetup &setup)
{
    // Own process group: a terminal's SIGINT goes to our group only, not to the servers.
    ::setpgid(0, 0);
    if (setup.switchUser) {
        if (::setgroups(setup.groups.size(), setup.groups.data()) != 0 || ::setgid(setup.gid) != 0
            || ::setuid(setup.uid) != 0) {
            ::_exit(126);
        }
    }
    // After the credential change: setuid/setgid clear the parent-death signal.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        ::_exit(126);
    // The parent may have died before prctl took effect; then nobody would ever kill us.
    if (::getppid() != setup.expectedParent)
        ::_exit(126);
}

} // namespace

ServerProcess::ServerProcess(Spec spec, const ServerUser &user)
    : m_spec(std::move(spec))
    , m_user(user)
{
}

ServerProcess::~ServerProcess()
{
    stop();
}

bool ServerProcess::start(QString *error)
{
    auto log = logging::logger("sandbox");
    m_process = std::make_unique<QProcess>();
    m_process->setProgram(m_spec.program);
    m_process->setArguments(m_spec.arguments);
    m_process->setWorkingDirectory(m_spec.workingDirectory);
    m_process->setStandardInputFile(QProcess::nullDevice());
    m_process->setStandardOutputFile(m_spec.logFile, QIODevice::Append);
    m_process->setStandardErrorFile(m_spec.logFile, QIODevice::Append);

    ChildSetup setup;
    setup.switchUser = m_user.switchesUser();
    setup.uid = m_user.uid();
    setup.gid = m_user.gid();
    setup.groups = m_user.groups();
    setup.expectedParent = ::getpid();
    m_process->setChildProcessModifier([setup] { setUpChild(setup); });

    const QString name = m_spec.name;
    QObject::connect(m_process.get(), &QProcess::finished, m_process.get(),
                     [this, name](int code, QProcess::ExitStatus status) {
                         if (m_stopping)
                             return;
                         logging::logger("sandbox")->warn(
                             "{} (pid {}) exited unexpectedly: {}", name.toStdString(), m_pid,
                             status == QProcess::CrashExit ? "crashed"
                                                           : "exit code " + std::to_string(code));
                     });

    m_stopping = false;
    m_process->start();
    if (!m_process->waitForStarted(10000)) {
        if (error) {
            *error = QStringLiteral("cannot start %1 (%2): %3")
                         .arg(m_spec.name, m_spec.program, m_process->errorString());
        }
        m_process.reset();
        return false;
    }
    m_pid = m_process->processId();
    log->debug("{} started as pid {} (user {})", m_spec.name.toStdString(), m_pid,
               m_user.name().toStdString());
    return true;
}

bool ServerProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

bool ServerProcess::waitForExit(std::chrono::milliseconds timeout)
{
    if (!isRunning())
        return true;
    m_stopping = true; // an exit we are waiting for is not "unexpected"
    const bool exited = m_process->waitForFinished(int(timeout.count())) || !isRunning();
    m_stopping = false;
    return exited;
}

QString ServerProcess::exitDescription() const
{
    if (!m_process)
        return QStringLiteral("not started");
    if (isRunning())
        return QStringLiteral("running");
    if (m_process->exitStatus() == QProcess::CrashExit)
        return QStringLiteral("killed by a signal");
    return QStringLiteral("exit code %1").arg(m_process->exitCode());
}

void ServerProcess::stop()
{
    if (!m_process)
        return;
    m_stopping = true;
    if (isRunning()) {
        auto log = logging::logger("sandbox");
        const auto pid = pid_t(m_pid);
        ::kill(pid, m_spec.stopSignal);
        if (!m_process->waitForFinished(int(m_spec.stopGrace.count())) && isRunning()) {
            log->warn("{} (pid {}) did not stop within {} ms, sending SIGKILL",
                      m_spec.name.toStdString(), m_pid, m_spec.stopGrace.count());
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_process.reset(); // reaps (QProcess waits for a process that is still running)
}

QString ServerProcess::logTail(int lines) const
{
    QFile file(m_spec.logFile);
    if (!file.open(QIODevice::ReadOnly))
        return QString();
    constexpr qint64 maxBytes = 16 * 1024;
    if (file.size() > maxBytes)
        file.seek(file.size() - maxBytes);
    QStringList all = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    while (!all.isEmpty() && all.last().trimmed().isEmpty())
        all.removeLast();
    return all.mid(qMax(0, int(all.size()) - lines)).join(QLatin1Char('\n'));
}

} // namespace poolscope::sandbox
