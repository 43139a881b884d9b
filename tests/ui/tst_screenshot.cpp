// `poolscope --demo` in a real X server (Xvfb): after a few seconds an external screenshot of the
// screen is not blank, and the charts hold data (the application reports what its plots hold).
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
                    QStringLiteral("9s") });
        QVERIFY(app.waitForStarted(5000));
        QTest::qWait(7000);

        // The screen as X shows it, taken from outside the application.
        const QString screenShot = dir.filePath(QStringLiteral("screen.png"));
        QProcess import;
        import.setProcessEnvironment(env);
        import.start(QStringLiteral("import"),
                     { QStringLiteral("-window"), QStringLiteral("root"), screenShot });
        QVERIFY(import.waitForFinished(20000));
        QCOMPARE(import.exitCode(), 0);

        QVERIFY(app.waitForFinished(30000));
        xvfb.terminate();
        xvfb.waitForFinished(5000);
        QCOMPARE(app.exitStatus(), QProcess::NormalExit);
        QCOMPARE(app.exitCode(), 0);

        const QImage image(screenShot);
        QVERIFY(!image.isNull());
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 4)
            for (int x = 0; x < image.width(); x += 4)
                colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 50,
                 qPrintable(QString::number(colours.size()))); // not a blank screen

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

        // Keep the pictures for a human to look at.
        const QString keep = QStringLiteral(POOLSCOPE_BINARY_DIR "/poolscope-demo-screen.png");
        QFile::remove(keep);
        QFile::copy(screenShot, keep);
    }
};

QTEST_GUILESS_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
