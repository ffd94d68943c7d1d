package org.phonehome.ui

import android.app.Activity
import android.graphics.Typeface
import android.os.Bundle
import android.widget.Button
import android.widget.ImageView
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.apps.AndroidPackageLookup
import org.phonehome.apps.UidNamer
import org.phonehome.store.StoredAlert
import org.phonehome.store.AppSummary
import org.phonehome.model.Company
import org.phonehome.store.DestinationSummary
import org.phonehome.store.StoredFlow
import org.phonehome.store.Cursor
import org.phonehome.core.PageRequest
import org.phonehome.history.Pager
import org.phonehome.history.Timeline
import org.phonehome.ui.Ui.button
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text

/** One app from the history: its destinations with country and owners, a timeline, its alerts and its flows. */
class AppDetailActivity : Activity() {
    private lateinit var key: String
    private lateinit var flows: Pager<StoredFlow>
    private lateinit var flowList: LinearLayout
    private lateinit var more: Button

    /** What the screen shows, read in one go on the history thread. */
    private class Detail(
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
        Ui.page(this) { text(getString(R.string.loading)) }
        Ui.load(this, { reader ->
            val app = reader.apps().firstOrNull { it.appKey == key }
            val window = app?.let { Timeline.window(it.firstUs, it.lastUs) }
            val points = window?.let { reader.timeline(key, it.startUs, it.bucketUs, it.buckets.toUInt()) }.orEmpty()
            Detail(app, reader.destinations(key, DESTINATIONS.toUInt()), window,
                window?.let { Timeline.bars(it, points) }.orEmpty(), reader.alerts(PageRequest(key, null, ALERTS.toUInt())))
        }, show = ::render)
    }

    private fun render(detail: Detail) {
        val uid = intent.getIntExtra(EXTRA_UID, -1)
        val identity = UidNamer(AndroidPackageLookup(packageManager)).identify(uid)
        Ui.page(this) {
            identity.packages.firstOrNull()?.let { pkg ->
                runCatching { packageManager.getApplicationIcon(pkg) }.getOrNull()?.let { icon ->
                    addView(ImageView(context).apply { setImageDrawable(icon) })
                }
            }
            heading(if (uid >= 0) identity.label else detail.app?.app ?: getString(R.string.unknown_app))
            if (uid >= 0) {
                text(getString(R.string.app_facts, uid, identity.packages.joinToString(", "),
                    getString(if (identity.system) R.string.tag_system else R.string.tag_user)))
            }
            detail.app?.let { app ->
                text(getString(R.string.app_totals, app.flows.toLong(), Ui.bytes(app.bytesOut.toLong()), Ui.bytes(app.bytesIn.toLong()),
                    app.alerts.toLong(), Ui.time(app.firstUs), Ui.time(app.lastUs)))
            }
            heading(getString(R.string.destinations))
            if (detail.destinations.isEmpty()) text(getString(R.string.nothing_recorded))
            detail.destinations.forEach { destination ->
                row(destination.destination, destinationFacts(destination), null)
            }
            heading(getString(R.string.timeline))
            detail.window?.let { window ->
                text(getString(R.string.timeline_range, Ui.time(window.startUs), Ui.time(window.startUs + window.buckets * window.bucketUs),
                    window.bucketUs / 60_000_000L))
                text(Timeline.sparkline(detail.bars) + "\n" + Timeline.alertMarks(detail.bars)).typeface = Typeface.MONOSPACE
            } ?: text(getString(R.string.nothing_recorded))
            heading(getString(R.string.screen_alerts))
            if (detail.alerts.isEmpty()) text(getString(R.string.no_alerts))
            detail.alerts.forEach { item ->
                val alert = item.record
                row("${Ui.time(alert.ts)} · ${alert.severity.name.lowercase()} · ${alert.kind.name.lowercase()}", alert.evidence) {
                    Ui.open(this@AppDetailActivity, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
                }
            }
            heading(getString(R.string.flows))
            flowList = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            addView(flowList)
            more = button(getString(R.string.load_more)) { loadFlows() }
        }
        loadFlows()
    }

    private fun destinationFacts(destination: DestinationSummary): String = listOfNotNull(
        destination.country,
        destination.asOrg?.let { org -> destination.asn?.let { "AS$it $org" } ?: org },
        destination.networkOwner?.let { getString(R.string.network_owner, company(it)) },
        destination.domainOwner?.let { getString(R.string.domain_owner, company(it)) },
        "${destination.flows} flows · ${Ui.bytes(destination.bytes.toLong())}",
        getString(R.string.last_contact, Ui.time(destination.lastUs)),
    ).joinToString(" · ")

    private fun loadFlows() {
        val request = flows.next() ?: return
        val explain = { message: String -> flows.failed(); flowList.text(message); Unit }
        Ui.load(this, { reader -> reader.flows(request) }, explain) { page ->
            flows.add(page)
            page.forEach { item ->
                val flow = item.record
                flowList.row("${Ui.time(flow.firstSeen)} ${flow.proto} ${flow.host ?: flow.dstIp}:${flow.dstPort}",
                    "${Ui.bytes(flow.bytesOut.toLong())} ↑ ${Ui.bytes(flow.bytesIn.toLong())} ↓ ${flow.severity?.name?.lowercase() ?: ""}") {
                    Ui.open(this, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(item)) }
                }
            }
            more.isEnabled = flows.hasMore
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
