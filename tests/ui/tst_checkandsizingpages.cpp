// The Endpoint check and Sizing pages on their real widgets, offscreen: EndpointCheckPage (typed
// string + the real Check button, findings, libpq's parse error, no password anywhere, a live step
// against a closed loopback port) and SizingPage (recompute as you type, presets, does-not-fit,
// Copy, the chart).
#include "core/monitor/monitorsession.h"
#include "ui/check/endpointcheckpage.h"
#include "ui/sizing/sizingchart.h"
#include "ui/sizing/sizingpage.h"

#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTreeWidget>
#include <QtTest>
#include <qcustomplot.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace poolscope;
using namespace poolscope::ui;

namespace {

const QString Secret = QStringLiteral("Sup3rS3cretPw");

// Every text a user can see: labels, line edits, combo items, tree items (all columns, tooltips).
QStringList visibleTexts(const QWidget *root)
{
    QStringList texts;
    for (const QLabel *l : root->findChildren<QLabel *>())
        texts << l->text() << l->toolTip();
    for (const QLineEdit *e : root->findChildren<QLineEdit *>())
        texts << e->text();
    for (const QComboBox *c : root->findChildren<QComboBox *>()) {
        for (int i = 0; i < c->count(); ++i)
            texts << c->itemText(i);
    }
    for (const QTreeWidget *t : root->findChildren<QTreeWidget *>()) {
        for (int i = 0; i < t->topLevelItemCount(); ++i) {
            const QTreeWidgetItem *item = t->topLevelItem(i);
            for (int c = 0; c < t->columnCount(); ++c)
                texts << item->text(c) << item->toolTip(c);
        }
    }
    return texts;
}

QStringList column(const QTreeWidget *tree, int col)
{
    QStringList out;
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        out << tree->topLevelItem(i)->text(col);
    return out;
}

} // namespace

class TestCheckAndSizingPages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void checkNeonDirectServerless();
    void checkMalformedShowsLibpqMessage();
    void checkLiveStepsAgainstClosedPort();
    void checkButtonNeverWaitsForTheNetwork();
    void sizingRecomputesOnInstances();
    void sizingPresetUpdatesLimit();
    void sizingDoesNotFitRecommendsPooler();
    void sizingCopyAndChart();
};

void TestCheckAndSizingPages::checkNeonDirectServerless()
{
    MonitorSession session;
    EndpointCheckPage page(&session, static_cast<ConnectionProfiles *>(nullptr));
    page.show();
    page.offlineBox()->setChecked(true);
    page.usageCombo()->setCurrentIndex(2); // serverless production
    QTest::keyClicks(page.conninfoEdit(),
                     QStringLiteral("postgresql://alice:%1@ep-cool-darkness-123456.eu-central-1."
                                    "aws.neon.tech/neondb?sslmode=require")
                         .arg(Secret));
    QTest::mouseClick(page.checkButton(), Qt::LeftButton);

    QVERIFY(page.errorLabel()->isHidden());
    QVERIFY(column(page.findingsView(), 1).contains(QStringLiteral("serverless-direct-endpoint")));
    const int row =
        column(page.findingsView(), 1).indexOf(QStringLiteral("serverless-direct-endpoint"));
    QCOMPARE(page.findingsView()->topLevelItem(row)->text(0), QStringLiteral("error"));
    QVERIFY(!page.findingsView()->topLevelItem(row)->text(3).isEmpty()); // a remedy
    QCOMPARE(row, 0); // errors first, shown in full below the list
    QVERIFY(page.findingDetailLabel()->text().contains(QStringLiteral("Remedy")));
    QVERIFY(page.endpointLabel()->text().contains(QStringLiteral("neon-direct")));
    QVERIFY(page.endpointLabel()->text().contains(QStringLiteral("DIRECT")));
    QVERIFY(!page.neonNoteLabel()->isHidden());
    QVERIFY(page.neonNoteLabel()->text().contains(QStringLiteral("-pooler")));

    for (const QString &text : visibleTexts(&page))
        QVERIFY2(!text.contains(Secret), qPrintable(text));

    // Checking again (the field now shows the string without its password) keeps the verdict.
    QTest::mouseClick(page.checkButton(), Qt::LeftButton);
    QVERIFY(column(page.findingsView(), 1).contains(QStringLiteral("serverless-direct-endpoint")));
    for (const QString &text : visibleTexts(&page))
        QVERIFY2(!text.contains(Secret), qPrintable(text));

    // The pooled host is named as such.
    page.conninfoEdit()->setText(QStringLiteral(
        "postgresql://alice@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/neondb"));
    QTest::mouseClick(page.checkButton(), Qt::LeftButton);
    QVERIFY(page.endpointLabel()->text().contains(QStringLiteral("neon-pooled")));
    QVERIFY(!column(page.findingsView(), 1).contains(QStringLiteral("serverless-direct-endpoint")));
}

