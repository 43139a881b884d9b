#pragma once

#include <QStringList>

#include <atomic>

namespace poolscope::app {

// Exit codes shared by every subcommand.
enum ExitCode : int {
    ExitOk = 0,
    ExitFailure = 1, // the command ran and found a problem (or the work failed)
    ExitUsage = 2,   // bad command line or unparsable input
};

// Each subcommand parses its own arguments (args[0] is "poolscope <name>") with
// QCommandLineParser and returns the process exit code. A QCoreApplication exists.
int runSandboxCommand(const QStringList &args);
int runBenchCommand(const QStringList &args);

// SIGINT/SIGTERM handling for long-running commands: the first signal sets the flag returned
// here and asks the Qt event loop (if running) to quit; a second one restores the default action.
// The handler only writes to a self-pipe, so it is async-signal-safe.
void installTerminationHandler();
const std::atomic<bool> &terminationRequested();

// Writes a line to stdout and flushes, for output that scripts read while the command runs.
void printLine(const QString &line);
void printError(const QString &line);

} // namespace poolscope::app
