// The Overview's incident headline on the real window, watching a real sandbox: it follows the live
// samples (three storm-N clients are one holder, "storm-*"), and Ctrl+Shift+C - from the Overview
// and from another page - the Copy button and the context menu put the line on the clipboard with
// the time (UTC, ISO 8601) and the server (host:port/db, no password).
#include "core/monitor/monitorsession.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testsession.h"
#include "ui/charts/incidentheadline.h"
#include "ui/mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QRegularExpression>
#include <QToolButton>
#include <QUrl>
#include <QtTest>

#include <memory>
#include <vector>

using namespace poolscope;
using namespace poolscope::testing;

class TestIncidentHeadline : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

    // What the clipboard must hold: "<ISO UTC time> 127.0.0.1:<port>/<db>: <the shown line>".
    void verifyClipboardLine(const ui::IncidentHeadline *headline)
    {
        const QString text = QGuiApplication::clipboard()->text();
        const QUrl uri(m_sandbox.directUri());
        const QString server =
            QStringLiteral("%1:%2%3").arg(uri.host()).arg(uri.port()).arg(uri.path());
        static const QRegularExpression shape(
            QStringLiteral("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ) (.+?): (.+)$"));
        const auto m = shape.match(text);
        QVERIFY2(m.hasMatch(), qPrintable(text));
        const QDateTime at = QDateTime::fromString(m.captured(1), Qt::ISODate);
        QVERIFY2(at.isValid() && qAbs(at.secsTo(QDateTime::currentDateTimeUtc())) < 600,
                 qPrintable(text));
        QCOMPARE(m.captured(2), server);
        QCOMPARE(m.captured(3),
                 headline->findChild<QLabel *>(QStringLiteral("incidentHeadlineText"))->text());
        if (!uri.password().isEmpty())
            QVERIFY(!text.contains(uri.password()));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }

    void followsTheSamplesAndCopiesForTheChannel()
    {
        MonitorSession session;
        ui::MainWindow window(&session);
        window.showPage(QStringLiteral("overview"));
        auto *headline = window.findChild<ui::IncidentHeadline *>();
        QVERIFY(headline);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));

        // Three instances of one application and one other: the biggest holder is "storm-*".
        std::vector<std::unique_ptr<TestSession>> clients;
        for (const char *name : { "storm-1", "storm-2", "storm-3", "api" })
            clients.push_back(
                std::make_unique<TestSession>(m_sandbox.directUri(), QString::fromLatin1(name)));

        MonitorSession::Options options;
        options.conninfo = m_sandbox.directUri();
        options.interval = std::chrono::milliseconds(250);
        session.start(options);
        QTRY_VERIFY_WITH_TIMEOUT(
            headline->summary().text.contains(QStringLiteral("3 held by storm-*")), 60000);
        QVERIFY2(headline->summary().condition == QLatin1String("calm"),
                 qPrintable(headline->summary().text));

        QGuiApplication::clipboard()->clear();
        QTest::keyClick(&window, Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_VERIFY(!QGuiApplication::clipboard()->text().isEmpty());
        verifyClipboardLine(headline);

        // From another page too: the incident is read on the Sessions page as often.
        window.showPage(QStringLiteral("sessions"));
        QTRY_VERIFY(!headline->isVisible());
        QGuiApplication::clipboard()->clear();
        QTest::keyClick(&window, Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_VERIFY(!QGuiApplication::clipboard()->text().isEmpty());
        verifyClipboardLine(headline);

        // The Copy button and the context menu's action.
        window.showPage(QStringLiteral("overview"));
        QGuiApplication::clipboard()->clear();
        QTest::mouseClick(
            headline->findChild<QToolButton *>(QStringLiteral("incidentHeadlineCopy")),
            Qt::LeftButton);
        QTRY_VERIFY(!QGuiApplication::clipboard()->text().isEmpty());
        verifyClipboardLine(headline);
        QCOMPARE(headline->contextMenuPolicy(), Qt::ActionsContextMenu);
        QVERIFY(headline->actions().contains(headline->copyAction()));

        // The line follows the server: the storm leaves, the holder changes.
        clients.resize(3);
        clients.erase(clients.begin(), clients.begin() + 2); // storm-3 stays, api gone
        QTRY_VERIFY_WITH_TIMEOUT(
            headline->summary().text.contains(QStringLiteral("1 held by storm-3")), 60000);
        session.stop();
    }

    void saysSoWhenTheServerDoesNotAnswer()
    {
        MonitorSession session;
        ui::MainWindow window(&session);
        auto *headline = window.findChild<ui::IncidentHeadline *>();
        QVERIFY(headline);
        MonitorSession::Options options;
        options.conninfo = QStringLiteral("postgresql://monitor:s3cretpw@127.0.0.1:1/app");
        session.start(options);
        QTRY_COMPARE_WITH_TIMEOUT(headline->summary().condition, QStringLiteral("unreachable"),
                                  60000);
        QVERIFY2(headline->summary().text.startsWith(
                     QStringLiteral("Server unreachable: 127.0.0.1:1/app does not answer")),
                 qPrintable(headline->summary().text));
        QVERIFY(!headline->clipboardText().contains(QStringLiteral("s3cretpw")));
        session.stop();
    }
};

QTEST_MAIN(TestIncidentHeadline)
#include "tst_incidentheadline.moc"
