// libFuzzer target over libpq's conninfo parser (through ConnInfo), the endpoint linter and its
// JSON rendering. Built and run by tests/fuzz/run_fuzz.sh (ctest: fuzz_endpointlint).
#include "core/check/endpointlint.h"

#include <QJsonDocument>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace poolscope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString text =
        QString::fromUtf8(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    // The first byte picks the context, so every rule gets exercised.
    LintContext context;
    if (size > 0) {
        const uint8_t flags = data[0];
        if (flags & 1)
            context.profile = PoolProfile::ServerlessProduction;
        else if (flags & 2)
            context.profile = PoolProfile::LocalDevelopment;
        context.usesSessionFeatures = (flags & 4) != 0;
        context.libpqVersion = (flags & 8) ? 130011 : 0;
    }
    auto result = lintEndpoint(text, context);
    if (result) {
        const QByteArray json = QJsonDocument(lintResultToJson(result.value())).toJson();
        // Every finding has a code, a message and a remedy.
        for (const Finding &f : result->findings) {
            if (f.code.isEmpty() || f.message.isEmpty() || f.remedy.isEmpty())
                std::abort();
        }
        if (json.isEmpty())
            std::abort();
    } else if (result.error().message.isEmpty()) {
        std::abort(); // a refusal must say what is wrong
    }
    (void)classifyEndpoint(text, static_cast<int>(size % 65536));
    return 0;
}
