// Guards of the layering contract, checked on the source tree itself:
//  - core's public headers do not expose libpq (only *_p.h and .cpp files include libpq-fe.h);
//  - core is GUI-free (no QtGui/QtWidgets/QCustomPlot include);
//  - no source file grows beyond 600 lines.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

namespace {

const QString kSourceDir = QStringLiteral(POOLSCOPE_SOURCE_DIR);
constexpr int kMaxLines = 600;

// *.h and *.cpp below `subdir`, as paths relative to the source dir, sorted.
QStringList sourceFiles(const QString &subdir, const QStringList &patterns)
{
    QStringList files;
    const QDir root(kSourceDir);
    QDirIterator it(root.filePath(subdir), patterns, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << root.relativeFilePath(it.next());
    files.sort();
    return files;
}

QStringList readLines(const QString &relativePath)
{
    QFile file(QDir(kSourceDir).filePath(relativePath));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QStringList lines;
    while (!file.atEnd())
        lines << QString::fromUtf8(file.readLine());
    return lines;
}

// "#include <x>" / "#include "x"" lines of a file, with their targets.
QStringList includes(const QString &relativePath)
{
    static const QRegularExpression include(
        QStringLiteral("^\\s*#\\s*include\\s*([<\"][^>\"]+[>\"])"));
    QStringList targets;
    for (const QString &line : readLines(relativePath)) {
        if (const auto m = include.match(line); m.hasMatch())
            targets << m.captured(1);
    }
    return targets;
}

QByteArray report(const QString &what, const QStringList &offenders)
{
    return (what + QStringLiteral(":\n  ") + offenders.join(QStringLiteral("\n  "))).toUtf8();
}

} // namespace

class tst_Architecture : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sourceTreeFound();
    void publicCoreHeadersDoNotIncludeLibpq();
    void coreIsGuiFree();
    void noFileOverLineLimit();
};

void tst_Architecture::sourceTreeFound()
{
    // Without this, an empty scan would make every other guard pass vacuously.
    QVERIFY2(QFile::exists(kSourceDir + QStringLiteral("/core/CMakeLists.txt")),
             qPrintable(kSourceDir));
    QVERIFY(sourceFiles(QStringLiteral("core"), { QStringLiteral("*.h") }).size() > 5);
    QVERIFY(sourceFiles(QStringLiteral("core"), { QStringLiteral("*.cpp") }).size() > 5);
    QVERIFY(
        includes(QStringLiteral("core/db/conninfo.cpp")).contains(QStringLiteral("<libpq-fe.h>")));
}

void tst_Architecture::publicCoreHeadersDoNotIncludeLibpq()
{
    QStringList offenders;
    for (const QString &header : sourceFiles(QStringLiteral("core"), { QStringLiteral("*.h") })) {
        if (header.endsWith(QLatin1String("_p.h")))
            continue;
        for (const QString &target : includes(header)) {
            if (target.contains(QLatin1String("libpq-fe.h")))
                offenders << header;
        }
    }
    QVERIFY2(offenders.isEmpty(),
             report(QStringLiteral("public core headers including libpq-fe.h (move the include "
                                   "to a *_p.h or the .cpp)"),
                    offenders)
                 .constData());
}

void tst_Architecture::coreIsGuiFree()
{
    static const QStringList forbidden {
        QStringLiteral("<QWidget"),  QStringLiteral("<QtWidgets"),   QStringLiteral("<QtGui"),
        QStringLiteral("<QPixmap"),  QStringLiteral("<QColor"),      QStringLiteral("<QImage"),
        QStringLiteral("<QPainter"), QStringLiteral("<qcustomplot"),
    };
    QStringList offenders;
    const QStringList files =
        sourceFiles(QStringLiteral("core"), { QStringLiteral("*.h"), QStringLiteral("*.cpp") });
    for (const QString &file : files) {
        for (const QString &target : includes(file)) {
            for (const QString &bad : forbidden) {
                if (target.startsWith(bad, Qt::CaseInsensitive))
                    offenders << file + QStringLiteral(": ") + target;
            }
        }
    }
    QVERIFY2(offenders.isEmpty(),
             report(QStringLiteral("core files including GUI headers"), offenders).constData());
}

void tst_Architecture::noFileOverLineLimit()
{
    QStringList offenders;
    int scanned = 0;
    for (const QString &dir : { QStringLiteral("core"), QStringLiteral("ui"), QStringLiteral("app"),
                                QStringLiteral("tests") }) {
        for (const QString &file :
             sourceFiles(dir, { QStringLiteral("*.h"), QStringLiteral("*.cpp") })) {
            ++scanned;
            const auto lines = readLines(file).size();
            if (lines > kMaxLines)
                offenders << QStringLiteral("%1 (%2 lines)").arg(file).arg(lines);
        }
    }
    QVERIFY(scanned > 10);
    QVERIFY2(offenders.isEmpty(),
             report(QStringLiteral("files over %1 lines (split them)").arg(kMaxLines), offenders)
                 .constData());
}

QTEST_GUILESS_MAIN(tst_Architecture)
#include "tst_architecture.moc"
