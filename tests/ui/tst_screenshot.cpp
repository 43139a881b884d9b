// `poolscope --demo` in a real X server (Xvfb): once the window has painted, an external
// screenshot of the screen is not blank, and the charts hold data (the application reports what
// its plots hold when it quits).
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

class TestScreenshot : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void demoWindowRendersWithData()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());

        // Xvfb picks a free display and writes its number to the given descriptor.
        QProcess xvfb;
        xvfb.setProcessChannelMode(QProcess::SeparateChannels);
        xvfb.start(QStringLiteral("Xvfb"),
                   { QStringLiteral("-displayfd"), QStringLiteral("1"), QStringLiteral("-screen"),
                     QStringLiteral("0"), QStringLiteral("1280x820x24"),
                     QStringLiteral("-nolisten"), QStringLiteral("tcp") });
        QVERIFY2(xvfb.waitForStarted(5000), "Xvfb did not start (package xvfb)");
        QTRY_VERIFY_WITH_TIMEOUT(xvfb.canReadLine() || xvfb.waitForReadyRead(200), 10000);
        const QString display = QLatin1Char(':') + QString::fromLatin1(xvfb.readLine()).trimmed();

        QProcess app;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DISPLAY"), display);
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
        env.insert(QStringLiteral("HOME"), dir.path()); // fresh settings: default layout
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.path());
        app.setProcessEnvironment(env);
        const QString selfShot = dir.filePath(QStringLiteral("self.png"));
        app.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                  { QStringLiteral("--demo"), QStringLiteral("--interval"), QStringLiteral("500ms"),
                    QStringLiteral("--screenshot"), selfShot, QStringLiteral("--quit-after"),
                    QStringLiteral("15s"), QStringLiteral("--report-first-paint") });
        QVERIFY(app.waitForStarted(5000));
        // The window reports its first paint on stdout (the JSON follows when it quits).
        QTRY_VERIFY_WITH_TIMEOUT(app.canReadLine() || app.state() != QProcess::Running, 60000);
        QCOMPARE(app.readLine().trimmed(), QByteArray("first_paint"));

        // The screen as X shows it, taken from outside the application, again and again until
        // the application quits on its own (--quit-after): at least one picture must not be blank
        // (more than 50 colours), and the last such one shows the charts with their data.
        const QString screenShot = dir.filePath(QStringLiteral("screen.png"));
        const QString attempt = dir.filePath(QStringLiteral("attempt.png"));
        auto screenColours = [&] {
            QProcess import;
            import.setProcessEnvironment(env);
            import.start(QStringLiteral("import"),
                         { QStringLiteral("-window"), QStringLiteral("root"), attempt });
            if (!import.waitForFinished(20000) || import.exitCode() != 0)
                return 0;
            const QImage image(attempt);
            QSet<QRgb> seen;
            for (int y = 0; y < image.height(); y += 4)
                for (int x = 0; x < image.width(); x += 4)
                    seen.insert(image.pixel(x, y));
            return int(seen.size());
        };
        int notBlank = 0;
        int mostColours = 0;
        QElapsedTimer running;
        running.start();
        while (app.state() == QProcess::Running && !running.hasExpired(120000)) {
            const int colours = screenColours();
            mostColours = std::max(mostColours, colours);
            if (colours > 50) {
                ++notBlank;
                QFile::remove(screenShot);
                QFile::copy(attempt, screenShot);
            }
            app.waitForFinished(500); // paces the pictures; returns as soon as it quits
        }
        QVERIFY2(notBlank > 0, qPrintable(QString::number(mostColours)));

        QVERIFY(app.state() == QProcess::NotRunning || app.waitForFinished(60000));
        xvfb.terminate();
        xvfb.waitForFinished(5000);
        QCOMPARE(app.exitStatus(), QProcess::NormalExit);
        QCOMPARE(app.exitCode(), 0);

        const QJsonObject report =
            QJsonDocument::fromJson(app.readAllStandardOutput().trimmed()).object();
        const QJsonObject plots = report.value(QStringLiteral("plots")).toObject();
        QVERIFY2(!plots.isEmpty(), QJsonDocument(report).toJson().constData());
        int withData = 0;
        for (const QJsonValue &points : plots)
            withData += points.toInt() > 0 ? 1 : 0;
        QVERIFY2(withData >= 2,
                 QJsonDocument(report).toJson().constData()); // connections and pool at least
        QVERIFY(QImage(selfShot).width() > 600);

        // Keep the pictures for a human to look at: the screen once the window painted, and the
        // window with its data as it quit.
        const QString keep = QStringLiteral(POOLSCOPE_BINARY_DIR "/poolscope-demo-screen.png");
        QFile::remove(keep);
        QFile::copy(screenShot, keep);
        const QString keepWindow =
            QStringLiteral(POOLSCOPE_BINARY_DIR "/poolscope-demo-window.png");
        QFile::remove(keepWindow);
        QFile::copy(selfShot, keepWindow);
    }
};

QTEST_GUILESS_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
