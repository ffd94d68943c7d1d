package org.phonehome.ui

import android.app.Activity
import android.graphics.drawable.Drawable
import android.os.Bundle
import android.widget.Toast
import org.phonehome.R
import org.phonehome.apps.AppIdentity
import org.phonehome.model.AlertKind
import org.phonehome.model.AlertRecord
import org.phonehome.model.FlowRecord
import org.phonehome.model.Proto
import org.phonehome.model.Severity
import org.phonehome.core.FlowDetail
import org.phonehome.store.StoredFlow
import org.phonehome.settings.Settings
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.fields
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.note
import org.phonehome.ui.Widgets.section
import org.phonehome.ui.Widgets.text
import org.phonehome.vpn.PhonehomeVpnService

/** Every field of one flow from the history, its evidence and alerts, owners, and the blocking actions. */
class FlowDetailActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val ref = FlowRef.from(intent.extras ?: Bundle())
        Ui.page(this) { text(getString(if (ref == null) R.string.flow_not_kept else R.string.loading)) }
        ref ?: return
        val looks = AppLooks(this)
        Ui.load(this, { reader ->
            val detail = when (ref) {
                is FlowRef.Stored -> reader.flow(ref.id)
                is FlowRef.OfAlert -> reader.flowOfAlert(ref.alert)
            } ?: FlowDetail(null, emptyList(), null, null)
            val flow = detail.flow?.record
            val identity = looks.identity((flow?.uid ?: detail.alerts.firstNotNullOfOrNull { it.uid })?.toInt(),
                flow?.app ?: detail.alerts.firstNotNullOfOrNull { it.app })
            Triple(detail, identity, looks.icon(identity))
        }) { (detail, identity, icon) -> render(detail, identity, icon, looks) }
    }

    private fun render(detail: FlowDetail, identity: AppIdentity, icon: Drawable?, looks: AppLooks) {
        val flow = detail.flow?.record
        val evidence = detail.flow?.evidence.orEmpty()
        val alerts = detail.alerts
        val first = alerts.firstOrNull()
        val dstIp = flow?.dstIp ?: first?.dstIp
        val host = flow?.host ?: alerts.firstNotNullOfOrNull { it.host }
        Ui.page(this) {
            card {
                listRow(host ?: dstIp ?: "?", getString(R.string.flow_title, (flow?.proto ?: first?.proto)?.name ?: "?", dstIp ?: "?",
                    (flow?.dstPort ?: first?.dstPort)?.toInt() ?: 0), null,
                    listOfNotNull((flow?.severity ?: alerts.maxOfOrNull { it.severity })?.let { Widgets.severityChip(context, it) }), lines = 2)
                listRow(identity.label, looks.subtitle(identity), icon, looks.chips(identity))
                if (flow == null) note(getString(R.string.flow_not_kept))
            }
            alerts.forEach { alert ->
                section(AlertText.kind(context, alert.kind))
                card {
                    listRow(alert.evidence, Ui.time(alert.ts), null, listOf(Widgets.severityChip(context, alert.severity)), lines = 6)
                    fields(listOfNotNull(alert.identifier?.let { getString(R.string.field_identifier) to it },
                        alert.encoding?.let { getString(R.string.field_encoding) to it }, alert.owner?.let { getString(R.string.field_owner) to it }))
                }
            }
            if (evidence.isNotEmpty()) {
                section(getString(R.string.evidence))
                card { evidence.forEach { note(it) } }
            }
            section(getString(R.string.flow_details))
            card {
                flow?.let { fields(FlowFields.of(it)) }
                fields(listOfNotNull(
                    detail.networkOwner?.let { getString(R.string.field_network_owner) to AppDetailActivity.company(it) },
                    detail.domainOwner?.let { getString(R.string.field_domain_owner) to AppDetailActivity.company(it) },
                    flow?.dnsNames?.takeIf { it.isNotEmpty() }?.let { getString(R.string.field_dns_names) to it.joinToString(", ") },
                ))
            }
            section(getString(R.string.blocking))
            card {
                note(getString(R.string.blocking_help))
                val country = flow?.country ?: alerts.firstNotNullOfOrNull { it.country }
                val uid = flow?.uid ?: alerts.firstNotNullOfOrNull { it.uid }
                listOfNotNull(
                    uid?.let { "uid:$it" to getString(R.string.block_app, identity.label) },
                    host?.let { "domain:$it" to getString(R.string.block_domain, it) },
                    country?.let { "country:$it" to getString(R.string.block_country, it) },
                    dstIp?.let { "ip:$it" to getString(R.string.block_server, it) },
                ).forEach { (rule, label) ->
                    listRow(label, null, Widgets.symbol(context, R.drawable.ic_block)) { block(rule, label) }
                }
            }
        }
    }

    private fun block(rule: String, label: String) {
        Settings(this).block(rule)
        PhonehomeVpnService.applyBlockRules(this)
        Toast.makeText(this, getString(R.string.blocked_rule, label), Toast.LENGTH_SHORT).show()
    }

    companion object {
        fun extrasFor(item: StoredFlow): Bundle = FlowRef.Stored(item.id).toBundle()
        fun extrasFor(alert: AlertRecord): Bundle = FlowRef.of(alert).toBundle()
    }
}

