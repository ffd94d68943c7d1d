package org.phonehome.ui

import android.app.Activity
import android.os.Bundle
import android.widget.Toast
import org.phonehome.R
import org.phonehome.model.AlertRecord
import org.phonehome.model.AlertKind
import org.phonehome.model.FlowRecord
import org.phonehome.model.Proto
import org.phonehome.model.Severity
import org.phonehome.core.FlowDetail
import org.phonehome.store.StoredFlow
import org.phonehome.settings.Settings
import org.phonehome.ui.Ui.button
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.text
import org.phonehome.vpn.PhonehomeVpnService

/** Every field of one flow from the history, its evidence and alerts, owners, and the blocking actions. */
class FlowDetailActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val ref = FlowRef.from(intent.extras ?: Bundle())
        Ui.page(this) { text(getString(if (ref == null) R.string.flow_not_kept else R.string.loading)) }
        ref ?: return
        Ui.load(this, { reader ->
            when (ref) {
                is FlowRef.Stored -> reader.flow(ref.id)
                is FlowRef.OfAlert -> reader.flowOfAlert(ref.alert)
            }
        }) { detail -> render(detail ?: FlowDetail(null, emptyList(), null, null)) }
    }

    private fun render(detail: FlowDetail) {
        val flow = detail.flow?.record
        val evidence = detail.flow?.evidence.orEmpty()
        val alerts = detail.alerts
        val settings = Settings(this)
        Ui.page(this) {
            val first = alerts.firstOrNull()
            val dstIp = flow?.dstIp ?: first?.dstIp
            heading(getString(R.string.flow_title, (flow?.proto ?: first?.proto)?.name ?: "?", dstIp ?: "?",
                (flow?.dstPort ?: first?.dstPort)?.toInt() ?: 0))
            if (flow == null) text(getString(R.string.flow_not_kept))
            flow?.let { text(FlowFields.of(it).joinToString("\n") { (name, value) -> "$name: $value" }) }
            detail.networkOwner?.let { text(getString(R.string.network_owner, AppDetailActivity.company(it))) }
            detail.domainOwner?.let { text(getString(R.string.domain_owner, AppDetailActivity.company(it))) }
            val dnsNames = flow?.dnsNames.orEmpty()
            if (dnsNames.isNotEmpty()) text(getString(R.string.dns_names, dnsNames.joinToString(", ")))
            if (evidence.isNotEmpty()) {
                heading(getString(R.string.evidence))
                text(evidence.joinToString("\n"))
            }
            alerts.forEach { alert ->
                heading("${alert.severity.name.lowercase()} · ${alert.kind.name.lowercase()}")
                text(listOfNotNull(Ui.time(alert.ts), alert.evidence, alert.identifier?.let { "identifier: $it" },
                    alert.encoding?.let { "encoding: $it" }, alert.owner?.let { "owner: $it" }).joinToString("\n"))
            }
            heading(getString(R.string.blocking))
            val host = flow?.host ?: alerts.firstNotNullOfOrNull { it.host }
            val country = flow?.country ?: alerts.firstNotNullOfOrNull { it.country }
            val uid = flow?.uid ?: alerts.firstNotNullOfOrNull { it.uid }
            val rules = listOfNotNull(dstIp?.let { "ip:$it" }, host?.let { "domain:$it" }, country?.let { "country:$it" }, uid?.let { "uid:$it" })
            rules.forEach { rule ->
                button(getString(R.string.block_rule, rule)) {
                    settings.block(rule)
                    PhonehomeVpnService.applyBlockRules(this@FlowDetailActivity)
                    Toast.makeText(this@FlowDetailActivity, getString(R.string.blocked_rule, rule), Toast.LENGTH_SHORT).show()
                }
            }
        }
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

/** Every field of a flow as `name: value`, in the export's column order, empty ones left out. */
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
    ).mapNotNull { (name, value) -> value?.takeIf { it.isNotEmpty() }?.let { name to it } }
}
