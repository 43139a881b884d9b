#pragma once

#include "core/db/dberror.h"

#include <QStringList>

class QCommandLineParser;
class QJsonValue;

#include <atomic>
#include <chrono>
#include <optional>

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
int runExporterCommand(const QStringList &args);
int runSampleCommand(const QStringList &args);
int runCheckCommand(const QStringList &args);
int runAdviseCommand(const QStringList &args);
int runColdStartCommand(const QStringList &args);
int runDemoCommand(const QStringList &args);

// The dashboard window (no subcommand): creates its own QApplication.
int runDashboard(int argc, char *argv[]);

// Raises the soft limit on open files to the hard one. Every client connection is a descriptor
// (the load demo opens thousands, in the window too), and the sandbox's PgBouncer, a child,
// inherits the limit for its own sockets. Called once at start-up, before anything is opened.
void raiseFileDescriptorLimit();

// SIGINT/SIGTERM handling for long-running commands: the first signal sets the flag returned
// here and asks the Qt event loop (if running) to quit; a second one restores the default action.
// The handler only writes to a self-pipe, so it is async-signal-safe.
void installTerminationHandler();
const std::atomic<bool> &terminationRequested();

// Durations on the command line: a number and a unit, "500ms", "1s", "1.5s", "2m", "1h"
// (whitespace around them ignored). nullopt for anything else: no unit, a negative number, an
// unknown unit, more than a day. Rounded to whole milliseconds; callers check their own range.
std::optional<std::chrono::milliseconds> parseDuration(const QString &text);

// The first step of every command: parses `args` (args[0] = "poolscope <name>"). Returns the exit
// code when the command must stop here - a usage error (message on stderr, 2) or --help (the help
// text, 0) - and nullopt to go on. The parser must have its help option added.
std::optional<int> parseCommandLine(QCommandLineParser &parser, const QStringList &args);

// A typed error as every command's JSON shows it: {kind, sqlstate, message, remedy}; null when
// there is none.
QJsonValue errorToJson(const std::optional<DbError> &error);

// Writes a line to stdout and flushes, for output that scripts read while the command runs.
void printLine(const QString &line);
void printError(const QString &line);

} // namespace poolscope::app
