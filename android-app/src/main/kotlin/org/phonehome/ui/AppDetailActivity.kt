package org.phonehome.ui

import android.app.Activity
import android.graphics.drawable.Drawable
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.apps.AppIdentity
import org.phonehome.store.StoredAlert
import org.phonehome.store.AppSummary
import org.phonehome.model.Company
import org.phonehome.store.DestinationSummary
import org.phonehome.store.StoredFlow
import org.phonehome.store.Cursor
import org.phonehome.core.PageRequest
import org.phonehome.history.Pager
import org.phonehome.history.Timeline
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.figures
import org.phonehome.ui.Widgets.framed
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.note
import org.phonehome.ui.Widgets.section
import org.phonehome.ui.Widgets.text
import org.phonehome.ui.Widgets.textButton

/** One app from the history: who it is, its totals, a timeline, its destinations with owners, its alerts and flows. */
class AppDetailActivity : Activity() {
    private lateinit var key: String
    private lateinit var flows: Pager<StoredFlow>
    private lateinit var flowList: LinearLayout
    private lateinit var more: Button

    /** What the screen shows, read in one go on the history thread. */
    private class Detail(
        val identity: AppIdentity,
        val icon: Drawable?,
        val app: AppSummary?,
        val destinations: List<DestinationSummary>,
        val window: Timeline.Window?,
        val bars: List<Timeline.Bar>,
        val alerts: List<StoredAlert>,
    )

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        key = intent.getStringExtra(EXTRA_KEY) ?: "uid:${intent.getIntExtra(EXTRA_UID, -1)}"
        flows = Pager(key, PAGE, MAX_FLOWS) { Cursor(it.record.firstSeen, it.id) }
        val looks = AppLooks(this)
        Ui.page(this) { text(getString(R.string.loading)) }
        Ui.load(this, { reader ->
            val app = reader.apps().firstOrNull { it.appKey == key }
            val identity = looks.identity(intent.getIntExtra(EXTRA_UID, -1), app?.app)
            val window = app?.let { Timeline.window(it.firstUs, it.lastUs) }
            val points = window?.let { reader.timeline(key, it.startUs, it.bucketUs, it.buckets.toUInt()) }.orEmpty()
            Detail(identity, looks.icon(identity), app, reader.destinations(key, DESTINATIONS.toUInt()), window,
                window?.let { Timeline.bars(it, points) }.orEmpty(), reader.alerts(PageRequest(key, null, ALERTS.toUInt())))
        }) { detail -> render(detail, looks) }
    }

    private fun render(detail: Detail, looks: AppLooks) {
        title = detail.identity.label
        Ui.page(this) {
            card {
                listRow(detail.identity.label, looks.subtitle(detail.identity), detail.icon,
                    listOfNotNull(detail.app?.maxSeverity?.let { Widgets.severityChip(context, it) }) + looks.chips(detail.identity), lines = 3)
                detail.app?.let { app ->
                    figures(listOf(app.flows.toString() to getString(R.string.figure_flows), Ui.bytes(app.bytesOut.toLong()) to getString(R.string.figure_sent),
                        Ui.bytes(app.bytesIn.toLong()) to getString(R.string.figure_received), app.alerts.toString() to getString(R.string.figure_alerts)))
                    note(getString(R.string.app_seen, Ui.time(app.firstUs), Ui.time(app.lastUs)))
                }
            }
            section(getString(R.string.timeline))
            card {
                val window = detail.window
                if (window == null) {
                    empty(getString(R.string.nothing_recorded))
                } else {
                    framed(BarsView(context, detail.bars), 72)
                    note(getString(R.string.timeline_range, Ui.time(window.startUs), Ui.time(window.startUs + window.buckets * window.bucketUs),
                        Timeline.widthLabel(window.bucketUs)))
                }
            }
            section(getString(R.string.destinations))
            card {
                if (detail.destinations.isEmpty()) empty(getString(R.string.nothing_recorded))
                detail.destinations.forEach { destination ->
                    listRow(destination.destination, destinationFacts(destination), null,
                        listOfNotNull(destination.country?.let { Widgets.tagChip(context, it) }),
                        trailing = Ui.bytes(destination.bytes.toLong()), lines = 3)
                }
            }
            section(getString(R.string.screen_alerts))
            card {
                if (detail.alerts.isEmpty()) empty(getString(R.string.no_alerts_app))
                detail.alerts.forEach { item ->
                    val alert = item.record
                    listRow(AlertText.kind(context, alert.kind), "${alert.host ?: alert.dstIp} — ${alert.evidence}", null,
                        listOf(Widgets.severityChip(context, alert.severity)), trailing = Ui.time(alert.ts).substringAfter(' '), lines = 3) {
                        Ui.open(this@AppDetailActivity, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
                    }
                }
            }
            section(getString(R.string.flows))
            val box = card { }
            flowList = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            box.addView(flowList)
            more = box.textButton(getString(R.string.load_more)) { loadFlows() }
        }
        loadFlows()
    }

    private fun destinationFacts(destination: DestinationSummary): String = listOfNotNull(
        destination.asOrg?.let { org -> destination.asn?.let { "AS$it $org" } ?: org },
        destination.networkOwner?.let { getString(R.string.network_owner, company(it)) },
        destination.domainOwner?.let { getString(R.string.domain_owner, company(it)) },
        getString(R.string.destination_flows, Ui.count(this, R.plurals.flows_count, destination.flows.toLong()), Ui.time(destination.lastUs)),
    ).joinToString(" · ")

    private fun loadFlows() {
        val request = flows.next() ?: return
        val explain = { message: String -> flows.failed(); flowList.empty(message); Unit }
        Ui.load(this, { reader -> reader.flows(request) }, explain) { page ->
            flows.add(page)
            if (flows.items.isEmpty()) flowList.empty(getString(R.string.nothing_recorded))
            page.forEach { item ->
                val flow = item.record
                flowList.listRow("${flow.host ?: flow.dstIp}", "${flow.proto} ${flow.dstIp} port ${flow.dstPort} · ${Ui.time(flow.firstSeen)}", null,
                    listOfNotNull(flow.severity?.let { Widgets.severityChip(this, it) }),
                    trailing = "↑ ${Ui.bytes(flow.bytesOut.toLong())}\n↓ ${Ui.bytes(flow.bytesIn.toLong())}") {
                    Ui.open(this, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(item)) }
                }
            }
            more.visibility = if (flows.hasMore) android.view.View.VISIBLE else android.view.View.GONE
        }
    }

    companion object {
        const val EXTRA_KEY = "app_key"
        const val EXTRA_UID = "uid"
        private const val PAGE = 50
        private const val MAX_FLOWS = 2_000
        private const val DESTINATIONS = 100
        private const val ALERTS = 50

        fun company(company: Company) = "${company.name} (${company.country})"
    }
}
