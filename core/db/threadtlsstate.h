#pragma once

class QThread;

namespace poolscope {

// libpq speaks TLS through OpenSSL, which keeps state per thread (its random generators, its
// error queue). OpenSSL means to free it when the thread exits but does not always do so: under
// LeakSanitizer 3 of 15 `poolscope sample` runs over TLS leaked the sampler thread's random
// generators (allocated under SSL_CTX_new_ex -> RAND_get0_public/private); with the state freed
// where the thread ends, 0 of 30 did. Every thread that opens connections frees it itself.

// Frees the calling thread's OpenSSL state; safe whether or not the thread used OpenSSL.
void releaseThreadTlsState();

// For a std::thread: declare one first in the thread's function.
class ThreadTlsStateGuard
{
public:
    ThreadTlsStateGuard() = default;
    ~ThreadTlsStateGuard() { releaseThreadTlsState(); }
    ThreadTlsStateGuard(const ThreadTlsStateGuard &) = delete;
    ThreadTlsStateGuard &operator=(const ThreadTlsStateGuard &) = delete;
};

// For a QThread: frees the state on that thread as it finishes (after its event loop).
void releaseThreadTlsStateOnFinish(QThread *thread);

} // namespace poolscope