void TestCheckAndSizingPages::checkMalformedShowsLibpqMessage()
{
    MonitorSession session;
    EndpointCheckPage page(&session, static_cast<ConnectionProfiles *>(nullptr));
    page.show();
    QTest::keyClicks(page.conninfoEdit(),
                     QStringLiteral("host='unterminated password=%1").arg(Secret));
    QTest::mouseClick(page.checkButton(), Qt::LeftButton);
    QVERIFY(!page.errorLabel()->isHidden());
    // libpq: 'unterminated quoted string in connection info string'
    QVERIFY2(page.errorLabel()->text().contains(QStringLiteral("unterminated")),
             qPrintable(page.errorLabel()->text()));
    QCOMPARE(page.findingsView()->topLevelItemCount(), 0);
    QVERIFY(!page.liveCheckRunning());
    for (const QString &text : visibleTexts(&page))
        QVERIFY2(!text.contains(Secret), qPrintable(text));
}

void TestCheckAndSizingPages::checkButtonNeverWaitsForTheNetwork()
{
    // A loopback port that accepts connections (into the kernel's backlog) and never answers: a
    // live check run on the GUI thread would hold it for at least a step's deadline (2 s), so the
    // click must return in a fraction of that.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    QVERIFY(fd >= 0);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    QVERIFY(::bind(fd, reinterpret_cast<sockaddr *>(&addr), len) == 0);
    QVERIFY(::listen(fd, 8) == 0);
    QVERIFY(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
    MonitorSession session;
    EndpointCheckPage page(&session, static_cast<ConnectionProfiles *>(nullptr));
    page.setStepTimeout(std::chrono::milliseconds(2000));
    page.show();
    QSignalSpy done(&page, &EndpointCheckPage::liveCheckFinished);
    QTest::keyClicks(
        page.conninfoEdit(),
        QStringLiteral("host=127.0.0.1 port=%1 dbname=x user=u").arg(ntohs(addr.sin_port)));
    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(page.checkButton(), Qt::LeftButton);
    const qint64 clickMs = clock.elapsed();
    QVERIFY(page.liveCheckRunning());
    QVERIFY(done.wait(30000));
    ::close(fd);
    QVERIFY2(clock.elapsed() >= 2000, qPrintable(QString::number(clock.elapsed()))); // it did wait
    QVERIFY2(clickMs < 500, qPrintable(QString::number(clickMs)));
}

void TestCheckAndSizingPages::checkLiveStepsAgainstClosedPort()
{
    // A loopback port that was open a moment ago and is closed now: connect is refused at once.
    quint16 port = 0;
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_in addr {};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        QVERIFY(::bind(fd, reinterpret_cast<sockaddr *>(&addr), len) == 0);
        QVERIFY(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
        port = ntohs(addr.sin_port);
        ::close(fd); // bound, never listened: connecting is refused
    }
    MonitorSession session;
    EndpointCheckPage page(&session, static_cast<ConnectionProfiles *>(nullptr));
    page.setStepTimeout(std::chrono::milliseconds(2000));
    page.show();
    QSignalSpy done(&page, &EndpointCheckPage::liveCheckFinished);
    QTest::keyClicks(
        page.conninfoEdit(),
        QStringLiteral("host=127.0.0.1 port=%1 dbname=x user=u password=%2").arg(port).arg(Secret));
    QTest::mouseClick(page.checkButton(), Qt::LeftButton);
    QVERIFY(page.liveCheckRunning()); // on its own thread (timed in the next test)
    QVERIFY(done.wait(15000));

    const QTreeWidget *live = page.liveView();
    QVERIFY(live->topLevelItemCount() >= 1);
    bool sawFailure = false;
    for (int i = 0; i < live->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = live->topLevelItem(i);
        QVERIFY(item->text(2).endsWith(QStringLiteral(" ms")));
        if (item->text(1) == QStringLiteral("failed")) {
            sawFailure = true;
            QCOMPARE(item->data(0, Qt::UserRole).toString(), QStringLiteral("tcp"));
        }
    }
    QVERIFY(sawFailure);
    QVERIFY(!page.verdictLabel()->text().isEmpty());
    for (const QString &text : visibleTexts(&page))
        QVERIFY2(!text.contains(Secret), qPrintable(text));
}

void TestCheckAndSizingPages::sizingRecomputesOnInstances()
{
    MonitorSession session;
    SizingPage page(&session);
    page.show();
    page.instancesBox()->selectAll();
    QTest::keyClicks(page.instancesBox(), QStringLiteral("8"));
    QCOMPARE(page.instancesBox()->value(), 8);
    QVERIFY(page.result().has_value());
    QCOMPARE(page.input().instances, 8);
    QVERIFY(page.result()->recommendedMax.has_value());
    QVERIFY(*page.result()->recommendedMax * 8 <= page.result()->available);
    const int maxAt8 = *page.result()->recommendedMax;

    page.instancesBox()->setValue(30);
    QVERIFY(page.result()->recommendedMax.has_value());
    QVERIFY(*page.result()->recommendedMax * 30 <= page.result()->available);
    QVERIFY(*page.result()->recommendedMax <= maxAt8);
}

void TestCheckAndSizingPages::sizingPresetUpdatesLimit()
{
    MonitorSession session;
    SizingPage page(&session);
    QComboBox *presets = page.presetCombo();
    const int quarter = presets->findData(QStringLiteral("neon-0.25cu"));
    const int two = presets->findData(QStringLiteral("neon-2cu"));
    const int guideFree = presets->findData(QStringLiteral("guide-free"));
    QVERIFY(quarter >= 0 && two >= 0 && guideFree >= 0);
    QVERIFY(presets->itemText(guideFree).contains(QStringLiteral("guide")));
    presets->setCurrentIndex(quarter);
    QCOMPARE(page.result()->maxConnections, 104);
    presets->setCurrentIndex(two);
    QCOMPARE(page.result()->maxConnections, 839);
    QCOMPARE(page.maxConnectionsBox()->value(), 839);
    QVERIFY(!page.maxConnectionsBox()->isEnabled());
    presets->setCurrentIndex(presets->findData(QStringLiteral("custom")));
    QVERIFY(page.maxConnectionsBox()->isEnabled());
    page.maxConnectionsBox()->setValue(300);
    QCOMPARE(page.result()->maxConnections, 300);
}

void TestCheckAndSizingPages::sizingDoesNotFitRecommendsPooler()
{
    MonitorSession session;
    SizingPage page(&session);
    page.presetCombo()->setCurrentIndex(
        page.presetCombo()->findData(QStringLiteral("neon-0.25cu")));
    page.poolMaxBox()->setValue(10);
    page.instancesBox()->setValue(500);
    QVERIFY(page.result().has_value());
    QVERIFY(!page.result()->fits);
    const QString verdict = page.verdictLabel()->text();
    QVERIFY2(verdict.contains(QStringLiteral("Does not fit")), qPrintable(verdict));
    QVERIFY2(verdict.contains(QStringLiteral("pooler")), qPrintable(verdict));

    page.instancesBox()->setValue(2);
    QVERIFY(page.result()->fits);
    QVERIFY(page.verdictLabel()->text().contains(QStringLiteral("Fits")));
}

void TestCheckAndSizingPages::sizingCopyAndChart()
{
    MonitorSession session;
    SizingPage page(&session);
    page.show();
    page.instancesBox()->setValue(4);
    QGuiApplication::clipboard()->clear();
    QTest::mouseClick(page.copyButton(), Qt::LeftButton);
    const QString copied = QGuiApplication::clipboard()->text();
    QVERIFY2(copied.contains(QStringLiteral("DATABASE_POOL_MIN_SIZE=")), qPrintable(copied));
    QVERIFY2(copied.contains(QStringLiteral("DATABASE_POOL_MAX_SIZE=")), qPrintable(copied));
    QCOMPARE(copied.trimmed(), page.envLinesView()->toPlainText().trimmed());

    SizingChart *chart = page.chart();
    QVERIFY(chart->demandGraph()->dataCount() > 2);
    // Demand grows with the instance count.
    const auto first = chart->demandGraph()->data()->begin();
    const auto last = chart->demandGraph()->data()->end() - 1;
    QVERIFY(last->value > first->value);
    QCOMPARE(chart->directLimitGraph()->dataCount(), 2);
    QCOMPARE(chart->directLimitGraph()->data()->begin()->value, double(page.result()->available));
    QVERIFY(chart->poolerServerGraph()->dataCount() == 2);
    QVERIFY(chart->poolerClientGraph()->dataCount() == 2);
    QVERIFY(chart->poolerClientGraph()->data()->begin()->value >= 1000);
    QCOMPARE(chart->livePeakGraph()->dataCount(), 0); // nothing sampled yet

    // The live peak from the store (max of connections.total over the last hour) as a marker.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    session.store().append(now - 2000, { { QStringLiteral("connections.total"), 42.0 } });
    session.store().append(now - 1000, { { QStringLiteral("connections.total"), 17.0 } });
    ActivitySample sample;
    sample.takenAt = QDateTime::currentDateTimeUtc();
    sample.limits.maxConnections = 450;
    sample.limits.superuserReserved = 3;
    Q_EMIT session.sampled(sample);
    QCOMPARE(page.livePeak().value_or(-1), 42.0);
    QCOMPARE(chart->livePeakGraph()->dataCount(), 1);
    QCOMPARE(chart->livePeakGraph()->data()->begin()->value, 42.0);
    // The live limit wins over the preset, and says so.
    QCOMPARE(page.result()->maxConnections, 450);
    QVERIFY(page.limitLabel()->text().contains(QStringLiteral("live")));
    QVERIFY(!page.presetCombo()->isEnabled());
}

QTEST_MAIN(TestCheckAndSizingPages)
#include "tst_checkandsizingpages.moc"
