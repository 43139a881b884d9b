// SessionsModel merges (never a reset), SessionsFilter (text, state, application, older-than,
// numeric sort) and the highlight thresholds, with QAbstractItemModelTester on every model.
#include "ui/sessions/sessionsfilter.h"
#include "ui/sessions/sessionsmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::ui;

namespace {

const QDateTime Now = QDateTime(QDate(2025, 3, 1), QTime(12, 0), Qt::UTC);

SessionRow session(int pid, const QString &state = QStringLiteral("idle"),
                   const QString &application = QStringLiteral("app"))
{
    SessionRow s;
    s.pid = pid;
    s.user = QStringLiteral("user%1").arg(pid);
    s.database = QStringLiteral("shop");
    s.application = application;
    s.client = QStringLiteral("10.0.0.%1").arg(pid % 250);
    s.state = state;
    s.backendStart = Now.addSecs(-3600);
    s.stateChange = Now.addSecs(-1);
    s.queryStart = Now.addSecs(-1);
    s.query = QStringLiteral("SELECT %1").arg(pid);
    return s;
}

QList<SessionRow> sessions(const QList<int> &pids)
{
    QList<SessionRow> result;
    for (int pid : pids)
        result.append(session(pid));
    return result;
}

QList<int> pidsInOrder(const QAbstractItemModel &model)
{
    QList<int> pids;
    for (int row = 0; row < model.rowCount(); ++row)
        pids.append(model.index(row, 0).data(SessionsModel::PidRole).toInt());
    return pids;
}

} // namespace

class TestSessionsModel : public QObject
{
    Q_OBJECT

private:
    // Every scenario runs with both models under the tester (Fatal: a broken signal aborts).
    struct Fixture
    {
        SessionsModel model;
        SessionsFilter proxy;
        QAbstractItemModelTester modelTester {
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal
        };
        QAbstractItemModelTester proxyTester {
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal
        };
        Fixture() { proxy.setSourceModel(&model); }
    };

private Q_SLOTS:
    void mergeKeepsRowsAndNeverResets()
    {
        Fixture f;
        QSignalSpy resets(&f.model, &QAbstractItemModel::modelAboutToBeReset);
        QSignalSpy proxyResets(&f.proxy, &QAbstractItemModel::modelAboutToBeReset);
        QSignalSpy inserted(&f.model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&f.model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);

        f.model.setSessions(sessions({ 1, 2, 3, 4, 5 }), Now);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(f.model.rowCount(), 5);
        QCOMPARE(changed.count(), 0);

        const QPersistentModelIndex three = f.model.index(f.model.rowOfPid(3), SessionsModel::User);
        const QPersistentModelIndex threeInProxy = f.proxy.mapFromSource(three);
        inserted.clear();

        // 2 and 4 go (two separate runs), 5 changes state, 6 and 7 arrive; same sample time.
        QList<SessionRow> next = sessions({ 1, 3, 5, 6, 7 });
        next[2].state = QStringLiteral("active");
        f.model.setSessions(next, Now);

        QCOMPARE(removed.count(), 2);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 3); // appended after 1, 3, 5
        QCOMPARE(inserted.at(0).at(2).toInt(), 4);
        QCOMPARE(changed.count(), 1);
        const QModelIndex topLeft = changed.at(0).at(0).value<QModelIndex>();
        const QModelIndex bottomRight = changed.at(0).at(1).value<QModelIndex>();
        QCOMPARE(topLeft.row(), f.model.rowOfPid(5));
        QCOMPARE(bottomRight.row(), f.model.rowOfPid(5));
        QCOMPARE(pidsInOrder(f.model), QList<int>({ 1, 3, 5, 6, 7 }));
        QVERIFY(three.isValid());
        QCOMPARE(three.data().toString(), QStringLiteral("user3"));
        QVERIFY(threeInProxy.isValid());
        QCOMPARE(threeInProxy.data(SessionsModel::PidRole).toInt(), 3);

