#pragma once

#include "core/sandbox/sandbox.h"

#include <QObject>

#include <memory>

namespace poolscope {

// Owns a Sandbox on a dedicated, long-lived thread: its servers carry PR_SET_PDEATHSIG, which
// fires when the thread that started them ends, and starting waits about a second - neither may
// happen on the GUI thread. Move to its thread before calling the slots; results are queued.
class SandboxController : public QObject
{
    Q_OBJECT

public:
    SandboxController();
    ~SandboxController() override;

public Q_SLOTS:
    void start(const poolscope::sandbox::SandboxOptions &options);
    void stop(); // stops both servers and removes the directory; idempotent

Q_SIGNALS:
    void started(const poolscope::sandbox::SandboxEndpoints &endpoints);
    void failed(const QString &message);

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
};

} // namespace poolscope
