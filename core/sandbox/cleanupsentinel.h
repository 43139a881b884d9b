#pragma once

#include <QString>

#include <memory>

QT_BEGIN_NAMESPACE
class QProcess;
QT_END_NAMESPACE

namespace poolscope::sandbox {

// A tiny `/bin/sh` that removes a directory once this process is gone, even if it died by
// SIGKILL: it blocks reading a pipe from us and, on end-of-file (our end closes whenever we
// exit), waits a second for the servers to die of PR_SET_PDEATHSIG and runs `rm -rf`. It runs in
// its own session, so a signal for our process group does not take it down with us.
//
// dismiss() is the normal path: the owner has removed the directory itself; the sentinel is
// released and reaped at once. finish() lets it do its job now (close the pipe, wait for rm).
class CleanupSentinel
{
public:
    CleanupSentinel();
    ~CleanupSentinel();
    CleanupSentinel(const CleanupSentinel &) = delete;
    CleanupSentinel &operator=(const CleanupSentinel &) = delete;

    bool start(const QString &directory, QString *error);
    void dismiss();
    void finish();
    qint64 pid() const;

private:
    std::unique_ptr<QProcess> m_process;
};

} // namespace poolscope::sandbox