/** Which flow a screen or a notification opens: a stored flow by its row, or the flow an alert is about. */
sealed class FlowRef {
    data class Stored(val id: Long) : FlowRef()
    /** The alert's connection and time: what finds its flow (the other fields are not carried). */
    data class OfAlert(val alert: AlertRecord) : FlowRef()

    fun toBundle() = Bundle().apply {
        when (this@FlowRef) {
            is Stored -> putLong(FLOW_ID, id)
            is OfAlert -> {
                putString("proto", alert.proto.name); putString("src_ip", alert.srcIp); putInt("src_port", alert.srcPort.toInt())
                putString("dst_ip", alert.dstIp); putInt("dst_port", alert.dstPort.toInt()); putLong("ts", alert.ts)
                putString("kind", alert.kind.name); putString("severity", alert.severity.name)
            }
        }
    }

    companion object {
        private const val FLOW_ID = "flow_id"

        fun of(alert: AlertRecord) = OfAlert(alert)

        /** The reference in [extras]; null when they hold none. */
        fun from(extras: Bundle): FlowRef? = when {
            extras.containsKey(FLOW_ID) -> Stored(extras.getLong(FLOW_ID))
            extras.containsKey("ts") -> runCatching {
                OfAlert(AlertRecord(extras.getLong("ts"), Severity.valueOf(extras.getString("severity", "")),
                    AlertKind.valueOf(extras.getString("kind", "")), Proto.valueOf(extras.getString("proto", "")),
                    extras.getString("src_ip", ""), extras.getInt("src_port").toUShort(), extras.getString("dst_ip", ""),
                    extras.getInt("dst_port").toUShort(), null, null, null, null, null, null, null, null, "", null))
            }.getOrNull()
            else -> null
        }
    }
}

/** Every field of a flow as (name, value), named and ordered as the CSV export's columns, empty ones left out. */
object FlowFields {
    fun of(f: FlowRecord): List<Pair<String, String>> = listOf(
        "first_seen" to Ui.time(f.firstSeen), "last_seen" to Ui.time(f.lastSeen), "proto" to f.proto.name,
        "src" to "${f.srcIp}:${f.srcPort}", "dst" to "${f.dstIp}:${f.dstPort}",
        "uid" to f.uid?.toString(), "app" to f.app, "l7" to f.l7?.name, "host" to f.host,
        "host_source" to f.hostSource?.name?.lowercase(),
        "country" to f.country, "asn" to f.asn?.toString(), "as_org" to f.asOrg,
        "bytes_out" to f.bytesOut.toString(), "packets_out" to f.packetsOut.toString(),
        "bytes_in" to f.bytesIn.toString(), "packets_in" to f.packetsIn.toString(),
        "severity" to f.severity?.name?.lowercase(), "flags" to f.flags.joinToString(";"),
        "tcp_state" to f.tcpState?.name?.lowercase(), "tls_version" to f.tlsVersion, "alpn" to f.alpn.joinToString(";"),
        "ja4" to f.ja4, "ech" to f.ech?.toString(),
        "http_method" to f.httpMethod, "http_path" to f.httpPath, "user_agent" to f.userAgent,
    ).mapNotNull { (name, value) -> value?.takeIf { it.isNotEmpty() }?.let { name.replace('_', ' ') to it } }
}
