#pragma once

#include <QByteArray>
#include <QStringList>

namespace poolscope::testing {

// What a finished child process left: exit code (-1 when it crashed or was killed after the
// timeout) and its output.
struct ProcessRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// Runs `program` with `args` to completion (killed after `timeoutMs`).
ProcessRun runProgram(const QString &program, const QStringList &args, int timeoutMs = 60000);

// A loopback listener that completes the TCP handshake (in the kernel's backlog) and never says
// a word: for deadline tests.
class SilentListener
{
public:
    SilentListener();
    ~SilentListener();
    SilentListener(const SilentListener &) = delete;
    SilentListener &operator=(const SilentListener &) = delete;
    int port() const { return m_port; }

private:
    int m_fd = -1;
    int m_port = 0;
};

} // namespace poolscope::testing
