#include "core/monitor/sandboxcontroller.h"

namespace poolscope {

SandboxController::SandboxController()
{
    qRegisterMetaType<sandbox::SandboxOptions>("poolscope::sandbox::SandboxOptions");
    qRegisterMetaType<sandbox::SandboxEndpoints>("poolscope::sandbox::SandboxEndpoints");
}

SandboxController::~SandboxController()
{
    stop();
}

void SandboxController::start(const sandbox::SandboxOptions &options)
{
    m_sandbox = std::make_unique<sandbox::Sandbox>();
    auto result = m_sandbox->start(options);
    if (!result) {
        const QString message = result.error().message;
        m_sandbox.reset();
        Q_EMIT failed(message);
        return;
    }
    Q_EMIT started(result.value());
}

void SandboxController::stop()
{
    m_sandbox.reset();
}

} // namespace poolscope
