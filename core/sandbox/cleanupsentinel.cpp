#include "core/sandbox/cleanupsentinel.h"

#include <QProcess>

#include <unistd.h>

namespace poolscope::sandbox {

CleanupSentinel::CleanupSentinel() = default;

CleanupSentinel::~CleanupSentinel()
{
    dismiss();
}

bool CleanupSentinel::start(const QString &directory, QString *error)
{
    m_process = std::make_unique<QProcess>();
    m_process->setProgram(QStringLiteral("/bin/sh"));
    // $0 is the directory: no quoting problems whatever its name.
    m_process->setArguments(
        { QStringLiteral("-c"), QStringLiteral("read _; sleep 1; rm -rf -- \"$0\""), directory });
    m_process->setStandardOutputFile(QProcess::nullDevice());
    m_process->setStandardErrorFile(QProcess::nullDevice());
    // stdin stays the default: a pipe whose write end only we hold (Qt opens it close-on-exec,
    // so no other child inherits it).
    m_process->setChildProcessModifier([] { ::setsid(); });
    m_process->start();
    if (!m_process->waitForStarted(5000)) {
        if (error)
            *error = QStringLiteral("cannot start the cleanup sentinel: %1")
                         .arg(m_process->errorString());
        m_process.reset();
        return false;
    }
    return true;
}

void CleanupSentinel::dismiss()
{
    if (!m_process)
        return;
    m_process->closeWriteChannel();
    if (m_process->state() != QProcess::NotRunning) {
        // It would only `sleep 1` and remove a directory that is already gone.
        m_process->kill();
        m_process->waitForFinished(2000);
    }
    m_process.reset();
}

void CleanupSentinel::finish()
{
    if (!m_process)
        return;
    m_process->closeWriteChannel();
    m_process->waitForFinished(5000);
    dismiss();
}

qint64 CleanupSentinel::pid() const
{
    return m_process ? m_process->processId() : 0;
}

} // namespace poolscope::sandbox