        // Adjacent pids leave in one run; an identical sample changes nothing.
        removed.clear();
        changed.clear();
        inserted.clear();
        QList<SessionRow> last = next;
        last.remove(2, 2); // 5 and 6
        f.model.setSessions(last, Now);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed.at(0).at(1).toInt(), 2);
        QCOMPARE(removed.at(0).at(2).toInt(), 3);
        f.model.setSessions(last, Now);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(removed.count(), 1);

        f.model.setSessions({}, Now);
        QCOMPARE(f.model.rowCount(), 0);
        QVERIFY(!three.isValid());
        QCOMPARE(resets.count(), 0);
        QCOMPARE(proxyResets.count(), 0);
    }

    void movingClockChangesOnlyAges()
    {
        Fixture f;
        f.model.setSessions(sessions({ 1, 2, 3 }), Now);
        QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
        f.model.setSessions(sessions({ 1, 2, 3 }), Now.addSecs(1));
        QCOMPARE(changed.count(), 1);
        const QModelIndex topLeft = changed.at(0).at(0).value<QModelIndex>();
        const QModelIndex bottomRight = changed.at(0).at(1).value<QModelIndex>();
        QCOMPARE(topLeft.column(), int(SessionsModel::TransactionAge));
        QCOMPARE(bottomRight.column(), int(SessionsModel::StateAge));
        QCOMPARE(topLeft.row(), 0);
        QCOMPARE(bottomRight.row(), 2);
        QCOMPARE(f.model.index(0, SessionsModel::StateAge).data().toString(),
                 QStringLiteral("2 s"));
    }

    void selectionSurvivesUpdates()
    {
        Fixture f;
        QTableView view;
        view.setModel(&f.proxy);
        view.setSortingEnabled(true);
        view.sortByColumn(SessionsModel::Pid, Qt::AscendingOrder);
        view.setSelectionBehavior(QAbstractItemView::SelectRows);
        f.model.setSessions(sessions({ 1, 2, 3, 4 }), Now);
        view.selectRow(f.proxy.mapFromSource(f.model.index(f.model.rowOfPid(3), 0)).row());
        QCOMPARE(view.selectionModel()->selectedRows().size(), 1);

        QList<SessionRow> next = sessions({ 2, 3, 4, 5 });
        next[1].state = QStringLiteral("active"); // the selected row itself changes too
        f.model.setSessions(next, Now.addSecs(1));
        f.model.setSessions(sessions({ 0, 3, 5 }), Now.addSecs(2));

        const QModelIndexList selected = view.selectionModel()->selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.first().data(SessionsModel::PidRole).toInt(), 3);
        QCOMPARE(view.selectionModel()->currentIndex().data(SessionsModel::PidRole).toInt(), 3);
    }

    void filters()
    {
        Fixture f;
        QList<SessionRow> rows;
        rows.append(session(101, QStringLiteral("active"), QStringLiteral("checkout")));
        rows.append(session(102, QStringLiteral("idle"), QStringLiteral("checkout")));
        rows.append(session(103, QStringLiteral("idle in transaction"), QStringLiteral("report")));
        rows.append(session(104, QStringLiteral("idle in transaction (aborted)"), QString()));
        rows.append(session(105, QStringLiteral("active"), QStringLiteral("report")));
        rows[0].user = QStringLiteral("alice");
        rows[1].query = QStringLiteral("UPDATE orders SET paid = true WHERE id = $1");
        rows[4].waitEventType = QStringLiteral("Lock");
        rows[4].waitEvent = QStringLiteral("transactionid");
        rows[4].blockingPids = { 103 };
        rows[2].client = QStringLiteral("192.168.7.7");
        f.model.setSessions(rows, Now);

        f.proxy.setFilterText(QStringLiteral("ALICE"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 101 }));
        f.proxy.setFilterText(QStringLiteral("orders"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 102 }));
        f.proxy.setFilterText(QStringLiteral("192.168"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 103 }));
        f.proxy.setFilterText(QStringLiteral("104"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 104 }));
        f.proxy.setFilterText(QStringLiteral("report"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 103, 105 }));
        f.proxy.setFilterText(QString());
        QCOMPARE(f.proxy.rowCount(), 5);

        using State = SessionsFilter::StateFilter;
        f.proxy.setStateFilter(State::Active);
        QCOMPARE(f.proxy.pids(), QList<int>({ 101, 105 }));
        f.proxy.setStateFilter(State::Idle);
        QCOMPARE(f.proxy.pids(), QList<int>({ 102 }));
        f.proxy.setStateFilter(State::IdleInTransaction);
        QCOMPARE(f.proxy.pids(), QList<int>({ 103, 104 }));
        f.proxy.setStateFilter(State::Waiting);
        QCOMPARE(f.proxy.pids(), QList<int>({ 105 }));
        f.proxy.setStateFilter(State::All);

        f.proxy.setApplicationFilter(QStringLiteral("checkout"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 101, 102 }));
        f.proxy.setApplicationFilter(QString(QLatin1String(""))); // no application_name is a value
        QCOMPARE(f.proxy.pids(), QList<int>({ 104 }));
        f.proxy.setApplicationFilter(std::nullopt);
        f.proxy.setStateFilter(State::Active);
        f.proxy.setFilterText(QStringLiteral("report"));
        QCOMPARE(f.proxy.pids(), QList<int>({ 105 })); // filters combine

        // Rows follow the data: 102 becoming active joins the active filter without a reset.
        rows[1].state = QStringLiteral("active");
        rows[1].application = QStringLiteral("report");
        f.model.setSessions(rows, Now);
        QCOMPARE(f.proxy.pids(), QList<int>({ 102, 105 }));
    }

    void olderThanPredicate()
    {
        Fixture f;
        QList<SessionRow> rows;
        for (int minutes : { 1, 4, 6, 30 }) {
            SessionRow s = session(200 + minutes, QStringLiteral("idle in transaction"));
            s.transactionStart = Now.addSecs(-minutes * 60 - 5);
            s.stateChange = Now.addSecs(-minutes * 60);
            rows.append(s);
        }
        SessionRow idle = session(299, QStringLiteral("idle"));
        idle.stateChange = Now.addSecs(-3600);
        rows.append(idle);
        f.model.setSessions(rows, Now);

        f.proxy.setStateFilter(SessionsFilter::StateFilter::IdleInTransaction);
        f.proxy.setMinimumAge(SessionsModel::StateAge, 5 * 60.0);
        f.proxy.sort(SessionsModel::Pid);
        QCOMPARE(f.proxy.pids(), QList<int>({ 206, 230 }));
        f.proxy.setMinimumAge(SessionsModel::StateAge, std::nullopt);
        QCOMPARE(f.proxy.pids(), QList<int>({ 201, 204, 206, 230 }));
    }

    void sortsNumerically()
    {
        Fixture f;
        QList<SessionRow> rows;
        // "5 s" < "1 min 10 s" < "10 min 00 s" only as numbers; pids 9 < 10 < 100 likewise.
        const QList<QPair<int, int>> pidAndAge = { { 100, 70 }, { 9, 600 }, { 10, 5 } };
        for (const auto &[pid, age] : pidAndAge) {
            SessionRow s = session(pid, QStringLiteral("active"));
            s.queryStart = Now.addSecs(-age);
            rows.append(s);
        }
        rows.append(session(50, QStringLiteral("idle"))); // no running query: sorts first
        f.model.setSessions(rows, Now);

        f.proxy.sort(SessionsModel::QueryAge, Qt::AscendingOrder);
        QCOMPARE(f.proxy.pids(), QList<int>({ 50, 10, 100, 9 }));
        f.proxy.sort(SessionsModel::QueryAge, Qt::DescendingOrder);
        QCOMPARE(f.proxy.pids(), QList<int>({ 9, 100, 10, 50 }));
        f.proxy.sort(SessionsModel::Pid, Qt::AscendingOrder);
        QCOMPARE(f.proxy.pids(), QList<int>({ 9, 10, 50, 100 }));
        QCOMPARE(f.model.index(f.model.rowOfPid(100), SessionsModel::QueryAge).data().toString(),
                 QStringLiteral("1 min 10 s"));

        // The dynamic sort follows ages as the clock moves (10 overtakes 100 once it is older).
        rows[2].queryStart = Now.addSecs(-200);
        f.proxy.sort(SessionsModel::QueryAge, Qt::AscendingOrder);
        f.model.setSessions(rows, Now);
        QCOMPARE(f.proxy.pids(), QList<int>({ 50, 100, 10, 9 }));
    }

    void highlightsPastThresholdsOnly()
    {
        Fixture f;
        f.model.setThresholds(60, 30);
        QList<SessionRow> rows;
        auto add = [&](int pid, const QString &state, int queryAge, int stateAge) {
            SessionRow s = session(pid, state);
            s.queryStart = Now.addSecs(-queryAge);
            s.stateChange = Now.addSecs(-stateAge);
            rows.append(s);
        };
        add(1, QStringLiteral("active"), 59, 59);
        add(2, QStringLiteral("active"), 61, 61);
        add(3, QStringLiteral("idle in transaction"), 100, 29);
        add(4, QStringLiteral("idle in transaction"), 100, 31);
        add(5, QStringLiteral("idle"), 3600, 3600); // an old last query is not a running one
        f.model.setSessions(rows, Now);

        using H = SessionsModel::Highlight;
        const auto highlightOf = [&](int pid) {
            return H(
                f.model.index(f.model.rowOfPid(pid), 0).data(SessionsModel::HighlightRole).toInt());
        };
        QCOMPARE(highlightOf(1), H::None);
        QCOMPARE(highlightOf(2), H::LongRunningQuery);
        QCOMPARE(highlightOf(3), H::None);
        QCOMPARE(highlightOf(4), H::IdleInTransaction);
        QCOMPARE(highlightOf(5), H::None);
        for (int pid : { 1, 3, 5 })
            QVERIFY(!f.model.index(f.model.rowOfPid(pid), SessionsModel::Query)
                         .data(Qt::BackgroundRole)
                         .isValid());
        for (int pid : { 2, 4 }) {
            const QModelIndex index = f.model.index(f.model.rowOfPid(pid), SessionsModel::Query);
            QVERIFY(index.data(Qt::BackgroundRole).value<QColor>().isValid());
            QVERIFY(index.data(Qt::ForegroundRole).value<QColor>().isValid());
        }
        QCOMPARE(f.model.index(f.model.rowOfPid(2), SessionsModel::Query)
                     .data(Qt::ToolTipRole)
                     .toString(),
                 QStringLiteral("SELECT 2"));

        // Crossing a threshold as the clock moves repaints that whole row.
        QSignalSpy changed(&f.model, &QAbstractItemModel::dataChanged);
        f.model.setSessions(rows, Now.addSecs(2));
        QCOMPARE(highlightOf(1), H::LongRunningQuery);
        QCOMPARE(highlightOf(3), H::IdleInTransaction);
        bool wholeRowOne = false;
        for (const QList<QVariant> &args : changed) {
            const QModelIndex tl = args.at(0).value<QModelIndex>();
            const QModelIndex br = args.at(1).value<QModelIndex>();
            if (tl.row() <= f.model.rowOfPid(1) && br.row() >= f.model.rowOfPid(1)
                && tl.column() == 0 && br.column() == SessionsModel::ColumnCount - 1)
                wholeRowOne = true;
        }
        QVERIFY(wholeRowOne);

        // Raising the thresholds clears them again, without a reset.
        QSignalSpy resets(&f.model, &QAbstractItemModel::modelAboutToBeReset);
        f.model.setThresholds(3600, 3600);
        for (int pid : { 1, 2, 3, 4, 5 })
            QCOMPARE(highlightOf(pid), H::None);
        QCOMPARE(resets.count(), 0);
    }

    void formatsAges()
    {
        QCOMPARE(SessionsModel::formatAge(-1), QString());
        QCOMPARE(SessionsModel::formatAge(0.4), QStringLiteral("0 s"));
        QCOMPARE(SessionsModel::formatAge(65), QStringLiteral("1 min 05 s"));
        QCOMPARE(SessionsModel::formatAge(3 * 3600 + 120), QStringLiteral("3 h 02 min"));
        QCOMPARE(SessionsModel::formatAge(2 * 86400 + 3600), QStringLiteral("2 d 1 h"));
    }
};

QTEST_MAIN(TestSessionsModel)
#include "tst_sessionsmodel.moc"
