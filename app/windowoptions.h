#pragma once

#include <QString>
#include <QStringList>

#include <chrono>
#include <optional>
#include <variant>

namespace poolscope::app {

// What the window was asked to do, every value already validated.
struct WindowSettings
{
    bool demo = false;
    QString conninfo; // empty: the last profile, or the connect dialog
    QString poolerConsole;
    std::chrono::milliseconds interval { 1000 };
    int maxConnections = 100;  // --demo only
    int latencyMs = 0;         // --demo only
    QString page;              // empty: the last page shown
    int chartWindowIndex = -1; // into ui::ChartsPage::windowChoicesMs(); -1: the default
    QString screenshot;
    std::optional<std::chrono::milliseconds> quitAfter;
    bool reportFirstPaint = false;
    bool printOptions = false;
};

// The window's options live in one table (windowoptions.cpp) that everything reads: the top-level
// dispatch (is this the window or a command?), the window's parser and validation, and both help
// texts. Options may come before or after the connection string.

// True when `args` (without the program name) are for the window rather than a command: nothing,
// a window option, or a connection string as the first argument (Qt's own -platform style
// arguments skipped).
bool isWindowInvocation(const QStringList &args);

// Parses and validates the window's command line (`args` without the program name, Qt's own
// arguments included: they are skipped here and left to QApplication). Returns the settings, or
// the exit code when the program must stop here: --help/--version printed (0) or a usage error
// printed on stderr (2). Needs no QCoreApplication and no display.
std::variant<WindowSettings, int> parseWindowCommandLine(const QStringList &args);

// The window options as help lines ("  --interval <duration>  Sampling interval ..."), for both
// `poolscope --help` and `poolscope <URI> --help`.
QString windowOptionsHelp();

// When the window cannot open: no display server to talk to. The message names DISPLAY and
// WAYLAND_DISPLAY and the headless alternatives; nullopt when a display (or a platform plugin
// that needs none, e.g. QT_QPA_PLATFORM=offscreen) is there. `args` as for
// parseWindowCommandLine (a -platform or -display argument counts).
std::optional<QString> missingDisplayMessage(const QStringList &args);

// The resolved settings as one JSON line (--print-options), the password redacted.
QString settingsToJson(const WindowSettings &settings);

} // namespace poolscope::app
