#include "core/db/threadtlsstate.h"

#include <QThread>

#include <openssl/crypto.h>

namespace poolscope {

void releaseThreadTlsState()
{
    OPENSSL_thread_stop();
}

void releaseThreadTlsStateOnFinish(QThread *thread)
{
    // finished() is emitted on the finishing thread itself; a direct connection runs there.
    QObject::connect(thread, &QThread::finished, thread, &releaseThreadTlsState,
                     Qt::DirectConnection);
}

} // namespace poolscope
